/*
 * The world switch (Intel SDM Vol. 3C, 27 "VM entries", 28 "VM exits"). The VMCS holds the
 * guest's RSP, RIP and RFLAGS and the host's RSP and RIP; everything else general-purpose, and
 * CR2, moves through struct guest_regs here.
 *
 * int vmx_enter(struct guest_regs *regs, int launched)
 *   returns 0 after a VM exit (guest registers saved in *regs), 1 when VMLAUNCH/VMRESUME failed
 *   with VMfailInvalid, 2 with VMfailValid (the VM-instruction error field says why).
 * A VM exit clears RFLAGS (IF = 0) and loads the host state from the VMCS, so we land at
 * vmx_exit_entry on the stack vmx_enter left, with the regs pointer on top.
 */
#define VMCS_HOST_RSP 0x6c14

/* struct guest_regs offsets (arch/x86/vcpu_arch.h) */
#define G_RAX 0
#define G_RBX 8
#define G_RCX 16
#define G_RDX 24
#define G_RSI 32
#define G_RDI 40
#define G_RBP 48
#define G_R8 56
#define G_R9 64
#define G_R10 72
#define G_R11 80
#define G_R12 88
#define G_R13 96
#define G_R14 104
#define G_R15 112
#define G_CR2 120

    .text
    .globl vmx_enter
    .type vmx_enter, @function
vmx_enter:
    push %rbp
    mov %rsp, %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rdi                   /* regs, for the exit path */

    mov $VMCS_HOST_RSP, %eax
    vmwrite %rsp, %rax
    jbe .Lfail_early            /* CF or ZF: VMWRITE failed */

    mov G_CR2(%rdi), %rax
    mov %rax, %cr2
    test %esi, %esi             /* launched? (flags survive the movs below) */
    mov G_RAX(%rdi), %rax
    mov G_RBX(%rdi), %rbx
    mov G_RCX(%rdi), %rcx
    mov G_RDX(%rdi), %rdx
    mov G_RSI(%rdi), %rsi
    mov G_RBP(%rdi), %rbp
    mov G_R8(%rdi), %r8
    mov G_R9(%rdi), %r9
    mov G_R10(%rdi), %r10
    mov G_R11(%rdi), %r11
    mov G_R12(%rdi), %r12
    mov G_R13(%rdi), %r13
    mov G_R14(%rdi), %r14
    mov G_R15(%rdi), %r15
    mov G_RDI(%rdi), %rdi
    jnz 1f
    vmlaunch
    jmp .Lfail
1:  vmresume
.Lfail:
    /* Only reached when the entry failed: CF = VMfailInvalid, ZF = VMfailValid. */
    mov $1, %eax
    jc 2f
    mov $2, %eax
2:  add $8, %rsp                /* drop regs */
    jmp .Lreturn
.Lfail_early:
    mov $2, %eax
    jmp 2b

    .globl vmx_exit_entry
    .type vmx_exit_entry, @function
vmx_exit_entry:
    push %rdi                   /* guest RDI; regs pointer is now at 8(%rsp) */
    mov 8(%rsp), %rdi
    mov %rax, G_RAX(%rdi)
    mov %rbx, G_RBX(%rdi)
    mov %rcx, G_RCX(%rdi)
    mov %rdx, G_RDX(%rdi)
    mov %rsi, G_RSI(%rdi)
    mov %rbp, G_RBP(%rdi)
    mov %r8, G_R8(%rdi)
    mov %r9, G_R9(%rdi)
    mov %r10, G_R10(%rdi)
    mov %r11, G_R11(%rdi)
    mov %r12, G_R12(%rdi)
    mov %r13, G_R13(%rdi)
    mov %r14, G_R14(%rdi)
    mov %r15, G_R15(%rdi)
    pop %rax
    mov %rax, G_RDI(%rdi)
    mov %cr2, %rax
    mov %rax, G_CR2(%rdi)
    add $8, %rsp                /* drop regs */
    xor %eax, %eax
.Lreturn:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size vmx_enter, . - vmx_enter

    .section .note.GNU-stack, "", @progbits
