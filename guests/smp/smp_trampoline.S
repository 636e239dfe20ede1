/*
 * The AP start-up path. smp_trampoline_start..end is copied by the BSP to a page-aligned address
 * below 1 MiB; a STARTUP IPI with vector V starts the AP in real mode at CS = V << 8, IP = 0
 * (Intel SDM Vol. 3A 8.4.4.1), so everything in the copy is addressed relative to CS. The AP
 * loads its own flat GDT (the copy's; the BSP patches its linear base), enters protected mode
 * and jumps far to smp_ap_entry32 in the image, which takes a cpu number and a stack with
 * lock xadd and calls smp_ap_main. Nothing in the copy is written by the APs, so several may run
 * it at once.
 */
#define SMP_AP_STACK_SHIFT 13 /* SMP_AP_STACK_SIZE in smp.h */
#define SMP_MAX_CPUS 32
#define CR0_PE 1

    .section .text
    .code16
    .globl smp_trampoline_start
smp_trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl (gdt_desc - smp_trampoline_start)     /* 32-bit base: 66 0f 01 16 disp16 */
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl *(far_ptr - smp_trampoline_start)     /* m16:32 through DS: 66 ff 2e disp16 */

    .balign 8
    .globl smp_trampoline_gdt
smp_trampoline_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code, base 0, limit 4 GiB */
    .quad 0x00cf92000000ffff    /* 0x10: data, base 0, limit 4 GiB */
gdt_end:
    .balign 4
    .word 0
gdt_desc:
    .word gdt_end - smp_trampoline_gdt - 1
    .globl smp_trampoline_gdt_base
smp_trampoline_gdt_base:
    .long 0                     /* patched: linear address of the copy's GDT */
far_ptr:
    .long smp_ap_entry32
    .word 0x08
    .globl smp_trampoline_end
smp_trampoline_end:

    .code32
    .type smp_ap_entry32, @function
smp_ap_entry32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $1, %eax
    lock xaddl %eax, smp_ap_next
    cmpl $SMP_MAX_CPUS, %eax
    jae 2f                      /* more APs than stacks: stay parked */
    movl %eax, %ebx
    shll $SMP_AP_STACK_SHIFT, %eax
    addl $smp_ap_stacks, %eax   /* cpu N (N >= 1) uses the top of slot N - 1 */
    movl %eax, %esp
    lidt smp_idt_desc
    pushl $0
    popfl
    pushl %ebx
    call smp_ap_main
2:  cli
    hlt
    jmp 2b
    .size smp_ap_entry32, . - smp_ap_entry32

    .section .data
    .balign 4
    .globl smp_ap_next
smp_ap_next:
    .long 1
    .globl smp_idt_desc
smp_idt_desc:
    .skip 6

    .section .bss
    .balign 16
    .globl smp_ap_stacks
smp_ap_stacks:
    .skip (SMP_MAX_CPUS - 1) << SMP_AP_STACK_SHIFT

    .section .note.GNU-stack, "", @progbits
