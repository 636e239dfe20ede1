/*
 * Interrupt entry: one stub per vector, generated below. Each makes the stack look the same
 * (an error code, a real one or a dummy 0, then the vector number) and jumps to isr_common,
 * which saves every general-purpose register as struct trap_frame (arch/x86/idt.h) and calls
 * trap_dispatch(frame). The CPU pushes an error code only for vectors 8, 10-14, 17, 21, 29 and
 * 30 (Intel SDM Vol. 3A, Table 6-1; 29 and 30 are AMD's #VC and #SX).
 */

#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
                           (v) == 29 || (v) == 30)

/* Offset of the interrupted RIP in struct trap_frame: 15 GPRs, vector, error code. */
#define TF_RIP (17 * 8)

    .text
    .globl isr_stub_table
    .section .rodata
    .balign 8
isr_stub_table:
    .text

    .set vec, 0
    .rept 256
    .balign 16
1:
    .if !HAS_ERROR_CODE(vec)
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .pushsection .rodata
    .quad 1b
    .popsection
    .set vec, vec + 1
    .endr

isr_common:
    cld
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    movq %rsp, %rbx
    /* A frame record {interrupted RBP, interrupted RIP}: backtraces from handlers continue
     * into the interrupted code, starting with the instruction it was at. */
    pushq TF_RIP(%rsp)
    pushq %rbp
    movq %rsp, %rbp
    andq $-16, %rsp         /* the C ABI's alignment, whatever was pushed before */
    call trap_dispatch
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp          /* vector and error code */
    iretq

    .section .note.GNU-stack, "", @progbits
