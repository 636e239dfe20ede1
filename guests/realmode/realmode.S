/*
 * realmode: a flat 16-bit real-mode guest in one 512-byte boot sector. Position independent: it
 * finds its own address with call/pop and addresses its data through CS, so it runs wherever it
 * is loaded, started at CS:IP = 0x07c0:0x0000 (civic: `flat=0x7c00 mode=real`) or 0x0000:0x7c00
 * (a PC BIOS booting it from a disk). Prints on COM1 by port I/O, then exits through port 0xf4
 * with value 0. Needs no memory beyond its segment's 64 KiB (the stack is at its top).
 */
#define COM1 0x3f8
#define EXIT_PORT 0xf4

    .code16
    .text
    .globl start
start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %sp, %sp               /* stack at the top of our 64 KiB segment */
    call 1f
1:  popw %bp
    subw $(1b - start), %bp     /* BP = IP of start */

    /* 16550: 115200 8N1, FIFOs on, interrupts off. */
    movw $COM1 + 1, %dx
    xorb %al, %al
    outb %al, %dx
    movw $COM1 + 3, %dx
    movb $0x80, %al             /* DLAB */
    outb %al, %dx
    movw $COM1 + 0, %dx
    movb $1, %al
    outb %al, %dx
    movw $COM1 + 1, %dx
    xorb %al, %al
    outb %al, %dx
    movw $COM1 + 3, %dx
    movb $0x03, %al
    outb %al, %dx
    movw $COM1 + 2, %dx
    movb $0x07, %al
    outb %al, %dx
    movw $COM1 + 4, %dx
    movb $0x03, %al
    outb %al, %dx

    leaw (msg_hello - start)(%bp), %si
    call puts
    leaw (msg_cs - start)(%bp), %si
    call puts
    movw %cs, %ax
    call puthex16
    leaw (msg_ip - start)(%bp), %si
    call puts
    movw %bp, %ax
    call puthex16
    movb $'\n', %al
    call putc

    xorb %al, %al
    outb %al, $EXIT_PORT
    leaw (msg_halt - start)(%bp), %si
    call puts
halt:
    cli
    hlt
    jmp halt

/* Prints the NUL-terminated string at DS:SI. */
puts:
    lodsb
    testb %al, %al
    jz 2f
    call putc
    jmp puts
2:  ret

/* Prints AX as 4 hex digits. */
puthex16:
    movw $4, %cx
3:  rolw $4, %ax
    pushw %ax
    andb $0x0f, %al
    addb $'0', %al
    cmpb $'9', %al
    jbe 4f
    addb $('a' - '0' - 10), %al
4:  call putc
    popw %ax
    loop 3b
    ret

/* Sends AL (LF as CR LF), waiting a bounded time for the transmitter. */
putc:
    cmpb $'\n', %al
    jne 5f
    movb $'\r', %al
    call putc
    movb $'\n', %al
5:  pushw %cx
    pushw %ax
    movw $COM1 + 5, %dx
    movw $0xffff, %cx
6:  inb %dx, %al
    testb $0x20, %al            /* LSR.THRE */
    loopz 6b
    popw %ax
    movw $COM1, %dx
    outb %al, %dx
    popw %cx
    ret

msg_hello:
    .asciz "realmode: hello from real mode\n"
msg_cs:
    .asciz "realmode: cs="
msg_ip:
    .asciz " ip="
msg_halt:
    .asciz "realmode: exit port did nothing; halting\n"

    .org 510
    .byte 0x55, 0xaa            /* boot sector signature, for a PC BIOS */

    .section .note.GNU-stack, "", @progbits
