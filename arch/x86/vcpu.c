/*
 * vCPUs on VMX: creation (VMCS and state frames), the run loop (world switch, exit dispatch,
 * event injection, time slices with the VMX preemption timer), per-vCPU CPU state that the
 * VMCS does not switch, and the guest-state dump.
 */
#include <stdarg.h>

#include "arch/x86/cpu.h"
#include "arch/x86/cpuid_model.h"
#include "arch/x86/exit.h"
#include "arch/x86/exit_reason.h"
#include "arch/x86/irq.h"
#include "arch/x86/msr.h"
#include "arch/x86/time.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmx.h"
#include "arch/x86/xsave.h"
#include "kernel/arch.h"
#include "kernel/arch_vmx.h"
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "mm/pmm.h"

_Static_assert(__builtin_offsetof(struct guest_regs, r15) == 112, "vmx_entry.S offsets");
_Static_assert(__builtin_offsetof(struct guest_regs, cr2) == 120, "vmx_entry.S offsets");

/* This CPU's current VMCS, and the vCPU whose FPU, SYSCALL MSRs and debug registers are loaded.
 * (One CPU for now; these move into the per-CPU structure with SMP.) */
static struct arch_vcpu *current_vmcs;
static struct arch_vcpu *state_owner;

struct arch_vcpu *vcpu_current_vmcs(void)
{
    return current_vmcs;
}

civic_err vcpu_make_current(struct arch_vcpu *av)
{
    if (current_vmcs == av)
        return CIVIC_OK;
    civic_err e = vmx_vmptrld(av->vmcs_phys);
    if (e == CIVIC_OK)
        current_vmcs = av;
    return e;
}

void vcpu_forget_cpu_state(struct arch_vcpu *av)
{
    if (state_owner != av)
        return;
    /* The guest writes TSC_AUX without an exit, and INIT keeps it. */
    if (vmx_rdtscp_enabled())
        av->tsc_aux = rdmsr(IA32_TSC_AUX);
    state_owner = NULL; /* the next owner's restore overwrites every register */
}

/* Moves the state no VMCS field holds from the previous owner to av, so nothing leaks between
 * VMs. The host never uses it: the kernel has no FP (-mgeneral-regs-only), no SYSCALL, no
 * SWAPGS and no breakpoints. XCR0 is not switched by VM entry or exit either: while a vCPU owns
 * the CPU it holds that guest's XCR0 (XGETBV does not exit), and it is civic's full mask only
 * around the save and restore here, so that every component is saved whatever the guest
 * enabled. */
static void switch_cpu_state(struct arch_vcpu *av)
{
    struct arch_vcpu *old = state_owner;
    if (old == av)
        return;
    bool xsave = xsave_supported() != 0;
    if (xsave)
        xsetbv(0, xsave_supported());
    if (old) {
        xsave_save(old->xsave_area);
        if (vmx_rdtscp_enabled())
            old->tsc_aux = rdmsr(IA32_TSC_AUX);
        old->star = rdmsr(IA32_STAR);
        old->lstar = rdmsr(IA32_LSTAR);
        old->cstar = rdmsr(IA32_CSTAR);
        old->fmask = rdmsr(IA32_FMASK);
        old->kernel_gs_base = rdmsr(IA32_KERNEL_GS_BASE);
        __asm__ volatile("mov %%dr0, %0" : "=r"(old->dr[0]));
        __asm__ volatile("mov %%dr1, %0" : "=r"(old->dr[1]));
        __asm__ volatile("mov %%dr2, %0" : "=r"(old->dr[2]));
        __asm__ volatile("mov %%dr3, %0" : "=r"(old->dr[3]));
        __asm__ volatile("mov %%dr6, %0" : "=r"(old->dr6));
    }
    xsave_restore(av->xsave_area);
    if (xsave)
        xsetbv(0, av->xcr0);
    if (vmx_rdtscp_enabled())
        wrmsr(IA32_TSC_AUX, av->tsc_aux);
    if (cpuid_host_7_edx() & (CPUID_7_EDX_IBRS_IBPB | CPUID_7_EDX_STIBP | CPUID_7_EDX_SSBD))
        wrmsr(IA32_SPEC_CTRL, av->spec_ctrl);
    wrmsr(IA32_STAR, av->star);
    wrmsr(IA32_LSTAR, av->lstar);
    wrmsr(IA32_CSTAR, av->cstar);
    wrmsr(IA32_FMASK, av->fmask);
    wrmsr(IA32_KERNEL_GS_BASE, av->kernel_gs_base);
    __asm__ volatile("mov %0, %%dr0" ::"r"(av->dr[0]));
    __asm__ volatile("mov %0, %%dr1" ::"r"(av->dr[1]));
    __asm__ volatile("mov %0, %%dr2" ::"r"(av->dr[2]));
    __asm__ volatile("mov %0, %%dr3" ::"r"(av->dr[3]));
    __asm__ volatile("mov %0, %%dr6" ::"r"(av->dr6));
    state_owner = av;
}

static void *alloc_frames(unsigned order, uint64_t *phys)
{
    phys_addr_t p;
    if (pmm_alloc(order, &p) != CIVIC_OK)
        return NULL;
    void *va = phys_to_virt(p);
    memset(va, 0, 4096ull << order);
    *phys = p;
    return va;
}

static void *alloc_frame(uint64_t *phys)
{
    return alloc_frames(0, phys);
}

/* The smallest buddy order whose block holds the XSAVE area. */
static unsigned xsave_order(void)
{
    unsigned order = 0;
    while ((4096u << order) < xsave_area_size())
        order++;
    return order;
}

/* The non-VMCS state of a vCPU at power-on and after INIT (SDM Vol. 3A, Table 9-1): x87 after
 * FINIT, MXCSR 1F80H, vector registers 0, XCR0 = 1, DR6 FFFF0FF0H, the SYSCALL MSRs 0. */
void vcpu_reset_cpu_state(struct arch_vcpu *av)
{
    xsave_area_init(av->xsave_area);
    av->xcr0 = XCR0_X87;
    memset(av->dr, 0, sizeof av->dr);
    av->dr6 = 0xffff0ff0;
    av->star = av->lstar = av->cstar = av->fmask = av->kernel_gs_base = 0;
    av->spec_ctrl = 0;
    av->misc_enable = MISC_ENABLE_RESET;
    memset(&av->mtrr, 0, sizeof av->mtrr);
    av->tpr = 0;
}

civic_err arch_vcpu_create(struct vcpu *v, const struct vcpu_boot_state *boot, uint64_t ept_pointer,
                           uint16_t vpid)
{
    if (!arch_vmx_enabled())
        return trace_error(CIVIC_ENOTSUP);
    if (vpid == 0)
        return trace_error(CIVIC_EINVAL);
    uint64_t av_phys = 0, vmcs_phys = 0, xsave_phys = 0;
    unsigned order = xsave_order();
    struct arch_vcpu *av = alloc_frame(&av_phys);
    void *vmcs = alloc_frame(&vmcs_phys);
    void *area = alloc_frames(order, &xsave_phys);
    if (!av || !vmcs || !area) {
        if (av)
            pmm_free(av_phys, 0);
        if (vmcs)
            pmm_free(vmcs_phys, 0);
        if (area)
            pmm_free(xsave_phys, order);
        return trace_error(CIVIC_ENOMEM);
    }
    *(uint32_t *)vmcs = cpu_get()->vmx.revision_id;
    av->vmcs = vmcs;
    av->vmcs_phys = vmcs_phys;
    av->vpid = vpid;
    av->eptp = ept_pointer;
    av->xsave_area = area;
    av->xsave_phys = xsave_phys;
    av->xsave_order = order;
    vcpu_reset_cpu_state(av);
    /* The guest TSC starts as the host's (offset 0): every vCPU of a VM agrees, and pauses
     * lower all their offsets alike (arch_vcpu_tsc_skip). */

    irq_state_t f = irq_save();
    civic_err e = vmx_vmclear(vmcs_phys);
    if (e == CIVIC_OK)
        e = vcpu_make_current(av);
    if (e == CIVIC_OK)
        e = vmcs_setup(av, boot);
    if (e == CIVIC_OK) {
        /* The EPT root and the VPID may have served an earlier VM. */
        const struct vmx_caps *caps = &cpu_get()->vmx;
        if (caps->invept)
            vmx_invept(INVEPT_SINGLE_CONTEXT, ept_pointer);
        if (caps->invvpid)
            vmx_invvpid(INVVPID_SINGLE_CONTEXT, vpid, 0);
    } else {
        vmx_vmclear(vmcs_phys);
        if (current_vmcs == av)
            current_vmcs = NULL;
    }
    irq_restore(f);
    if (e != CIVIC_OK) {
        pmm_free(xsave_phys, order);
        pmm_free(vmcs_phys, 0);
        pmm_free(av_phys, 0);
        return e;
    }
    v->arch = av;
    return CIVIC_OK;
}

void arch_vcpu_destroy(struct vcpu *v)
{
    struct arch_vcpu *av = v->arch;
    if (!av)
        return;
    irq_state_t f = irq_save();
    vmx_vmclear(av->vmcs_phys);
    if (current_vmcs == av)
        current_vmcs = NULL;
    vcpu_forget_cpu_state(av);
    irq_restore(f);
    pmm_free(av->xsave_phys, av->xsave_order);
    pmm_free(av->vmcs_phys, 0);
    pmm_free(virt_to_phys(av), 0);
    v->arch = NULL;
}

uint64_t vcpu_gpr_read(struct arch_vcpu *av, unsigned n)
{
    const struct guest_regs *r = &av->regs;
    switch (n & 15) {
    case 0: return r->rax;
    case 1: return r->rcx;
    case 2: return r->rdx;
    case 3: return r->rbx;
    case 4: return vmcs_read(VMCS_GUEST_RSP);
    case 5: return r->rbp;
    case 6: return r->rsi;
    case 7: return r->rdi;
    case 8: return r->r8;
    case 9: return r->r9;
    case 10: return r->r10;
    case 11: return r->r11;
    case 12: return r->r12;
    case 13: return r->r13;
    case 14: return r->r14;
    default: return r->r15;
    }
}

void vcpu_gpr_write(struct arch_vcpu *av, unsigned n, uint64_t value)
{
    struct guest_regs *r = &av->regs;
    uint64_t *slot[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, NULL,    &r->rbp, &r->rsi, &r->rdi,
                          &r->r8,  &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15};
    if ((n & 15) == 4)
        vmcs_write(VMCS_GUEST_RSP, value);
    else
        *slot[n & 15] = value;
}

#define RFLAGS_TF (1ull << 8)
#define PENDING_DBG_BS (1ull << 14)
/* Preemption-timer value while a single step is pending: ample for one instruction. */
#define STEP_MIN_TIMER 4096u

void vcpu_advance_rip(void)
{
    uint64_t rip = vmcs_read(VMCS_GUEST_RIP) + vmcs_read(VMCS_EXIT_INSTRUCTION_LENGTH);
    /* Outside 64-bit code the instruction pointer is EIP or IP and wraps (Vol. 1, 3.5); bits
     * 63:32 set would fail the next VM entry (Vol. 3C, 27.3.1.4). */
    if (!vcpu_in_64bit_code())
        rip &= (vmcs_read32(VMCS_GUEST_CS_AR) & AR_DB) ? 0xffffffffull : 0xffffull;
    vmcs_write(VMCS_GUEST_RIP, rip);
    uint32_t intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & (INTERRUPTIBILITY_BLOCKING_BY_STI | INTERRUPTIBILITY_BLOCKING_BY_MOV_SS))
        vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(INTERRUPTIBILITY_BLOCKING_BY_STI |
                                                         INTERRUPTIBILITY_BLOCKING_BY_MOV_SS));
    /* A single-stepping guest gets its #DB after the emulated instruction (Vol. 3C, 27.3.1.5). */
    if (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_TF)
        vmcs_write(VMCS_GUEST_PENDING_DEBUG_EXCEPTIONS,
                   vmcs_read(VMCS_GUEST_PENDING_DEBUG_EXCEPTIONS) | PENDING_DBG_BS);
}

enum exit_action vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error,
                                       uint32_t error_code)
{
    struct pending_event *ev = &v->arch->event;
    /* Real mode pushes no error code, and VM entry refuses one with CR0.PE = 0 under
     * unrestricted guest (Vol. 3C, checks on VM-entry control fields): the VM would stop instead
     * of taking the fault. */
    if (!(vmcs_read(VMCS_GUEST_CR0) & CR0_PE))
        has_error = false;
    ev->valid = true;
    ev->info = INTR_INFO_VALID | (INTR_TYPE_HARDWARE_EXCEPTION << INTR_INFO_TYPE_SHIFT) |
               (vector & INTR_INFO_VECTOR_MASK) | (has_error ? INTR_INFO_DELIVER_ERROR_CODE : 0);
    ev->error_code = error_code;
    ev->instruction_length = 0;
    return EXIT_RESUME;
}

bool vcpu_in_64bit_code(void)
{
    return (vmcs_read32(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST) &&
           (vmcs_read32(VMCS_GUEST_CS_AR) & AR_L);
}

enum exit_action vcpu_stop_dump(struct vcpu *v, const char *fmt, ...)
{
    char msg[VM_STOP_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_err("vmx: %s", msg);
    arch_vcpu_dump(v, true);
    return vmm_stop(v, "%s", msg);
}

/* After an exit during event delivery (Vol. 3C, 28.2.4) the event is delivered again at the
 * next entry, unless the handler queued another one. */
static void requeue_vectoring_event(struct arch_vcpu *av, uint32_t vect)
{
    if (!(vect & INTR_INFO_VALID) || av->event.valid)
        return;
    unsigned type = (vect & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
    av->event.valid = true;
    av->event.info = vect & ~INTR_INFO_NMI_UNBLOCKING_DUE_TO_IRET;
    av->event.error_code =
        (vect & INTR_INFO_DELIVER_ERROR_CODE) ? vmcs_read32(VMCS_IDT_VECTORING_ERROR_CODE) : 0;
    av->event.instruction_length =
        (type == INTR_TYPE_SOFTWARE_INTERRUPT || type == INTR_TYPE_SOFTWARE_EXCEPTION ||
         type == INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION)
            ? vmcs_read32(VMCS_EXIT_INSTRUCTION_LENGTH)
            : 0;
}

static void inject_pending(struct arch_vcpu *av)
{
    if (!av->event.valid) {
        vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
        return;
    }
    vmcs_write(VMCS_ENTRY_INTR_INFO, av->event.info);
    vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR_CODE, av->event.error_code);
    vmcs_write(VMCS_ENTRY_INSTRUCTION_LENGTH, av->event.instruction_length);
    av->event.valid = false;
}

static enum vcpu_run_result entry_failed(struct vcpu *v, int how)
{
    if (how == 1)
        vcpu_stop_dump(v, "VM entry failed: VMfailInvalid (no valid current VMCS)");
    else {
        uint32_t err = vmcs_read32(VMCS_VM_INSTRUCTION_ERROR);
        vcpu_stop_dump(v, "VM entry failed: VM-instruction error %u: %s", err,
                       vmx_instruction_error_name(err));
    }
    return VCPU_RUN_STOPPED;
}

enum vcpu_run_result arch_vcpu_run(struct vcpu *v, uint64_t slice_us)
{
    struct arch_vcpu *av = v->arch;
    irq_disable();
    uint64_t t0 = arch_time_ns();
    enum vcpu_run_result res = VCPU_RUN_YIELD;
    if (vcpu_make_current(av) != CIVIC_OK) {
        vmm_stop(v, "cannot load the VMCS");
        res = VCPU_RUN_STOPPED;
        goto out;
    }
    switch_cpu_state(av);
    vmcs_write(VMCS_TSC_OFFSET, av->tsc.offset); /* arch_vcpu_tsc_skip() may have moved it */

    uint64_t hz = arch_tsc_hz();
    uint64_t deadline = rdtsc() + slice_us * (hz / 1000000);
    unsigned shift = cpu_get()->vmx.preemption_timer_shift;
    av->yield = false;
    for (;;) {
        uint64_t now = rdtsc();
        /* A hole access being single-stepped (exit_ept.c) must complete before the vCPU lets
         * go of the CPU: its page outside RAM stays mapped until then. So the slice and a
         * yield do not end the loop; a host interrupt is taken here, with the vCPU still on
         * this CPU (STI's shadow needs the NOP), and the timer never starts at 0, which would
         * exit before the stepped instruction runs. */
        if (!av->step_pending) {
            if (av->yield || now >= deadline)
                break;
        } else if (av->yield) {
            __asm__ volatile("sti; nop; cli" ::: "memory");
            av->yield = false;
        }
        uint64_t ticks = now < deadline ? (deadline - now) >> shift : 0;
        if (av->step_pending && ticks < STEP_MIN_TIMER)
            ticks = STEP_MIN_TIMER;
        vmcs_write(VMCS_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffu ? 0xffffffffu : ticks);
        vcpu_irq_before_entry(v);
        inject_pending(av);

        uint64_t entered = arch_time_ns();
        int r = vmx_enter(&av->regs, av->launched);
        v->guest_ns += arch_time_ns() - entered;
        if (r != 0) {
            res = entry_failed(v, r);
            break;
        }
        uint32_t raw = vmcs_read32(VMCS_EXIT_REASON);
        struct exit_info e = {raw & EXIT_REASON_BASIC_MASK, vmcs_read(VMCS_EXIT_QUALIFICATION)};
        av->last_exit_reason = raw;
        av->last_exit_qualification = e.qualification;
        if (!(raw & EXIT_REASON_ENTRY_FAILURE))
            av->launched = true;
        vmm_count_exit(v, e.reason);
        uint32_t vect = vmcs_read32(VMCS_IDT_VECTORING_INFO);

        enum exit_action act = exit_dispatch(v, &e);
        if (act == EXIT_STOP) {
            res = VCPU_RUN_STOPPED;
            break;
        }
        requeue_vectoring_event(av, vect);
        if (act == EXIT_PARK) {
            res = VCPU_RUN_PARKED;
            break;
        }
    }
out:
    v->run_ns += arch_time_ns() - t0;
    irq_enable(); /* a host interrupt that ended the slice is taken here */
    return res;
}

static const char *const seg_names[8] = {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"};

/* One line of a guest-state dump: to the console (`vm regs`), or into the kernel log when a VM
 * stops, so the dump is kept in `log` and does not land in the middle of a shell command. */
__attribute__((format(printf, 3, 4))) static void dump_line(struct vcpu *v, bool to_log,
                                                            const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (to_log)
        log_err("vm %s: %s", v->vm->name, line);
    else
        kprintf("%s\n", line);
}

void arch_vcpu_dump(struct vcpu *v, bool to_log)
{
    struct arch_vcpu *av = v->arch;
    if (!av) {
        dump_line(v, to_log, "vcpu: no state");
        return;
    }
    irq_state_t f = irq_save();
    if (vcpu_make_current(av) != CIVIC_OK) {
        irq_restore(f);
        dump_line(v, to_log, "vcpu: VMCS cannot be loaded");
        return;
    }
    const struct guest_regs *r = &av->regs;
    dump_line(v, to_log, "rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx",
              (unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx,
              (unsigned long long)r->rdx);
    dump_line(v, to_log, "rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx",
              (unsigned long long)r->rsi, (unsigned long long)r->rdi, (unsigned long long)r->rbp,
              (unsigned long long)vmcs_read(VMCS_GUEST_RSP));
    dump_line(v, to_log, "r8=%016llx r9=%016llx r10=%016llx r11=%016llx", (unsigned long long)r->r8,
              (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11);
    dump_line(v, to_log, "r12=%016llx r13=%016llx r14=%016llx r15=%016llx",
              (unsigned long long)r->r12, (unsigned long long)r->r13, (unsigned long long)r->r14,
              (unsigned long long)r->r15);
    dump_line(v, to_log, "rip=%016llx rflags=%016llx",
              (unsigned long long)vmcs_read(VMCS_GUEST_RIP),
              (unsigned long long)vmcs_read(VMCS_GUEST_RFLAGS));
    dump_line(v, to_log,
              "cr0=%08llx (real %08llx) cr2=%016llx cr3=%016llx cr4=%08llx (real %08llx)",
              (unsigned long long)vmcs_read(VMCS_CR0_READ_SHADOW),
              (unsigned long long)vmcs_read(VMCS_GUEST_CR0), (unsigned long long)r->cr2,
              (unsigned long long)vmcs_read(VMCS_GUEST_CR3),
              (unsigned long long)vmcs_read(VMCS_CR4_READ_SHADOW),
              (unsigned long long)vmcs_read(VMCS_GUEST_CR4));
    dump_line(v, to_log, "efer=%llx entry_controls=%08x",
              (unsigned long long)vmcs_read(VMCS_GUEST_IA32_EFER),
              vmcs_read32(VMCS_ENTRY_CONTROLS));
    for (unsigned s = 0; s < 8; s++)
        dump_line(v, to_log, "%-4s sel=%04llx base=%016llx limit=%08llx ar=%05llx", seg_names[s],
                  (unsigned long long)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_SELECTOR + 2 * s)),
                  (unsigned long long)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_BASE + 2 * s)),
                  (unsigned long long)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_LIMIT + 2 * s)),
                  (unsigned long long)vmcs_read((enum vmcs_field)(VMCS_GUEST_ES_AR + 2 * s)));
    dump_line(v, to_log, "gdtr base=%016llx limit=%04llx idtr base=%016llx limit=%04llx",
              (unsigned long long)vmcs_read(VMCS_GUEST_GDTR_BASE),
              (unsigned long long)vmcs_read(VMCS_GUEST_GDTR_LIMIT),
              (unsigned long long)vmcs_read(VMCS_GUEST_IDTR_BASE),
              (unsigned long long)vmcs_read(VMCS_GUEST_IDTR_LIMIT));
    dump_line(v, to_log, "interruptibility=%x activity=%x last_exit=%s (%#x) qualification=%#llx",
              vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY), vmcs_read32(VMCS_GUEST_ACTIVITY_STATE),
              arch_exit_reason_name(av->last_exit_reason & EXIT_REASON_BASIC_MASK),
              av->last_exit_reason, (unsigned long long)av->last_exit_qualification);
    irq_restore(f);
}
