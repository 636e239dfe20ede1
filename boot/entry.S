/*
 * 32-bit entry from GRUB (Multiboot2 spec 3.3: EAX = magic, EBX = physical address of the boot
 * information, protected mode, paging off). We check for long mode, build boot page tables that
 * identity-map the low 4 GiB and alias the low 2 GiB at KERNEL_VMA (-2 GiB), switch to 64-bit
 * mode and call kmain(magic, mbi_phys) on the kernel stack. Anything fatal here is reported on
 * COM1 in plain words, because nothing else exists yet.
 */
#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define COM1 0x3f8
#define KERNEL_VMA 0xffffffff80000000

#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_PS  0x080

#define CR0_PE  (1 << 0)
#define CR0_WP  (1 << 16)
#define CR0_PG  (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

    .section .boot.text, "ax"
    .code32
    .globl boot_entry32
boot_entry32:
    cli
    cld
    mov $boot_stack_top, %esp
    mov %eax, %edi
    mov %ebx, %esi

    call serial_init32

    cmp $MB2_BOOTLOADER_MAGIC, %edi
    jne .Lno_multiboot2

    /* CPUID exists if EFLAGS.ID (bit 21) can be toggled. */
    pushfl
    pop %eax
    mov %eax, %ecx
    xor $(1 << 21), %eax
    push %eax
    popfl
    pushfl
    pop %eax
    push %ecx
    popfl
    cmp %eax, %ecx
    je .Lno_long_mode

    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb .Lno_long_mode
    mov $0x80000001, %eax
    cpuid
    test $(1 << 29), %edx           /* CPUID.80000001H:EDX.LM */
    jz .Lno_long_mode
    mov %edx, %ebp                  /* keep: bit 20 is NX */

    /* Boot page tables: pd[i] maps GiB i with 2 MiB pages. */
    mov $boot_pd, %ebx
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax                   /* low 32 bits of the physical address */
    or $(PTE_P | PTE_W | PTE_PS), %eax
    mov %ecx, %edx
    shr $11, %edx                   /* high bits: (ecx << 21) >> 32 */
    mov %eax, (%ebx, %ecx, 8)
    mov %edx, 4(%ebx, %ecx, 8)
    inc %ecx
    cmp $(4 * 512), %ecx
    jne 1b

    /* pdpt_low[0..3] -> pd[0..3]; pdpt_high[510..511] -> pd[0..1]; pml4[0], pml4[511]. */
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $12, %eax
    add $boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pdpt_low(, %ecx, 8)
    cmp $2, %ecx
    jae 3f
    mov %eax, boot_pdpt_high + 510 * 8(, %ecx, 8)
3:  inc %ecx
    cmp $4, %ecx
    jne 2b

    mov $boot_pdpt_low, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pml4
    mov $boot_pdpt_high, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pml4 + 511 * 8

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3

    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    test $(1 << 20), %ebp
    jz 4f
    or $EFER_NXE, %eax
4:  wrmsr

    mov %cr0, %eax
    or $(CR0_PE | CR0_PG | CR0_WP), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $boot_entry64

.Lno_multiboot2:
    mov $msg_no_mb2, %esi
    jmp fatal32
.Lno_long_mode:
    mov $msg_no_lm, %esi
    jmp fatal32

/* 16550 at 115200 8N1, the same settings the C driver uses later. */
serial_init32:
    mov $COM1 + 1, %dx
    xor %al, %al
    out %al, %dx            /* IER: no interrupts */
    mov $COM1 + 3, %dx
    mov $0x80, %al
    out %al, %dx            /* LCR: DLAB */
    mov $COM1 + 0, %dx
    mov $1, %al
    out %al, %dx            /* divisor 1 = 115200 */
    mov $COM1 + 1, %dx
    xor %al, %al
    out %al, %dx
    mov $COM1 + 3, %dx
    mov $0x03, %al
    out %al, %dx            /* 8N1 */
    mov $COM1 + 2, %dx
    mov $0xc7, %al
    out %al, %dx            /* FCR: enable and clear FIFOs */
    mov $COM1 + 4, %dx
    mov $0x03, %al
    out %al, %dx            /* MCR: DTR, RTS */
    ret

/* Print the NUL-terminated string at %esi and stop. */
fatal32:
1:  lodsb
    test %al, %al
    jz 3f
    mov %al, %ah
    mov $COM1 + 5, %dx
2:  in %dx, %al
    test $0x20, %al
    jz 2b
    mov $COM1, %dx
    mov %ah, %al
    out %al, %dx
    jmp 1b
3:  cli
    hlt
    jmp 3b

    .code64
boot_entry64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    movabs $kernel_stack_top, %rsp
    xor %ebp, %ebp
    mov %edi, %edi          /* upper halves are undefined after the mode switch */
    mov %esi, %esi
    movabs $kmain, %rax
    call *%rax
5:  cli
    hlt
    jmp 5b

    .section .boot.data, "a"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt

msg_no_mb2:
    .asciz "civic: not started by a Multiboot2 loader (bad magic in EAX); boot civic from GRUB 2 with 'multiboot2'.\r\n"
msg_no_lm:
    .asciz "civic: this CPU has no 64-bit long mode (CPUID.80000001H:EDX.LM = 0); civic needs an x86-64 CPU with VMX.\r\n"

    .section .boot.bss, "aw", @nobits
    .balign 4096
boot_pml4:       .skip 4096
boot_pdpt_low:   .skip 4096
boot_pdpt_high:  .skip 4096
boot_pd:         .skip 4 * 4096
boot_stack:      .skip 4096
boot_stack_top:

    .bss
    .balign 16
    .globl kernel_stack_bottom, kernel_stack_top
kernel_stack_bottom:
    .skip 32768
kernel_stack_top:
