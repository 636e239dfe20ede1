/*
 * 16550 UART. Output is polled (the console must work from a panic with interrupts off); input is
 * drained into a ring by the receive interrupt and also polled by serial_getc(), so the shell
 * works before interrupts are routed and never loses bytes to a 16-byte FIFO while it is busy.
 */
#include "kernel/serial.h"

#include "arch/x86/io.h"
#include "arch/x86/irq.h"

/* 16550 registers (offsets from the base port) and bits, as in the PC16550D data sheet. */
enum {
    UART_RBR_THR = 0, /* receive buffer / transmit holding (DLAB=0), divisor low (DLAB=1) */
    UART_IER = 1,     /* interrupt enable (DLAB=0), divisor high (DLAB=1) */
    UART_FCR = 2,     /* FIFO control (write) / interrupt identification (read) */
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_SCR = 7,
};
#define IER_RX_AVAILABLE 0x01
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define FCR_ENABLE_CLEAR 0x07
#define FCR_TRIGGER_14 0xc0
#define MCR_DTR_RTS_OUT2 0x0b /* OUT2 gates the UART's interrupt line on a PC */
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

#define RX_RING_SIZE 8192u

static uint16_t base;
static bool present;
static volatile uint8_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head, rx_tail; /* head: next write, tail: next read */
static volatile uint64_t rx_overruns;

void serial_init(uint16_t port)
{
    base = port;
    /* The scratch register tells whether a UART is there at all. */
    outb(base + UART_SCR, 0x5a);
    present = inb(base + UART_SCR) == 0x5a;
    if (!present)
        return;
    outb(base + UART_IER, 0);
    outb(base + UART_LCR, LCR_DLAB);
    outb(base + UART_RBR_THR, 1); /* divisor 1: 115200 baud */
    outb(base + UART_IER, 0);
    outb(base + UART_LCR, LCR_8N1);
    outb(base + UART_FCR, FCR_ENABLE_CLEAR | FCR_TRIGGER_14);
    outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
    outb(base + UART_IER, IER_RX_AVAILABLE);
}

bool serial_present(void) { return present; }

void serial_putc(char c)
{
    if (!present)
        return;
    for (int spins = 0; spins < 1000000 && !(inb(base + UART_LSR) & LSR_THR_EMPTY); spins++)
        __asm__ volatile("pause");
    outb(base + UART_RBR_THR, (uint8_t)c);
}

/* Moves every byte the UART holds into the ring. Callers hold interrupts off. */
static void drain_fifo(void)
{
    while (inb(base + UART_LSR) & LSR_DATA_READY) {
        uint8_t b = inb(base + UART_RBR_THR);
        uint32_t next = (rx_head + 1) % RX_RING_SIZE;
        if (next == rx_tail) {
            rx_overruns++;
            continue;
        }
        rx_ring[rx_head] = b;
        rx_head = next;
    }
}

void serial_irq(void)
{
    if (present)
        drain_fifo();
}

int serial_getc(void)
{
    if (!present)
        return -1;
    irq_state_t s = irq_save();
    drain_fifo();
    int c = -1;
    if (rx_tail != rx_head) {
        c = rx_ring[rx_tail];
        rx_tail = (rx_tail + 1) % RX_RING_SIZE;
    }
    irq_restore(s);
    return c;
}

uint64_t serial_rx_overruns(void) { return rx_overruns; }
