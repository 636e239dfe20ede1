/*
 * struct arch_vcpu: the hardware side of a vCPU (VMCS, guest registers the VMCS does not hold,
 * FPU area, the event to inject), and the helpers exit handlers share. Internal to arch/x86.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cr.h"
#include "arch/x86/msr_model.h"
#include "kernel/vm.h"
#include "kernel/vmm.h"

/* Guest registers saved and loaded by vmx_entry.S (RSP and RIP live in the VMCS). The offsets
 * are used by the assembly: keep the order. */
struct guest_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t cr2;
};

/* An event to inject at the next VM entry (Vol. 3C, 27.6). */
struct pending_event {
    bool valid;
    uint32_t info; /* VM-entry interruption-information format, valid bit set */
    uint32_t error_code;
    uint32_t instruction_length; /* software interrupts and exceptions only */
};

struct arch_vcpu {
    struct guest_regs regs;
    uint64_t vmcs_phys;
    void *vmcs;
    bool launched;
    uint16_t vpid;
    uint64_t eptp;
    struct pending_event event;
    bool halted_with_if;     /* parked in HLT with RFLAGS.IF = 1: an interrupt ends the wait */
    /* Loaded into the CPU only while this vCPU owns it (none is in the VMCS): SYSCALL MSRs,
     * KERNEL_GS_BASE (SWAPGS does not exit) and DR0-DR3/DR6. */
    uint64_t star, lstar, cstar, fmask, kernel_gs_base;
    uint64_t dr[4], dr6;
    /* FPU/SSE/AVX state (xsave.c): its own frames, sized from CPUID.0DH (XSAVE) or 512 bytes
     * (FXSAVE), and the guest's XCR0, loaded while this vCPU owns the CPU. */
    void *xsave_area;
    uint64_t xsave_phys;
    unsigned xsave_order;
    uint64_t xcr0;
    uint64_t tsc_aux;   /* IA32_TSC_AUX (RDTSCP, RDPID), switched when RDTSCP is enabled */
    uint64_t spec_ctrl; /* IA32_SPEC_CTRL, when the host has it (exit_msr.c) */
    /* Emulated MSRs (exit_msr.c): the TSC offset and IA32_TSC_ADJUST, MTRRs, MISC_ENABLE. */
    struct tsc_state tsc;
    struct mtrr_state mtrr;
    uint64_t misc_enable;
    uint8_t tpr;       /* CR8, emulated (CR8 load/store exiting) */
    bool step_pending; /* a hole access is single-stepping: call vmm_hole_write_done() after */
    bool step_with_tf; /* ... through RFLAGS.TF and a #DB exit (no monitor trap flag) */
    bool step_saved_tf; /* the guest's own RFLAGS.TF */
    bool yield; /* a handler asks arch_vcpu_run() to return VCPU_RUN_YIELD (after a step) */
    uint32_t last_exit_reason;
    uint64_t last_exit_qualification;
    uint64_t proc_controls; /* primary processor-based controls as written to the VMCS */
    uint32_t msr_gp_count;  /* RDMSR/WRMSR that raised #GP (the first few are logged) */
};

_Static_assert(sizeof(struct arch_vcpu) <= 4096, "arch_vcpu fits one frame");

/* The guest's general-purpose register number n (0 = RAX ... 15 = R15; 4 = RSP from the VMCS),
 * in the numbering of the exit qualifications (Vol. 3C, Table 28-3). */
uint64_t vcpu_gpr_read(struct arch_vcpu *av, unsigned n);
void vcpu_gpr_write(struct arch_vcpu *av, unsigned n, uint64_t value);

/* Completes the exiting instruction: RIP += exit instruction length, STI/MOV-SS blocking
 * ends (as after any instruction). */
void vcpu_advance_rip(void);
/* Queues a hardware exception for the next entry (error code for #DF, #TS, #NP, #SS, #GP, #PF,
 * #AC: pass has_error). Returns EXIT_RESUME so handlers can `return vcpu_inject_exception(...)`. */
enum exit_action vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error,
                                       uint32_t error_code);
#define VEC_UD 6
#define VEC_GP 13
static inline enum exit_action vcpu_inject_ud(struct vcpu *v)
{
    return vcpu_inject_exception(v, VEC_UD, false, 0);
}
static inline enum exit_action vcpu_inject_gp0(struct vcpu *v)
{
    return vcpu_inject_exception(v, VEC_GP, true, 0);
}
/* Ends a single step started by exit_ept_violation(): restores the controls (or the guest's
 * TF and the exception bitmap) and tells vmm. */
void vcpu_single_step_done(struct vcpu *v);
/* Dumps the guest state and stops the VM with the message. */
enum exit_action vcpu_stop_dump(struct vcpu *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Whether the guest runs 64-bit code now (IA-32e mode and CS.L). */
bool vcpu_in_64bit_code(void);

/* External interrupts (vcpu_irq.c). Before each VM entry, with the VMCS current: injects the
 * highest pending vector when no other event is queued and the guest can take it, and sets
 * interrupt-window exiting while one stays pending. */
void vcpu_irq_before_entry(struct vcpu *v);
/* For the HLT handler, after RIP is advanced: true when a pending interrupt ends the HLT at
 * once; otherwise records whether a later one will (RFLAGS.IF). */
bool vcpu_irq_hlt_wakes(struct vcpu *v);

/* VMCS set-up (vmcs_setup.c): the current VMCS gets controls, host state and the boot state. */
civic_err vmcs_setup(struct arch_vcpu *av, const struct vcpu_boot_state *boot);
/* The guest-state area of the current VMCS for a boot state (segments, CR0/CR3/CR4, EFER and
 * the IA-32e entry control, DR7, PAT, RIP/RSP/RFLAGS, no blocking, active) and the GPRs the boot
 * state names; used at creation and by arch_vcpu_reset(). */
void vmcs_guest_state_init(struct arch_vcpu *av, const struct vcpu_boot_state *boot);
/* Whether the VMCS enables RDTSCP (and RDPID): then IA32_TSC_AUX is switched per vCPU. */
bool vmx_rdtscp_enabled(void);

/* vcpu.c internals for vcpu_reset.c: loads av's VMCS on this CPU (or says which is loaded); drops av's FPU, SYSCALL and
 * debug registers from the CPU without saving them (the next run loads av's saved copies). */
civic_err vcpu_make_current(struct arch_vcpu *av);
struct arch_vcpu *vcpu_current_vmcs(void);
void vcpu_forget_cpu_state(struct arch_vcpu *av);
/* Puts the state no VMCS field holds (FPU/SSE/AVX, XCR0, DRs, SYSCALL MSRs, emulated MSRs, TPR)
 * into its power-on/INIT values. */
void vcpu_reset_cpu_state(struct arch_vcpu *av);
/* Read shadow values the CR handlers keep consistent (vmcs_setup.c). */
uint64_t vmcs_guest_cr0_real(uint64_t guest_cr0);
uint64_t vmcs_guest_cr4_real(uint64_t guest_cr4);
#define VMCS_CR0_HOST_OWNED (CR0_PE | CR0_NE | CR0_NW | CR0_CD | CR0_PG)
#define VMCS_CR4_HOST_OWNED (CR4_PAE | CR4_VMXE | CR4_SMXE | CR4_OSXSAVE)

/* The world switch (vmx_entry.S): 0 after a VM exit, 1 on VMfailInvalid, 2 on VMfailValid. */
int vmx_enter(struct guest_regs *regs, int launched);
void vmx_exit_entry(void); /* the VMCS host RIP */
