/*
 * Mode switches for the modes check (Intel SDM Vol. 3 9.9 "Mode Switching", 9.8.5
 * "Initializing IA-32e Mode"). Interrupts stay off throughout: the IDT is 32-bit.
 *
 *   void rm_trip(struct rm_result *out)       32-bit PM -> real mode -> 32-bit PM
 *   void lm_trip(uint32_t pml4, struct lm_result *out)
 *                                             32-bit PM -> long mode -> 32-bit PM
 *
 * Real-mode code must lie below 1 MiB and the guest is linked at 1 MiB, so rm_trip copies the
 * position-independent blob rm_blob..rm_blob_end to RM_BASE (CS = RM_BASE >> 4, IP = the offset
 * in the blob), after saving what was there (the loader may have put its information there), and
 * puts it back afterwards.
 */
#define RM_BASE 0x8000
#define RM_SEG (RM_BASE >> 4)
#define RM(x) ((x) - rm_blob)
#define RM_WORDS ((rm_blob_end - rm_blob) / 4)
#define RM_SAVE_BYTES 512

#define SEL_CODE32 0x08 /* the same two selectors as guests/lib/entry.S, so the IDT still works */
#define SEL_DATA32 0x10
#define SEL_CODE16 0x18
#define SEL_DATA16 0x20
#define SEL_CODE64 0x28

#define CR0_PE 0x1
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define IA32_EFER 0xc0000080
#define EFER_LME 0x100
#define COM1 0x3f8
#define COM1_LSR 0x3fd

/* struct rm_result (cputest/modes.c) */
#define RM_CS 0
#define RM_CR0 4
#define RM_VENDOR 8 /* ebx, edx, ecx of CPUID leaf 0 */

/* struct lm_result (cputest/modes.c) */
#define LM_EFER 0
#define LM_PROD_LO 8
#define LM_PROD_HI 16
#define LM_RIP_LEA 24
#define LM_RIP_LOAD 32
#define LM_PUSHPOP 40
#define LM_R8 48 /* r8..r15 */
#define LM_EXT_EDX 112
#define LM_COMPAT_CS 120

    .section .text

/* ---- real mode ---------------------------------------------------------------------------- */
    .code32
    .globl rm_trip
rm_trip:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl $RM_BASE, %esi                 /* save low memory, then put the blob there */
    movl $rm_saved, %edi
    movl $RM_WORDS, %ecx
    rep movsl
    movl $rm_blob, %esi
    movl $RM_BASE, %edi
    movl $RM_WORDS, %ecx
    rep movsl
    lgdt gdt_desc
    sidt saved_idt
    lidt rm_ivt_desc                    /* SDM 9.9.2 step 5: a real-mode IDT (we take no ints) */
    ljmp $SEL_CODE16, $RM(rm_pm16)      /* 16-bit protected mode, base RM_BASE */

rm_back:
    movw $SEL_DATA32, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    lidt saved_idt
    movl 20(%esp), %edi                 /* the results, then low memory as it was */
    movl $RM_BASE + RM(rm_data), %esi
    movl $5, %ecx
    rep movsl
    movl $rm_saved, %esi
    movl $RM_BASE, %edi
    movl $RM_WORDS, %ecx
    rep movsl
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .balign 4
rm_blob:
    .code16
rm_pm16:
    movw $SEL_DATA16, %ax               /* 64 KiB limits before leaving protected mode */
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl %cr0, %eax
    andl $~CR0_PE, %eax
    movl %eax, %cr0
    ljmp $RM_SEG, $RM(rm_real)          /* now real mode */

rm_real:
    movw %cs, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, RM(rm_data) + RM_CS
    movl %cr0, %eax
    movl %eax, RM(rm_data) + RM_CR0
    xorl %eax, %eax
    cpuid
    movl %ebx, RM(rm_data) + RM_VENDOR
    movl %edx, RM(rm_data) + RM_VENDOR + 4
    movl %ecx, RM(rm_data) + RM_VENDOR + 8
    /* Print through COM1 with 16-bit code: proof that we got here and can do I/O. */
    movw $RM(rm_msg), %si
1:  lodsb
    testb %al, %al
    jz 3f
    movb %al, %bl
    movw $COM1_LSR, %dx
    movw $0xffff, %cx                   /* bounded wait, like the runtime's serial_putc */
2:  inb %dx, %al
    testb $0x20, %al
    loopz 2b
    movw $COM1, %dx
    movb %bl, %al
    outb %al, %dx
    jmp 1b
3:  movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl $SEL_CODE32, $rm_back         /* GDTR survived real mode */
    .code32

rm_msg:
    .asciz "cputest: modes: this line was printed by real-mode code\r\n"
    .balign 4
rm_data:
    .skip 20
rm_blob_end:

    .section .rodata
    .balign 4
    .globl rm_blob_size, rm_save_size /* modes.c checks that the blob fits the save area */
rm_blob_size:
    .long rm_blob_end - rm_blob
rm_save_size:
    .long RM_SAVE_BYTES

    .section .bss
    .balign 4
rm_saved:
    .skip RM_SAVE_BYTES

    .section .text
/* ---- long mode ---------------------------------------------------------------------------- */
    .globl lm_trip
lm_trip:
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    lgdt gdt_desc
    movl 20(%esp), %eax
    movl 24(%esp), %edi
    movl %cr4, %ecx
    orl $CR4_PAE, %ecx
    movl %ecx, %cr4
    movl %eax, %cr3
    movl $IA32_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $CR0_PG, %eax
    movl %eax, %cr0                     /* IA-32e active, compatibility mode */
    ljmp $SEL_CODE64, $lm64

    .code64
lm64:
    movl %esp, %esp                     /* zero-extend: upper halves are undefined on entry */
    movl %edi, %edi
    movl $IA32_EFER, %ecx
    rdmsr
    movl %eax, LM_EFER(%rdi)
    movl %edx, LM_EFER+4(%rdi)
    movabsq $0x0123456789abcdef, %rax   /* a 64x64->128 multiply */
    movabsq $0xfedcba9876543210, %rbx
    mulq %rbx
    movq %rax, LM_PROD_LO(%rdi)
    movq %rdx, LM_PROD_HI(%rdi)
    leaq lm_marker(%rip), %rax
    movq %rax, LM_RIP_LEA(%rdi)
    movq lm_marker(%rip), %rax
    movq %rax, LM_RIP_LOAD(%rdi)
    movabsq $0x8000000180000001, %rax   /* 64-bit push/pop through the stack */
    pushq %rax
    xorl %eax, %eax
    popq %rcx
    movq %rcx, LM_PUSHPOP(%rdi)
    movl $0x80000001, %eax
    cpuid
    movl %edx, LM_EXT_EDX(%rdi)
    /* r8..r15 must survive a hop through compatibility mode (SDM Vol. 1 3.4.1.1). */
    movabsq $0x0808080880808080, %r8
    movabsq $0x0909090990909090, %r9
    movabsq $0x0a0a0a0aa0a0a0a0, %r10
    movabsq $0x0b0b0b0bb0b0b0b0, %r11
    movabsq $0x0c0c0c0cc0c0c0c0, %r12
    movabsq $0x0d0d0d0dd0d0d0d0, %r13
    movabsq $0x0e0e0e0ee0e0e0e0, %r14
    movabsq $0x0f0f0f0ff0f0f0f0, %r15
    pushq $SEL_CODE32
    leaq lm_compat(%rip), %rax
    pushq %rax
    lretq

    .code32
lm_compat:                              /* compatibility mode: 32-bit code, IA-32e still on */
    movw %cs, %ax
    movw %ax, LM_COMPAT_CS(%edi)
    xorl %eax, %eax
    cpuid                               /* something 32-bit that clobbers eax..edx */
    ljmp $SEL_CODE64, $lm64_again

    .code64
lm64_again:
    movl %esp, %esp
    movl %edi, %edi
    movq %r8, LM_R8(%rdi)
    movq %r9, LM_R8+8(%rdi)
    movq %r10, LM_R8+16(%rdi)
    movq %r11, LM_R8+24(%rdi)
    movq %r12, LM_R8+32(%rdi)
    movq %r13, LM_R8+40(%rdi)
    movq %r14, LM_R8+48(%rdi)
    movq %r15, LM_R8+56(%rdi)
    pushq $SEL_CODE32
    leaq lm_exit(%rip), %rax
    pushq %rax
    lretq

    .code32
lm_exit:                                /* compatibility mode: turning paging off leaves IA-32e */
    movl %cr0, %eax
    andl $~CR0_PG, %eax
    movl %eax, %cr0
    movl $IA32_EFER, %ecx
    rdmsr
    andl $~EFER_LME, %eax
    wrmsr
    movl %cr4, %eax
    andl $~CR4_PAE, %eax
    movl %eax, %cr4
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .section .data
    .balign 8
    .globl lm_marker
lm_marker:
    .quad 0x1122334455667788
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff            /* 0x08: 32-bit code, flat */
    .quad 0x00cf92000000ffff            /* 0x10: data, flat */
    .quad 0x00009a008000ffff            /* 0x18: 16-bit code, base RM_BASE, limit 64 KiB */
    .quad 0x000092000000ffff            /* 0x20: 16-bit data, base 0, limit 64 KiB */
    .quad 0x00af9a000000ffff            /* 0x28: 64-bit code (L=1, D=0) */
gdt_end:
    .balign 4
    .word 0
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
    .word 0
rm_ivt_desc:
    .word 0x3ff
    .long 0
    .word 0
saved_idt:
    .word 0
    .long 0

    .section .note.GNU-stack, "", @progbits
