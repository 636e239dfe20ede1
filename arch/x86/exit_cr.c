/*
 * Control-register access exits (Intel SDM Vol. 3C, 26.1.3 and Table 28-3): writes that touch a
 * host-owned bit of CR0 or CR4 (vcpu_arch.h: VMCS_CR*_HOST_OWNED), CR8 (the TPR, emulated), and
 * CR3 on CPUs that force CR3 exiting. The checks are those of MOV to CR (SDM Vol. 2B).
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cr.h"
#include "arch/x86/exit.h"
#include "arch/x86/msr.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmcs.h"
#include "arch/x86/vmx.h"
#include "arch/x86/xsave.h"
#include "kernel/string.h"
#include "mm/guest_mem.h"

#define CR0_ET (1ull << 4)
/* CPUID hides VMX and SMX always, and XSAVE when civic does not switch XSAVE state. */
static uint64_t cr4_reserved_for_guest(void)
{
    return CR4_VMXE | CR4_SMXE | (xsave_supported() ? 0 : CR4_OSXSAVE);
}

/* The guest's linear translations change with paging mode: flush this VPID's TLB entries as the
 * MOV to CR would have. */
static void flush_guest_tlb(struct arch_vcpu *av)
{
    if (cpu_get()->vmx.invvpid)
        vmx_invvpid(INVVPID_SINGLE_CONTEXT, av->vpid, 0);
}

static bool pae_paging(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
    return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & IA32_EFER_LME);
}

/*
 * Legacy PAE paging under EPT takes its four PDPTEs from the VMCS at VM entry (Vol. 3C,
 * 29.3.2), so an emulated MOV to CR0/CR4/CR3 that (re)enters PAE paging loads them from guest
 * memory as the instruction would (Vol. 3A, 5.4.1). False: a reserved bit is set (#GP).
 */
#define PDPTE_P 1ull
#define PDPTE_RESERVED 0x1e6ull /* bits 2:1 and 8:5 */
static bool load_pdptes(struct vcpu *v, uint64_t cr3)
{
    uint64_t pdpte[4];
    if (guest_mem_read(v->vm->mem, cr3 & 0xffffffe0u, pdpte, sizeof pdpte) != CIVIC_OK)
        memset(pdpte, 0xff, sizeof pdpte); /* outside RAM reads as all ones: reserved bits */
    for (unsigned i = 0; i < 4; i++)
        if ((pdpte[i] & PDPTE_P) && (pdpte[i] & (PDPTE_RESERVED | (~0ull << 52))))
            return false;
    for (unsigned i = 0; i < 4; i++)
        vmcs_write((enum vmcs_field)(VMCS_GUEST_PDPTE0 + 2 * i), pdpte[i]);
    return true;
}

static uint64_t operand(uint64_t value)
{
    return vcpu_in_64bit_code() ? value : (value & 0xffffffffu);
}

static enum exit_action guest_write_cr0(struct vcpu *v, uint64_t val)
{
    uint64_t old = vmcs_read(VMCS_CR0_READ_SHADOW);
    uint64_t cr4 = vmcs_read(VMCS_CR4_READ_SHADOW);
    uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER);
    uint32_t entry = vmcs_read32(VMCS_ENTRY_CONTROLS);
    val |= CR0_ET; /* hard-wired to 1 */
    if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)))
        return vcpu_inject_gp0(v);
    if (!(old & CR0_PG) && (val & CR0_PG) && (efer & IA32_EFER_LME)) {
        /* Paging on with EFER.LME: IA-32e mode (Vol. 3A, 10.8.5). */
        if (!(cr4 & CR4_PAE))
            return vcpu_inject_gp0(v);
        efer |= IA32_EFER_LMA;
        entry |= ENTRY_IA32E_MODE_GUEST;
    } else if ((old & CR0_PG) && !(val & CR0_PG) && (efer & IA32_EFER_LMA)) {
        if (vcpu_in_64bit_code())
            return vcpu_inject_gp0(v);
        efer &= ~IA32_EFER_LMA;
        entry &= ~ENTRY_IA32E_MODE_GUEST;
    }
    if (pae_paging(val, cr4, efer) && !pae_paging(old, cr4, efer) &&
        !load_pdptes(v, vmcs_read(VMCS_GUEST_CR3)))
        return vcpu_inject_gp0(v);
    vmcs_write(VMCS_CR0_READ_SHADOW, val);
    vmcs_write(VMCS_GUEST_CR0, vmcs_guest_cr0_real(val));
    vmcs_write(VMCS_GUEST_IA32_EFER, efer);
    vmcs_write(VMCS_ENTRY_CONTROLS, entry);
    if ((old ^ val) & (CR0_PG | CR0_PE))
        flush_guest_tlb(v->arch);
    vcpu_advance_rip();
    return EXIT_RESUME;
}

static enum exit_action guest_write_cr4(struct vcpu *v, uint64_t val)
{
    uint64_t old = vmcs_read(VMCS_CR4_READ_SHADOW);
    uint64_t cr0 = vmcs_read(VMCS_CR0_READ_SHADOW);
    uint64_t efer = vmcs_read(VMCS_GUEST_IA32_EFER);
    uint64_t fixed1 = rdmsr(IA32_VMX_CR4_FIXED1);
    if ((val & cr4_reserved_for_guest()) || (val & ~fixed1))
        return vcpu_inject_gp0(v);
    if ((efer & IA32_EFER_LMA) && !(val & CR4_PAE))
        return vcpu_inject_gp0(v);
    if ((val & CR4_PCIDE) && !(old & CR4_PCIDE) &&
        (!(efer & IA32_EFER_LMA) || (vmcs_read(VMCS_GUEST_CR3) & 0xfff)))
        return vcpu_inject_gp0(v);
    if (pae_paging(cr0, val, efer) && !load_pdptes(v, vmcs_read(VMCS_GUEST_CR3)))
        return vcpu_inject_gp0(v);
    vmcs_write(VMCS_CR4_READ_SHADOW, val);
    vmcs_write(VMCS_GUEST_CR4, vmcs_guest_cr4_real(val));
    flush_guest_tlb(v->arch);
    vcpu_advance_rip();
    return EXIT_RESUME;
}

/* Bits 62:MAXPHYADDR of a 64-bit CR3 are reserved (Vol. 3A, 4.5.2): MOV to CR3 faults rather
 * than leave a value that fails the next VM entry (Vol. 3C, 27.3.1.1). */
static bool cr3_reserved_bits(uint64_t val)
{
    uint32_t a, b, c, d;
    cpuid(0x80000008u, 0, &a, &b, &c, &d);
    unsigned width = a & 0xff;
    if (width < 32 || width > 52)
        width = 36;
    return ((val & ~(1ull << 63)) >> width) != 0;
}

static enum exit_action guest_write_cr3(struct vcpu *v, uint64_t val)
{
    if (cr3_reserved_bits(val))
        return vcpu_inject_gp0(v);
    if (pae_paging(vmcs_read(VMCS_CR0_READ_SHADOW), vmcs_read(VMCS_CR4_READ_SHADOW),
                   vmcs_read(VMCS_GUEST_IA32_EFER)) &&
        !load_pdptes(v, val))
        return vcpu_inject_gp0(v);
    /* Bit 63 with CR4.PCIDE: "do not flush", never stored (Vol. 3A, 4.10.4.1). */
    vmcs_write(VMCS_GUEST_CR3, val & ~(1ull << 63));
    flush_guest_tlb(v->arch);
    vcpu_advance_rip();
    return EXIT_RESUME;
}

enum exit_action exit_cr_access(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    uint64_t q = e->qualification;
    unsigned cr = QUAL_CR_NUMBER(q), gpr = QUAL_CR_GPR(q);
    switch (QUAL_CR_ACCESS_TYPE(q)) {
    case QUAL_CR_ACCESS_MOV_TO_CR: {
        uint64_t val = operand(vcpu_gpr_read(av, gpr));
        switch (cr) {
        case 0: return guest_write_cr0(v, val);
        case 3: return guest_write_cr3(v, val);
        case 4: return guest_write_cr4(v, val);
        case 8:
            if (val > 15)
                return vcpu_inject_gp0(v);
            av->tpr = (uint8_t)val;
            vcpu_advance_rip();
            return EXIT_RESUME;
        }
        break;
    }
    case QUAL_CR_ACCESS_MOV_FROM_CR:
        if (cr == 3 || cr == 8) {
            vcpu_gpr_write(av, gpr, cr == 3 ? vmcs_read(VMCS_GUEST_CR3) : av->tpr);
            vcpu_advance_rip();
            return EXIT_RESUME;
        }
        break;
    case QUAL_CR_ACCESS_CLTS: {
        uint64_t cr0 = vmcs_read(VMCS_CR0_READ_SHADOW) & ~CR0_TS;
        vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
        vmcs_write(VMCS_GUEST_CR0, vmcs_read(VMCS_GUEST_CR0) & ~CR0_TS);
        vcpu_advance_rip();
        return EXIT_RESUME;
    }
    case QUAL_CR_ACCESS_LMSW: {
        /* LMSW loads PE, MP, EM and TS, and cannot clear PE (SDM Vol. 2A, LMSW). */
        uint64_t old = vmcs_read(VMCS_CR0_READ_SHADOW);
        uint64_t src = QUAL_CR_LMSW_SOURCE(q) & 0xf;
        return guest_write_cr0(v, (old & ~0xeull) | src | (old & CR0_PE));
    }
    }
    return vcpu_stop_dump(v, "unexpected control-register exit (qualification %#llx)",
                          (unsigned long long)q);
}
