/*
 * Multiboot v1 entry. The loader leaves us in 32-bit protected mode with paging and interrupts
 * off, EAX = 0x2BADB002, EBX = the information structure; GDTR and the stack are undefined
 * (Multiboot spec 3.2), so we load our own flat GDT and stack before any call.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, want memory info */

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .text
    .globl _start
    .type _start, @function
_start:
    cli
    cld
    movl %eax, %edx             /* keep the magic; EBX stays untouched */

    /* .bss (which holds the stack) may not be zeroed by every loader. */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb

    lgdt gdt_desc
    ljmp $0x08, $1f
1:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $stack_top, %esp
    pushl $0
    popfl                       /* IF, DF, AC, NT clear */

    pushl %ebx
    pushl %edx
    call guest_start            /* does not return */
2:  cli
    hlt
    jmp 2b
    .size _start, . - _start

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code, base 0, limit 4 GiB */
    .quad 0x00cf92000000ffff    /* 0x10: data, base 0, limit 4 GiB */
gdt_end:
    .balign 4
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .balign 16
stack:
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
