/*
 * VMX operation on this CPU (Intel SDM Vol. 3C, 24.7 "Enabling and entering VMX operation") and
 * the VMX instruction wrappers. VMXON needs CR4.VMXE, the CR0/CR4 bits that
 * IA32_VMX_CR{0,4}_FIXED{0,1} fix (A.7, A.8), IA32_FEATURE_CONTROL locked with "VMXON outside
 * SMX" set, and a 4 KiB VMXON region that starts with the VMCS revision identifier.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cr.h"
#include "arch/x86/msr.h"
#include "arch/x86/vmx.h"
#include "kernel/arch.h"
#include "kernel/arch_vmx.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "mm/pmm.h"

static bool vmx_on;
static uint64_t vmxon_region_phys;

bool arch_vmx_enabled(void)
{
    return vmx_on;
}

void vmx_field_error(const char *insn, uint32_t field, uint64_t value)
{
    uint64_t err = 0;
    uint8_t fail;
    /* The error number is only meaningful with a current VMCS (VMfailValid). */
    __asm__ volatile("vmread %2, %0\n\tsetna %1"
                     : "=r"(err), "=qm"(fail)
                     : "r"((uint64_t)VMCS_VM_INSTRUCTION_ERROR)
                     : "cc");
    log_err("vmx: %s of field %#x (value %#llx) failed: %s", insn, field,
            (unsigned long long)value, fail ? "no current VMCS" : vmx_instruction_error_name((uint32_t)err));
}

/* The CF/ZF convention of every VMX instruction (Vol. 3C, 31.2). */
static civic_err vmx_check(const char *insn, uint8_t cf, uint8_t zf)
{
    if (!cf && !zf)
        return CIVIC_OK;
    if (cf) {
        log_err("vmx: %s failed (VMfailInvalid)", insn);
    } else {
        uint32_t err = (uint32_t)vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
        log_err("vmx: %s failed: error %u, %s", insn, err, vmx_instruction_error_name(err));
    }
    return trace_error(CIVIC_EIO);
}

civic_err vmx_vmclear(uint64_t vmcs_phys)
{
    uint8_t cf, zf;
    __asm__ volatile("vmclear %2\n\tsetc %0\n\tsetz %1"
                     : "=qm"(cf), "=qm"(zf)
                     : "m"(vmcs_phys)
                     : "cc", "memory");
    return vmx_check("vmclear", cf, zf);
}

civic_err vmx_vmptrld(uint64_t vmcs_phys)
{
    uint8_t cf, zf;
    __asm__ volatile("vmptrld %2\n\tsetc %0\n\tsetz %1"
                     : "=qm"(cf), "=qm"(zf)
                     : "m"(vmcs_phys)
                     : "cc", "memory");
    return vmx_check("vmptrld", cf, zf);
}

civic_err vmx_invept(unsigned type, uint64_t eptp)
{
    struct {
        uint64_t eptp, reserved;
    } desc = {eptp, 0};
    uint8_t cf, zf;
    __asm__ volatile("invept %2, %3\n\tsetc %0\n\tsetz %1"
                     : "=qm"(cf), "=qm"(zf)
                     : "m"(desc), "r"((uint64_t)type)
                     : "cc", "memory");
    return vmx_check("invept", cf, zf);
}

civic_err vmx_invvpid(unsigned type, uint16_t vpid, uint64_t linear)
{
    struct {
        uint64_t vpid, linear;
    } desc = {vpid, linear};
    uint8_t cf, zf;
    __asm__ volatile("invvpid %2, %3\n\tsetc %0\n\tsetz %1"
                     : "=qm"(cf), "=qm"(zf)
                     : "m"(desc), "r"((uint64_t)type)
                     : "cc", "memory");
    return vmx_check("invvpid", cf, zf);
}

const char *vmx_instruction_error_name(uint32_t error)
{
    switch (error) {
    case VMXERR_VMCALL_IN_ROOT: return "VMCALL executed in VMX root operation";
    case VMXERR_VMCLEAR_INVALID_ADDRESS: return "VMCLEAR with invalid physical address";
    case VMXERR_VMCLEAR_VMXON_POINTER: return "VMCLEAR with VMXON pointer";
    case VMXERR_VMLAUNCH_NONCLEAR_VMCS: return "VMLAUNCH with non-clear VMCS";
    case VMXERR_VMRESUME_NONLAUNCHED_VMCS: return "VMRESUME with non-launched VMCS";
    case VMXERR_VMRESUME_AFTER_VMXOFF: return "VMRESUME after VMXOFF";
    case VMXERR_ENTRY_INVALID_CONTROL_FIELD: return "VM entry with invalid control field(s)";
    case VMXERR_ENTRY_INVALID_HOST_STATE_FIELD: return "VM entry with invalid host-state field(s)";
    case VMXERR_VMPTRLD_INVALID_ADDRESS: return "VMPTRLD with invalid physical address";
    case VMXERR_VMPTRLD_VMXON_POINTER: return "VMPTRLD with VMXON pointer";
    case VMXERR_VMPTRLD_INCORRECT_REVISION: return "VMPTRLD with incorrect VMCS revision identifier";
    case VMXERR_UNSUPPORTED_VMCS_COMPONENT:
        return "VMREAD/VMWRITE from/to unsupported VMCS component";
    case VMXERR_VMWRITE_READ_ONLY_COMPONENT: return "VMWRITE to read-only VMCS component";
    case VMXERR_VMXON_IN_ROOT: return "VMXON executed in VMX root operation";
    case VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS_POINTER:
        return "VM entry with invalid executive-VMCS pointer";
    case VMXERR_ENTRY_NONLAUNCHED_EXECUTIVE_VMCS: return "VM entry with non-launched executive VMCS";
    case VMXERR_ENTRY_EXECUTIVE_VMCS_NOT_VMXON_POINTER:
        return "VM entry with executive-VMCS pointer not VMXON pointer";
    case VMXERR_VMCALL_NONCLEAR_VMCS: return "VMCALL with non-clear VMCS";
    case VMXERR_VMCALL_INVALID_EXIT_CONTROL_FIELDS: return "VMCALL with invalid VM-exit control fields";
    case VMXERR_VMCALL_INCORRECT_MSEG_REVISION: return "VMCALL with incorrect MSEG revision identifier";
    case VMXERR_VMXOFF_UNDER_DUAL_MONITOR:
        return "VMXOFF under dual-monitor treatment of SMIs and SMM";
    case VMXERR_VMCALL_INVALID_SMM_MONITOR_FEATURES: return "VMCALL with invalid SMM-monitor features";
    case VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS_CONTROLS:
        return "VM entry with invalid VM-execution control fields in executive VMCS";
    case VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS: return "VM entry with events blocked by MOV SS";
    case VMXERR_INVALID_INVEPT_INVVPID_OPERAND: return "invalid operand to INVEPT/INVVPID";
    default: return "unknown VM-instruction error";
    }
}

/* Makes IA32_FEATURE_CONTROL allow VMXON outside SMX, locking it if firmware left it open. */
static civic_err feature_control_enable(void)
{
    uint64_t fc = rdmsr(IA32_FEATURE_CONTROL);
    if (!(fc & IA32_FEATURE_CONTROL_LOCK)) {
        fc |= IA32_FEATURE_CONTROL_LOCK | IA32_FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
        wrmsr(IA32_FEATURE_CONTROL, fc);
    }
    if (!(fc & IA32_FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
        log_err("vmx: IA32_FEATURE_CONTROL is locked without VMXON outside SMX");
        return trace_error(CIVIC_ENOTSUP);
    }
    return CIVIC_OK;
}

civic_err arch_vmx_enable(void)
{
    if (vmx_on)
        return CIVIC_OK;
    const struct vmx_caps *caps = &cpu_get()->vmx;
    if (!caps->usable) {
        log_err("vmx: not usable: %s", caps->missing ? caps->missing : "unknown reason");
        return trace_error(CIVIC_ENOTSUP);
    }
    civic_err e = feature_control_enable();
    if (e != CIVIC_OK)
        return e;

    /* FXSAVE64/FXRSTOR64 of guest state need CR4.OSFXSR (Vol. 1, 10.5.1). */
    uint64_t cr0 = read_cr0(), cr4 = read_cr4() | CR4_VMXE | CR4_OSFXSR;
    cr0 = (cr0 | rdmsr(IA32_VMX_CR0_FIXED0)) & rdmsr(IA32_VMX_CR0_FIXED1);
    cr4 = (cr4 | rdmsr(IA32_VMX_CR4_FIXED0)) & rdmsr(IA32_VMX_CR4_FIXED1);
    cr0 &= ~(CR0_TS | CR0_EM); /* FXSAVE must not fault */
    write_cr0(cr0);
    write_cr4(cr4);

    if (vmxon_region_phys == 0) {
        phys_addr_t p;
        if (pmm_alloc(0, &p) != CIVIC_OK) {
            log_err("vmx: no frame for the VMXON region");
            return trace_error(CIVIC_ENOMEM);
        }
        vmxon_region_phys = p;
    }
    uint32_t *region = phys_to_virt(vmxon_region_phys);
    memset(region, 0, 4096);
    region[0] = caps->revision_id;

    uint8_t cf, zf;
    __asm__ volatile("vmxon %2\n\tsetc %0\n\tsetz %1"
                     : "=qm"(cf), "=qm"(zf)
                     : "m"(vmxon_region_phys)
                     : "cc", "memory");
    if (cf || zf) {
        log_err("vmx: VMXON failed (%s)", cf ? "VMfailInvalid" : "VMfailValid");
        write_cr4(read_cr4() & ~CR4_VMXE);
        return trace_error(CIVIC_EIO);
    }
    e = vmx_bitmaps_init();
    if (e != CIVIC_OK)
        return e;
    /* Nothing of an earlier VMXON session may survive in the TLBs. */
    if (caps->invept)
        vmx_invept(INVEPT_ALL_CONTEXTS, 0);
    if (caps->invvpid)
        vmx_invvpid(INVVPID_ALL_CONTEXTS, 0, 0);
    vmx_on = true;
    log_info("vmx: VMXON on this CPU (revision %u)", caps->revision_id);
    return CIVIC_OK;
}
