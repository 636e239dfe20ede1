/*
 * RDMSR/WRMSR exits (Intel SDM Vol. 4 for the MSRs). The MSR bitmap (vmcs_setup.c) lets the
 * guest reach the MSRs the VMCS switches; the few others a guest kernel needs early are
 * emulated here; everything else is #GP, as for an MSR the CPU does not have.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cr.h"
#include "arch/x86/exit.h"
#include "arch/x86/msr.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmcs.h"
#include "arch/x86/vmx.h"
#include "kernel/log.h"

#define IA32_PLATFORM_ID 0x17
#define IA32_BIOS_SIGN_ID 0x8b /* microcode revision: Linux reads it without a fault handler */
/* Fast strings enabled; branch trace storage and PEBS unavailable (Vol. 4, Table 2-2). */
#define MISC_ENABLE_GUEST ((1ull << 0) | (1ull << 11) | (1ull << 12))
#define APIC_BASE_GUEST (0xfee00000ull | IA32_APIC_BASE_BSP | IA32_APIC_BASE_EN)

static bool read_msr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    switch (msr) {
    case IA32_EFER: *val = vmcs_read(VMCS_GUEST_IA32_EFER); return true;
    case IA32_PAT: *val = vmcs_read(VMCS_GUEST_IA32_PAT); return true;
    case IA32_SYSENTER_CS: *val = vmcs_read(VMCS_GUEST_IA32_SYSENTER_CS); return true;
    case IA32_SYSENTER_ESP: *val = vmcs_read(VMCS_GUEST_IA32_SYSENTER_ESP); return true;
    case IA32_SYSENTER_EIP: *val = vmcs_read(VMCS_GUEST_IA32_SYSENTER_EIP); return true;
    case IA32_FS_BASE: *val = vmcs_read(VMCS_GUEST_FS_BASE); return true;
    case IA32_GS_BASE: *val = vmcs_read(VMCS_GUEST_GS_BASE); return true;
    case IA32_KERNEL_GS_BASE: *val = rdmsr(IA32_KERNEL_GS_BASE); return true; /* loaded: ours */
    case IA32_MISC_ENABLE: *val = MISC_ENABLE_GUEST; return true;
    case IA32_APIC_BASE: *val = APIC_BASE_GUEST; return true;
    case IA32_TSC: *val = rdtsc(); return true; /* TSC offset 0 */
    case IA32_PLATFORM_ID:
    case IA32_BIOS_SIGN_ID: *val = 0; return true;
    default: return false;
    }
}

static bool canonical(uint64_t a)
{
    return (uint64_t)(((int64_t)a << 16) >> 16) == a;
}

/* EFER: SCE, LME and NXE (when the CPU has NX) are writable; LMA follows CR0.PG and LME;
 * LME cannot change while paging is on (Vol. 3A, 10.8.5). */
static bool write_efer(uint64_t val)
{
    uint64_t old = vmcs_read(VMCS_GUEST_IA32_EFER);
    uint64_t writable = IA32_EFER_SCE | IA32_EFER_LME | (cpu_get()->nx ? IA32_EFER_NXE : 0);
    if (val & ~(writable | IA32_EFER_LMA))
        return false;
    bool paging = (vmcs_read(VMCS_CR0_READ_SHADOW) & CR0_PG) != 0;
    if (paging && ((old ^ val) & IA32_EFER_LME))
        return false;
    vmcs_write(VMCS_GUEST_IA32_EFER, (val & writable) | (old & IA32_EFER_LMA));
    return true;
}

static bool write_msr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    switch (msr) {
    case IA32_EFER: return write_efer(val);
    case IA32_SYSENTER_CS: vmcs_write(VMCS_GUEST_IA32_SYSENTER_CS, val); return true;
    case IA32_SYSENTER_ESP:
        if (!canonical(val))
            return false;
        vmcs_write(VMCS_GUEST_IA32_SYSENTER_ESP, val);
        return true;
    case IA32_SYSENTER_EIP:
        if (!canonical(val))
            return false;
        vmcs_write(VMCS_GUEST_IA32_SYSENTER_EIP, val);
        return true;
    case IA32_FS_BASE:
        if (!canonical(val))
            return false;
        vmcs_write(VMCS_GUEST_FS_BASE, val);
        return true;
    case IA32_GS_BASE:
        if (!canonical(val))
            return false;
        vmcs_write(VMCS_GUEST_GS_BASE, val);
        return true;
    case IA32_BIOS_SIGN_ID: return true; /* writing 0 before CPUID is the documented probe */
    case IA32_MISC_ENABLE: return val == MISC_ENABLE_GUEST;
    case IA32_APIC_BASE: return val == APIC_BASE_GUEST;
    default: return false;
    }
}

enum exit_action exit_rdmsr(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    uint32_t msr = (uint32_t)av->regs.rcx;
    uint64_t val;
    if (!read_msr(v, msr, &val)) {
        log_debug("vmx: guest rdmsr %#x: #GP", msr);
        return vcpu_inject_gp0(v);
    }
    av->regs.rax = (uint32_t)val;
    av->regs.rdx = val >> 32;
    vcpu_advance_rip();
    return EXIT_RESUME;
}

enum exit_action exit_wrmsr(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    uint32_t msr = (uint32_t)av->regs.rcx;
    uint64_t val = ((av->regs.rdx & 0xffffffffu) << 32) | (av->regs.rax & 0xffffffffu);
    if (!write_msr(v, msr, val)) {
        log_debug("vmx: guest wrmsr %#x <- %#llx: #GP", msr, (unsigned long long)val);
        return vcpu_inject_gp0(v);
    }
    vcpu_advance_rip();
    return EXIT_RESUME;
}
