/*
 * Entry stubs: exceptions 0..31 and interrupts 32..255. Each pushes a uniform frame (a dummy
 * error code where the CPU pushes none, Intel SDM Vol. 3 6.13), then the general registers, and
 * calls trap_dispatch(struct trap_frame *); the handler may change the saved EIP before the iret.
 */
    .section .text

.macro STUB vec, has_error
    .globl trap_stub_\vec
trap_stub_\vec:
    .if \has_error == 0
    pushl $0
    .endif
    pushl $\vec
    jmp trap_common
.endm

    STUB 0, 0
    STUB 1, 0
    STUB 2, 0
    STUB 3, 0
    STUB 4, 0
    STUB 5, 0
    STUB 6, 0
    STUB 7, 0
    STUB 8, 1
    STUB 9, 0
    STUB 10, 1
    STUB 11, 1
    STUB 12, 1
    STUB 13, 1
    STUB 14, 1
    STUB 15, 0
    STUB 16, 0
    STUB 17, 1
    STUB 18, 0
    STUB 19, 0
    STUB 20, 0
    STUB 21, 1
    STUB 22, 0
    STUB 23, 0
    STUB 24, 0
    STUB 25, 0
    STUB 26, 0
    STUB 27, 0
    STUB 28, 0
    STUB 29, 1
    STUB 30, 1
    STUB 31, 0

/* Interrupt stubs 32..255, 16 bytes apart (IRQ_STUB_SIZE in trap.c computes their addresses).
 * Each is at most 12 bytes: push imm8 (2), push imm32 (5), jmp rel32 (5). */
    .balign 16
    .globl irq_stubs
irq_stubs:
    .set vec, 32
    .rept 224
    .balign 16
    pushl $0
    pushl $vec
    jmp trap_common
    .set vec, vec + 1
    .endr

trap_common:
    pushal
    cld
    pushl %esp
    call trap_dispatch
    addl $4, %esp
    popal
    addl $8, %esp               /* vector and error code */
    iretl

    .section .rodata
    .balign 4
    .globl trap_stubs
trap_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long trap_stub_\v
    .endr

    .section .note.GNU-stack, "", @progbits
