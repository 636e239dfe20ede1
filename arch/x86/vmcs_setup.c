/*
 * VMCS contents (Intel SDM Vol. 3C, chapter 25): execution, exit and entry controls computed from
 * the capability MSRs (A.3-A.5), host state (25.5), the guest's initial state (25.4) for real
 * mode (unrestricted guest) and 32-bit protected mode, and the bitmaps every VMCS shares.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cr.h"
#include "arch/x86/gdt.h"
#include "arch/x86/msr.h"
#include "arch/x86/msr_model.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmx.h"
#include "arch/x86/xsave.h"
#include "kernel/arch.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "mm/pmm.h"

/* CPUID.80000001H:EDX[27]: the host has RDTSCP and IA32_TSC_AUX. */
#define CPUID_80000001_EDX_RDTSCP (1u << 27)

static uint64_t io_bitmap_a, io_bitmap_b, msr_bitmap;
static bool has_mtf, rdtscp;

bool vmx_has_monitor_trap_flag(void) { return has_mtf; }
bool vmx_rdtscp_enabled(void) { return rdtscp; }

/* RDTSCP (and RDPID) run natively when the VMCS may enable them and the host has them; they
 * read IA32_TSC_AUX, which civic then switches per vCPU. */
static bool rdtscp_usable(void)
{
    uint32_t a, b, c, d;
    cpuid(0x80000000u, 0, &a, &b, &c, &d);
    if (a < 0x80000001u)
        return false;
    cpuid(0x80000001u, 0, &a, &b, &c, &d);
    if (!(d & CPUID_80000001_EDX_RDTSCP))
        return false;
    bool t = cpu_get()->vmx.true_ctls;
    uint64_t proc = rdmsr(t ? IA32_VMX_TRUE_PROCBASED_CTLS : IA32_VMX_PROCBASED_CTLS);
    if (!((proc >> 32) & PROC_ACTIVATE_SECONDARY_CONTROLS))
        return false;
    return ((rdmsr(IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_ENABLE_RDTSCP) != 0;
}

uint64_t vmx_io_bitmap_a_phys(void) { return io_bitmap_a; }
uint64_t vmx_io_bitmap_b_phys(void) { return io_bitmap_b; }
uint64_t vmx_msr_bitmap_phys(void) { return msr_bitmap; }

/* Lets the guest access msr without an exit (both read and write). The MSR bitmap is four 1 KiB
 * bitmaps: read low, read high, write low, write high (Vol. 3C, 25.6.9). */
static void msr_passthrough(uint8_t *bm, uint32_t msr)
{
    unsigned base = (msr >= 0xc0000000u) ? 1024 : 0;
    uint32_t bit = msr & 0x1fff;
    bm[base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
    bm[2048 + base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

static civic_err alloc_filled(uint64_t *phys, uint8_t fill)
{
    if (*phys)
        return CIVIC_OK;
    phys_addr_t p;
    if (pmm_alloc(0, &p) != CIVIC_OK)
        return trace_error(CIVIC_ENOMEM);
    memset(phys_to_virt(p), fill, 4096);
    *phys = p;
    return CIVIC_OK;
}

civic_err vmx_bitmaps_init(void)
{
    /* Called once per VMXON, before any VMCS copies the host CR4: the host's XSAVE set-up
     * belongs with VMX, the only user of guest FPU state. */
    xsave_host_init();
    rdtscp = rdtscp_usable();
    /* Every port traps: devices are emulated or read as all ones (kernel/vmm.c decides). */
    if (alloc_filled(&io_bitmap_a, 0xff) || alloc_filled(&io_bitmap_b, 0xff) ||
        alloc_filled(&msr_bitmap, 0xff)) {
        log_err("vmx: no frame for the I/O and MSR bitmaps");
        return trace_error(CIVIC_ENOMEM);
    }
    /* Every MSR traps except those that are guest state anyway: the VMCS loads and saves
     * SYSENTER_*, FS/GS base and PAT on every entry and exit, and civic switches the SYSCALL MSRs
     * and KERNEL_GS_BASE per vCPU (SYSCALL and SWAPGS use them without exiting). The hardware
     * checks the values written (#GP for non-canonical bases and bad PAT types). */
    uint8_t *bm = phys_to_virt(msr_bitmap);
    static const uint32_t passthrough[] = {
        IA32_SYSENTER_CS, IA32_SYSENTER_ESP, IA32_SYSENTER_EIP, IA32_PAT,
        IA32_FS_BASE,     IA32_GS_BASE,      IA32_KERNEL_GS_BASE,
        IA32_STAR,        IA32_LSTAR,        IA32_CSTAR,        IA32_FMASK,
    };
    for (unsigned i = 0; i < sizeof passthrough / sizeof passthrough[0]; i++)
        msr_passthrough(bm, passthrough[i]);
    if (rdtscp)
        msr_passthrough(bm, IA32_TSC_AUX); /* switched per vCPU (vcpu.c) */
    return CIVIC_OK;
}

struct control_bit {
    uint32_t bit;
    const char *name;
};

/*
 * One control field: bits the CPU requires are forced to 1 (allowed-0 settings, low half of the
 * capability MSR), wanted bits must be allowed (high half) or the set-up fails naming the first
 * missing control, optional bits are set when allowed.
 */
static civic_err adjust_controls(const char *field, uint32_t msr, const struct control_bit *want,
                                 unsigned nwant, uint32_t optional, uint32_t *out)
{
    uint64_t cap = rdmsr(msr);
    uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);
    uint32_t v = must1 | (optional & may1);
    for (unsigned i = 0; i < nwant; i++) {
        if (!(may1 & want[i].bit)) {
            log_err("vmx: the CPU lacks the %s control \"%s\"", field, want[i].name);
            return trace_error(CIVIC_ENOTSUP);
        }
        v |= want[i].bit;
    }
    *out = v;
    return CIVIC_OK;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct control_bit pin_want[] = {
    {PIN_EXTERNAL_INTERRUPT_EXITING, "external-interrupt exiting"}, /* host keeps its IRQs */
    {PIN_NMI_EXITING, "NMI exiting"},
    {PIN_ACTIVATE_PREEMPTION_TIMER, "activate VMX-preemption timer"}, /* time slices */
};
static const struct control_bit proc_want[] = {
    {PROC_USE_TSC_OFFSETTING, "use TSC offsetting"}, /* guest TSC = host TSC + offset */
    {PROC_HLT_EXITING, "HLT exiting"},
    {PROC_MWAIT_EXITING, "MWAIT exiting"},
    {PROC_RDPMC_EXITING, "RDPMC exiting"},
    {PROC_CR8_LOAD_EXITING, "CR8-load exiting"}, /* CR8 would be the host's TPR */
    {PROC_CR8_STORE_EXITING, "CR8-store exiting"},
    {PROC_USE_IO_BITMAPS, "use I/O bitmaps"},
    {PROC_USE_MSR_BITMAPS, "use MSR bitmaps"},
    {PROC_MONITOR_EXITING, "MONITOR exiting"},
    {PROC_ACTIVATE_SECONDARY_CONTROLS, "activate secondary controls"},
};
static const struct control_bit proc2_want[] = {
    {PROC2_ENABLE_EPT, "enable EPT"},
    {PROC2_ENABLE_VPID, "enable VPID"},
    {PROC2_UNRESTRICTED_GUEST, "unrestricted guest"},
};
static const struct control_bit exit_want[] = {
    {EXIT_SAVE_DEBUG_CONTROLS, "save debug controls"},
    {EXIT_HOST_ADDRESS_SPACE_SIZE, "host address-space size"},
    {EXIT_SAVE_IA32_PAT, "save IA32_PAT"},
    {EXIT_LOAD_IA32_PAT, "load IA32_PAT"},
    {EXIT_SAVE_IA32_EFER, "save IA32_EFER"},
    {EXIT_LOAD_IA32_EFER, "load IA32_EFER"},
};
static const struct control_bit entry_want[] = {
    {ENTRY_LOAD_DEBUG_CONTROLS, "load debug controls"},
    {ENTRY_LOAD_IA32_PAT, "load IA32_PAT"},
    {ENTRY_LOAD_IA32_EFER, "load IA32_EFER"},
};

static civic_err setup_controls(struct arch_vcpu *av)
{
    bool t = cpu_get()->vmx.true_ctls;
    uint32_t pin, proc, proc2, exit, entry;
    civic_err e;
    if ((e = adjust_controls("pin-based", t ? IA32_VMX_TRUE_PINBASED_CTLS : IA32_VMX_PINBASED_CTLS,
                             pin_want, N(pin_want), 0, &pin)) ||
        (e = adjust_controls("processor-based",
                             t ? IA32_VMX_TRUE_PROCBASED_CTLS : IA32_VMX_PROCBASED_CTLS, proc_want,
                             N(proc_want), 0, &proc)) ||
        (e = adjust_controls("secondary processor-based", IA32_VMX_PROCBASED_CTLS2, proc2_want,
                             N(proc2_want),
                             PROC2_WBINVD_EXITING | (rdtscp ? PROC2_ENABLE_RDTSCP : 0), &proc2)) ||
        (e = adjust_controls("VM-exit", t ? IA32_VMX_TRUE_EXIT_CTLS : IA32_VMX_EXIT_CTLS,
                             exit_want, N(exit_want), EXIT_SAVE_PREEMPTION_TIMER_VALUE, &exit)) ||
        (e = adjust_controls("VM-entry", t ? IA32_VMX_TRUE_ENTRY_CTLS : IA32_VMX_ENTRY_CTLS,
                             entry_want, N(entry_want), 0, &entry)))
        return e;
    av->proc_controls = proc;
    /* Bochs's Skylake model, for one, has no monitor trap flag (exit_ept.c steps with TF). */
    uint64_t proc_cap = rdmsr(t ? IA32_VMX_TRUE_PROCBASED_CTLS : IA32_VMX_PROCBASED_CTLS);
    has_mtf = ((proc_cap >> 32) & PROC_MONITOR_TRAP_FLAG) != 0;
    vmcs_write(VMCS_PIN_BASED_CONTROLS, pin);
    vmcs_write(VMCS_PROC_BASED_CONTROLS, proc);
    vmcs_write(VMCS_SECONDARY_PROC_CONTROLS, proc2);
    vmcs_write(VMCS_EXIT_CONTROLS, exit);
    vmcs_write(VMCS_ENTRY_CONTROLS, entry); /* IA-32e mode guest: set by the CR0 handler */

    vmcs_write(VMCS_EXCEPTION_BITMAP, 0); /* the guest handles its own exceptions */
    vmcs_write(VMCS_PAGE_FAULT_ERROR_MASK, 0);
    vmcs_write(VMCS_PAGE_FAULT_ERROR_MATCH, 0);
    vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
    vmcs_write(VMCS_IO_BITMAP_A, io_bitmap_a);
    vmcs_write(VMCS_IO_BITMAP_B, io_bitmap_b);
    vmcs_write(VMCS_MSR_BITMAP, msr_bitmap);
    vmcs_write(VMCS_EPT_POINTER, av->eptp);
    vmcs_write(VMCS_VPID, av->vpid);
    vmcs_write(VMCS_TSC_OFFSET, av->tsc.offset);
    vmcs_write(VMCS_LINK_POINTER, ~0ull);

    /* CR0: PE and PG are trapped so that entering and leaving long mode (EFER.LMA, the IA-32e
     * mode guest entry control) is done here; NE stays 1 (a VMX requirement) and CD/NW stay 0
     * in the real register (the guest reads back what it wrote). CR4: VMXE is required by VMX
     * but shown as 0; SMXE is refused (CPUID hides SMX); OSXSAVE is trapped to allow it only
     * when civic switches XSAVE state (exit_cr.c); PAE is trapped to keep it set in long
     * mode. */
    vmcs_write(VMCS_CR0_GUEST_HOST_MASK, VMCS_CR0_HOST_OWNED);
    vmcs_write(VMCS_CR4_GUEST_HOST_MASK, VMCS_CR4_HOST_OWNED);
    return CIVIC_OK;
}

uint64_t vmcs_guest_cr0_real(uint64_t guest_cr0)
{
    /* Unrestricted guest exempts PE and PG from the fixed-0 bits (Vol. 3C, 26.3.1.1). */
    uint64_t fixed0 = rdmsr(IA32_VMX_CR0_FIXED0) & ~(CR0_PE | CR0_PG);
    uint64_t fixed1 = rdmsr(IA32_VMX_CR0_FIXED1);
    return (((guest_cr0 & ~(CR0_CD | CR0_NW)) | CR0_NE | fixed0) & fixed1);
}

uint64_t vmcs_guest_cr4_real(uint64_t guest_cr4)
{
    return (guest_cr4 | rdmsr(IA32_VMX_CR4_FIXED0)) & rdmsr(IA32_VMX_CR4_FIXED1);
}

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static void setup_host_state(void)
{
    struct desc_ptr gdtr, idtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));
    /* The TSS base from its 16-byte descriptor (Vol. 3A, Figure 7-4). */
    const uint64_t *tss_desc = (const uint64_t *)(uintptr_t)(gdtr.base + GDT_TSS);
    uint64_t tr_base = ((tss_desc[0] >> 16) & 0xffffff) | (((tss_desc[0] >> 56) & 0xff) << 24) |
                       ((tss_desc[1] & 0xffffffff) << 32);

    vmcs_write(VMCS_HOST_CR0, read_cr0());
    vmcs_write(VMCS_HOST_CR3, read_cr3());
    vmcs_write(VMCS_HOST_CR4, read_cr4());
    vmcs_write(VMCS_HOST_CS_SELECTOR, GDT_KERNEL_CS);
    vmcs_write(VMCS_HOST_SS_SELECTOR, GDT_KERNEL_DS);
    vmcs_write(VMCS_HOST_DS_SELECTOR, GDT_KERNEL_DS);
    vmcs_write(VMCS_HOST_ES_SELECTOR, GDT_KERNEL_DS);
    vmcs_write(VMCS_HOST_FS_SELECTOR, 0);
    vmcs_write(VMCS_HOST_GS_SELECTOR, 0);
    vmcs_write(VMCS_HOST_TR_SELECTOR, GDT_TSS);
    vmcs_write(VMCS_HOST_FS_BASE, rdmsr(IA32_FS_BASE));
    vmcs_write(VMCS_HOST_GS_BASE, rdmsr(IA32_GS_BASE));
    vmcs_write(VMCS_HOST_TR_BASE, tr_base);
    vmcs_write(VMCS_HOST_GDTR_BASE, gdtr.base);
    vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
    vmcs_write(VMCS_HOST_IA32_SYSENTER_CS, rdmsr(IA32_SYSENTER_CS));
    vmcs_write(VMCS_HOST_IA32_SYSENTER_ESP, rdmsr(IA32_SYSENTER_ESP));
    vmcs_write(VMCS_HOST_IA32_SYSENTER_EIP, rdmsr(IA32_SYSENTER_EIP));
    vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(IA32_EFER));
    vmcs_write(VMCS_HOST_IA32_PAT, rdmsr(IA32_PAT));
    vmcs_write(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
    /* HOST_RSP is written by vmx_enter() on every entry. */
}

/* Segment registers in VMCS order: ES CS SS DS FS GS LDTR TR (the encodings step by 2). */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

static void set_segment(unsigned seg, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_SELECTOR + 2 * seg), sel);
    vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * seg), base);
    vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_LIMIT + 2 * seg), limit);
    vmcs_write((enum vmcs_field)(VMCS_GUEST_ES_AR + 2 * seg), ar);
}

/* Access rights: P, S, type (3 = read/write data accessed, 11 = execute/read code accessed). */
#define AR_DATA16 (AR_P | AR_S | 0x3u)
#define AR_CODE16 (AR_P | AR_S | 0xbu)
#define AR_DATA32 (AR_G | AR_DB | AR_DATA16)
#define AR_CODE32 (AR_G | AR_DB | AR_CODE16)
#define AR_TSS_BUSY32 (AR_P | 0xbu)
#define AR_LDT_UNUSABLE (AR_UNUSABLE | 0x2u)

/* QEMU's multiboot loader uses these selectors; a multiboot guest may not rely on them. */
#define BOOT_CS32 0x10
#define BOOT_DS32 0x18

void vmcs_guest_state_init(struct arch_vcpu *av, const struct vcpu_boot_state *b)
{
    uint64_t cr0;
    if (b->mode == VCPU_BOOT_REAL_MODE) {
        cr0 = 1u << 4; /* ET only, as after reset */
        set_segment(SEG_CS, b->cs_selector, (uint64_t)b->cs_selector << 4, 0xffff, AR_CODE16);
        for (unsigned s = SEG_ES; s <= SEG_GS; s++)
            if (s != SEG_CS)
                set_segment(s, 0, 0, 0xffff, AR_DATA16);
        vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0x3ff); /* the real-mode IVT */
        vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xffff);
    } else {
        cr0 = CR0_PE | (1u << 4);
        set_segment(SEG_CS, BOOT_CS32, 0, 0xffffffff, AR_CODE32);
        for (unsigned s = SEG_ES; s <= SEG_GS; s++)
            if (s != SEG_CS)
                set_segment(s, BOOT_DS32, 0, 0xffffffff, AR_DATA32);
        /* Multiboot: GDTR and IDTR are the guest's to load before use. */
        vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);
        vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0);
    }
    set_segment(SEG_LDTR, 0, 0, 0, AR_LDT_UNUSABLE);
    set_segment(SEG_TR, 0, 0, 0xffff, AR_TSS_BUSY32); /* VM entry requires a usable TR */
    vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
    vmcs_write(VMCS_GUEST_IDTR_BASE, 0);

    vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
    vmcs_write(VMCS_GUEST_CR0, vmcs_guest_cr0_real(cr0));
    vmcs_write(VMCS_CR4_READ_SHADOW, 0);
    vmcs_write(VMCS_GUEST_CR4, vmcs_guest_cr4_real(0));
    vmcs_write(VMCS_GUEST_CR3, 0);
    vmcs_write(VMCS_GUEST_DR7, 0x400);
    vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
    vmcs_write(VMCS_GUEST_IA32_EFER, 0);
    vmcs_write(VMCS_ENTRY_CONTROLS, vmcs_read32(VMCS_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST);
    vmcs_write(VMCS_GUEST_IA32_PAT, PAT_POWER_ON);
    vmcs_write(VMCS_GUEST_IA32_SYSENTER_CS, 0);
    vmcs_write(VMCS_GUEST_IA32_SYSENTER_ESP, 0);
    vmcs_write(VMCS_GUEST_IA32_SYSENTER_EIP, 0);
    vmcs_write(VMCS_GUEST_RSP, b->esp);
    vmcs_write(VMCS_GUEST_RIP, b->eip);
    vmcs_write(VMCS_GUEST_RFLAGS, 0x2);
    vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_STATE_ACTIVE);
    vmcs_write(VMCS_GUEST_PENDING_DEBUG_EXCEPTIONS, 0);

    av->regs.rax = b->eax;
    av->regs.rbx = b->ebx;
    av->regs.rcx = b->ecx;
    av->regs.rdx = b->edx;
    av->regs.rsi = b->esi;
    av->regs.rdi = b->edi;
    av->regs.rbp = b->ebp;
}

civic_err vmcs_setup(struct arch_vcpu *av, const struct vcpu_boot_state *boot)
{
    civic_err e = setup_controls(av);
    if (e != CIVIC_OK)
        return e;
    setup_host_state();
    vmcs_guest_state_init(av, boot);
    return CIVIC_OK;
}
