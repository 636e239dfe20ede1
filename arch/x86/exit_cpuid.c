/*
 * CPUID exits: the host's values through the guest CPU model (cpuid_model.c), with the vCPU's
 * topology, the guest's XCR0 and CR4.OSXSAVE, and civic's XSAVE mask.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid_model.h"
#include "arch/x86/exit.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmx.h"
#include "arch/x86/xsave.h"
#include "kernel/arch_vmx.h"
#include "kernel/string.h"

/* Host facts read once: the leaf limits, the XSAVE layout, leaf 7 EDX, MAXPHYADDR. */
static struct {
    bool valid;
    uint32_t max_basic, max_ext, leaf7_edx;
    unsigned phys_bits;
    struct cpuid_xsave_component xsave[CPUID_XSAVE_COMPONENTS];
} host;

static void host_read(void)
{
    if (host.valid)
        return;
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    host.max_basic = a;
    cpuid(0x80000000u, 0, &a, &b, &c, &d);
    host.max_ext = a;
    if (host.max_basic >= 7) {
        cpuid(7, 0, &a, &b, &c, &d);
        host.leaf7_edx = d;
    }
    host.phys_bits = 36;
    if (host.max_ext >= 0x80000008u) {
        cpuid(0x80000008u, 0, &a, &b, &c, &d);
        host.phys_bits = a & 0xff;
    }
    if (xsave_supported()) {
        for (unsigned i = CPUID_XSAVE_FIRST_EXT; i < CPUID_XSAVE_COMPONENTS; i++) {
            cpuid(0xd, i, &a, &b, &c, &d);
            host.xsave[i].size = a;
            host.xsave[i].offset = b;
            host.xsave[i].align64 = (c & 2) != 0;
        }
    }
    host.valid = true;
}

uint32_t cpuid_host_7_edx(void)
{
    host_read();
    return host.leaf7_edx;
}

unsigned cpuid_host_phys_bits(void)
{
    host_read();
    return host.phys_bits;
}

enum exit_action exit_cpuid(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    host_read();
    struct cpuid_model_cfg cfg = {
        .vcpu_index = v->index,
        .vcpu_count = v->vm->vcpu_count,
        .xcr0_supported = xsave_supported(),
        .guest_xcr0 = av->xcr0,
        .guest_osxsave = (vmcs_read(VMCS_GUEST_CR4) & CR4_OSXSAVE) != 0,
        .rdtscp = vmx_rdtscp_enabled(),
        .tsc_khz = (uint32_t)(arch_tsc_hz() / 1000),
        .xsave = host.xsave,
    };
    uint32_t leaf = cpuid_model_leaf((uint32_t)av->regs.rax, host.max_basic, host.max_ext);
    uint32_t sub = (uint32_t)av->regs.rcx;
    uint32_t r[4] = {0, 0, 0, 0};
    if ((leaf & 0xf0000000u) != CPUID_HV_BASE)
        cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
    cpuid_model(&cfg, leaf, sub, r);
    av->regs.rax = r[0];
    av->regs.rbx = r[1];
    av->regs.rcx = r[2];
    av->regs.rdx = r[3];
    vcpu_advance_rip();
    return EXIT_RESUME;
}
