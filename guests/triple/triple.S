/*
 * triple: a flat real-mode guest that triple-faults on purpose. It loads an IDT of limit 0, so
 * INT3 finds no gate (#GP), the #GP finds none (#DF) and the #DF finds none: the CPU shuts down.
 * civic must stop this VM with a register dump and leave everything else running. It prints one
 * line first, so a test can see it ran. Load with `flat=0x7c00 mode=real` (CS:IP = 07c0:0000).
 */
    .code16
    .text
    .globl _start
_start:
    cli
    mov %cs, %ax
    mov %ax, %ds
    mov $0x3f8, %dx
    mov $msg, %si
1:  lodsb
    test %al, %al
    jz 2f
    out %al, %dx
    jmp 1b
2:  lidt empty_idt
    int3
    hlt                         /* not reached */

    .balign 8
empty_idt:
    .word 0                     /* limit 0: no vector fits */
    .long 0

msg:
    .asciz "triple: faulting now\n"

    .org 510
    .byte 0x55, 0xaa

    .section .note.GNU-stack, "", @progbits
