/*
 * RDMSR/WRMSR exits (Intel SDM Vol. 4 for the MSRs). The MSR bitmap (vmcs_setup.c) lets the
 * guest reach the MSRs the VMCS or civic switches; the others a guest kernel uses are emulated
 * here. Policy:
 *  - VMCS guest state (EFER, PAT, SYSENTER_*, FS/GS base): read and written with the checks of
 *    WRMSR (canonical addresses, valid PAT types, writable EFER bits);
 *  - the TSC (IA32_TSC, IA32_TSC_ADJUST) through the vCPU's TSC offset (msr_model.c);
 *  - the local APIC (IA32_APIC_BASE, IA32_TSC_DEADLINE, x2APIC 800H-8FFH): the kernel's LAPIC
 *    model (vmm_lapic_msr);
 *  - MTRRs stored per vCPU with their validity checks, without effect on memory types (EPT maps
 *    guest RAM write-back);
 *  - IA32_MISC_ENABLE fixed except fast strings; microcode and platform ID read 0; machine
 *    check (MCE and MCA are hidden) IA32_MCG_CAP/STATUS read 0;
 *  - speculation control only when the host has it (CPUID.(07H,0):EDX, shown to the guest the
 *    same way): SPEC_CTRL kept per vCPU, PRED_CMD and FLUSH_CMD commands passed on,
 *    ARCH_CAPABILITIES the host's;
 *  - everything else #GP, as for an MSR the CPU does not have.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid_model.h"
#include "arch/x86/cr.h"
#include "arch/x86/exit.h"
#include "arch/x86/msr.h"
#include "arch/x86/msr_model.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmcs.h"
#include "arch/x86/vmx.h"
#include "kernel/log.h"

static bool lapic_msr(uint32_t msr)
{
    return msr == IA32_APIC_BASE || msr == IA32_TSC_DEADLINE ||
           (msr >= IA32_X2APIC_BASE && msr <= IA32_X2APIC_LAST);
}

static uint64_t spec_ctrl_bits(void)
{
    uint32_t d = cpuid_host_7_edx();
    return ((d & CPUID_7_EDX_IBRS_IBPB) ? IA32_SPEC_CTRL_IBRS : 0) |
           ((d & CPUID_7_EDX_STIBP) ? IA32_SPEC_CTRL_STIBP : 0) |
           ((d & CPUID_7_EDX_SSBD) ? IA32_SPEC_CTRL_SSBD : 0);
}

static bool read_msr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    struct arch_vcpu *av = v->arch;
    if (lapic_msr(msr))
        return vmm_lapic_msr(v, msr, false, val);
    if (mtrr_msr(msr))
        return mtrr_read(&av->mtrr, msr, val);
    switch (msr) {
    case IA32_EFER: *val = vmcs_read(VMCS_GUEST_IA32_EFER); return true;
    case IA32_PAT: *val = vmcs_read(VMCS_GUEST_IA32_PAT); return true;
    case IA32_SYSENTER_CS: *val = vmcs_read(VMCS_GUEST_IA32_SYSENTER_CS); return true;
    case IA32_SYSENTER_ESP: *val = vmcs_read(VMCS_GUEST_IA32_SYSENTER_ESP); return true;
    case IA32_SYSENTER_EIP: *val = vmcs_read(VMCS_GUEST_IA32_SYSENTER_EIP); return true;
    case IA32_FS_BASE: *val = vmcs_read(VMCS_GUEST_FS_BASE); return true;
    case IA32_GS_BASE: *val = vmcs_read(VMCS_GUEST_GS_BASE); return true;
    case IA32_KERNEL_GS_BASE: *val = rdmsr(IA32_KERNEL_GS_BASE); return true; /* loaded: ours */
    case IA32_MISC_ENABLE: *val = av->misc_enable; return true;
    case IA32_TSC: *val = rdtsc() + av->tsc.offset; return true;
    case IA32_TSC_ADJUST: *val = av->tsc.adjust; return true;
    case IA32_PLATFORM_ID:
    case IA32_BIOS_SIGN_ID:
    case IA32_MCG_CAP:
    case IA32_MCG_STATUS: *val = 0; return true;
    case IA32_SPEC_CTRL: *val = av->spec_ctrl; return spec_ctrl_bits() != 0;
    case IA32_ARCH_CAPABILITIES:
        if (!(cpuid_host_7_edx() & CPUID_7_EDX_ARCH_CAPABILITIES))
            return false;
        *val = rdmsr(IA32_ARCH_CAPABILITIES);
        return true;
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

static bool write_canonical(enum vmcs_field field, uint64_t val)
{
    if (!canonical(val))
        return false;
    vmcs_write(field, val);
    return true;
}

/* A write-only command MSR: the command bit passed to the host's MSR, 0 accepted. */
static bool write_command(uint32_t msr, uint64_t val, uint32_t cpuid_bit, uint64_t command)
{
    if (!(cpuid_host_7_edx() & cpuid_bit) || (val & ~command))
        return false;
    if (val)
        wrmsr(msr, val);
    return true;
}

static bool write_msr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    struct arch_vcpu *av = v->arch;
    if (lapic_msr(msr))
        return vmm_lapic_msr(v, msr, true, &val);
    if (mtrr_msr(msr))
        return mtrr_write(&av->mtrr, msr, val, cpuid_host_phys_bits());
    switch (msr) {
    case IA32_EFER: return write_efer(val);
    case IA32_PAT:
        if (!pat_valid(val))
            return false;
        vmcs_write(VMCS_GUEST_IA32_PAT, val);
        return true;
    case IA32_SYSENTER_CS: vmcs_write(VMCS_GUEST_IA32_SYSENTER_CS, val); return true;
    case IA32_SYSENTER_ESP: return write_canonical(VMCS_GUEST_IA32_SYSENTER_ESP, val);
    case IA32_SYSENTER_EIP: return write_canonical(VMCS_GUEST_IA32_SYSENTER_EIP, val);
    case IA32_FS_BASE: return write_canonical(VMCS_GUEST_FS_BASE, val);
    case IA32_GS_BASE: return write_canonical(VMCS_GUEST_GS_BASE, val);
    case IA32_TSC:
        tsc_write(&av->tsc, rdtsc(), val);
        vmcs_write(VMCS_TSC_OFFSET, av->tsc.offset);
        return true;
    case IA32_TSC_ADJUST:
        tsc_adjust_write(&av->tsc, val);
        vmcs_write(VMCS_TSC_OFFSET, av->tsc.offset);
        return true;
    case IA32_BIOS_SIGN_ID: return true; /* writing 0 before CPUID is the documented probe */
    case IA32_MCG_STATUS: return val == 0;
    case IA32_MISC_ENABLE:
        if (!misc_enable_write_ok(val))
            return false;
        av->misc_enable = val;
        return true;
    case IA32_SPEC_CTRL:
        if (!spec_ctrl_bits() || (val & ~spec_ctrl_bits()))
            return false;
        av->spec_ctrl = val;
        wrmsr(IA32_SPEC_CTRL, val); /* this vCPU owns the CPU; vcpu.c switches it */
        return true;
    case IA32_PRED_CMD: return write_command(msr, val, CPUID_7_EDX_IBRS_IBPB, IA32_PRED_CMD_IBPB);
    case IA32_FLUSH_CMD:
        return write_command(msr, val, CPUID_7_EDX_L1D_FLUSH, IA32_FLUSH_CMD_L1D_FLUSH);
    default: return false;
    }
}

/* A guest probing MSRs (as escape does, or a kernel trying a model-specific one) would fill the
 * log ring: the first few #GPs per vCPU are logged, then only counted. */
#define MSR_GP_LOGGED 8

static enum exit_action msr_gp(struct vcpu *v, bool write, uint32_t msr, uint64_t val)
{
    struct arch_vcpu *av = v->arch;
    const char *more = av->msr_gp_count + 1 == MSR_GP_LOGGED ? " (further ones not logged)" : "";
    if (av->msr_gp_count < MSR_GP_LOGGED && write)
        log_debug("vmx: guest wrmsr %#x <- %#llx: #GP%s", msr, (unsigned long long)val, more);
    else if (av->msr_gp_count < MSR_GP_LOGGED)
        log_debug("vmx: guest rdmsr %#x: #GP%s", msr, more);
    av->msr_gp_count++;
    return vcpu_inject_gp0(v);
}

enum exit_action exit_rdmsr(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    uint32_t msr = (uint32_t)av->regs.rcx;
    uint64_t val = 0;
    if (!read_msr(v, msr, &val))
        return msr_gp(v, false, msr, 0);
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
    if (!write_msr(v, msr, val))
        return msr_gp(v, true, msr, val);
    vcpu_advance_rip();
    return EXIT_RESUME;
}
