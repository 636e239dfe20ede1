/*
 * COM1 16550, polled (register layout from the PC16550D data sheet): 115200 8N1, FIFOs on,
 * interrupts off, receive by polling LSR.DR. The transmit wait is bounded so a UART that never
 * reports ready (or none at all: unknown ports read as 0xff) cannot hang the guest.
 */
#include "guest.h"

#define COM1 0x3f8
enum { THR = 0, RBR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5 };
#define DLL 0 /* with LCR.DLAB */
#define DLM 1
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS 0x03
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define TX_SPIN_LIMIT 100000

void serial_init(void)
{
    outb(COM1 + IER, 0);
    outb(COM1 + LCR, LCR_DLAB);
    outb(COM1 + DLL, 1); /* 115200 baud */
    outb(COM1 + DLM, 0);
    outb(COM1 + LCR, LCR_8N1);
    outb(COM1 + FCR, FCR_ENABLE_CLEAR);
    outb(COM1 + MCR, MCR_DTR_RTS);
}

void serial_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    for (unsigned i = 0; i < TX_SPIN_LIMIT && !(inb(COM1 + LSR) & LSR_THRE); i++)
        __asm__ volatile("pause");
    outb(COM1 + THR, (uint8_t)c);
}

int serial_getc_nowait(void)
{
    if (!(inb(COM1 + LSR) & LSR_DR))
        return -1;
    return inb(COM1 + RBR);
}

void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

void guest_exit(unsigned code)
{
    outb(ISA_DEBUG_EXIT_PORT, (uint8_t)code);
    /* No exit device: stop here, visibly. */
    serial_puts("guest: exit port did nothing; halting\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}
