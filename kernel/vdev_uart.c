/*
 * Guest 16550 (register model from the PC16550D data sheet). Transmit is immediate: a byte
 * written to THR goes to the VM's console at once, so LSR always reports the transmitter empty.
 * Receive holds up to 16 bytes from `vm console`. No interrupts until the PC platform exists.
 */
#include "kernel/vdev_uart.h"

#include "kernel/string.h"

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NO_INT 0x01
#define IIR_FIFO_ENABLED 0xc0
#define MCR_LOOP 0x10
#define MSR_IDLE 0xb0      /* CTS, DSR, DCD asserted: a terminal is attached */
#define UART_STATE_VERSION 1

void vdev_uart_reset(struct vdev_uart *u)
{
    memset(u, 0, sizeof *u);
    u->dll = 12; /* 9600 baud after reset, as a PC BIOS leaves it */
}

static uint8_t rx_pop(struct vdev_uart *u)
{
    if (u->rx_count == 0)
        return 0;
    uint8_t b = u->rx[0];
    u->rx_count--;
    memmove(u->rx, u->rx + 1, u->rx_count);
    return b;
}

uint8_t vdev_uart_read(struct vdev_uart *u, unsigned offset)
{
    bool dlab = u->lcr & LCR_DLAB;
    switch (offset) {
    case RBR_THR: return dlab ? u->dll : rx_pop(u);
    case IER: return dlab ? u->dlm : u->ier;
    case IIR_FCR: return IIR_NO_INT | ((u->fcr & 1) ? IIR_FIFO_ENABLED : 0);
    case LCR: return u->lcr;
    case MCR: return u->mcr;
    case LSR: return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
    case MSR:
        if (u->mcr & MCR_LOOP) /* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
            return (uint8_t)(((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3) |
                             ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
        return MSR_IDLE;
    case SCR: return u->scr;
    default: return 0xff;
    }
}

void vdev_uart_write(struct vdev_uart *u, unsigned offset, uint8_t value, vdev_uart_tx_fn tx,
                     void *ctx)
{
    bool dlab = u->lcr & LCR_DLAB;
    switch (offset) {
    case RBR_THR:
        if (dlab)
            u->dll = value;
        else if (u->mcr & MCR_LOOP)
            vdev_uart_receive(u, value); /* loopback: what is sent is received */
        else if (tx)
            tx(ctx, value);
        break;
    case IER:
        if (dlab)
            u->dlm = value;
        else
            u->ier = value & 0x0f;
        break;
    case IIR_FCR:
        u->fcr = value;
        if (value & 0x02) /* clear the receive FIFO */
            u->rx_count = 0;
        break;
    case LCR: u->lcr = value; break;
    case MCR: u->mcr = value & 0x1f; break;
    case SCR: u->scr = value; break;
    default: break; /* LSR and MSR are read-only */
    }
}

bool vdev_uart_receive(struct vdev_uart *u, uint8_t byte)
{
    if (u->rx_count == VDEV_UART_RX_FIFO)
        return false;
    u->rx[u->rx_count++] = byte;
    return true;
}

void vdev_uart_save(const struct vdev_uart *u, struct vdev_uart_state *out)
{
    out->version = UART_STATE_VERSION;
    out->uart = *u;
}

int vdev_uart_restore(struct vdev_uart *u, const struct vdev_uart_state *in)
{
    if (in->version != UART_STATE_VERSION || in->uart.rx_count > VDEV_UART_RX_FIFO)
        return -1;
    *u = in->uart;
    u->mcr &= 0x1f;
    return 0;
}
