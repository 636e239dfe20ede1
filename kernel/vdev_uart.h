/*
 * A 16550 UART for a guest at 0x3f8 (COM1): transmit into the VM's console ring, receive from
 * `vm console`. Enough of the register set for guests that poll (no interrupts before the PC
 * platform issue). State in one struct with save/restore for migration.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_UART_BASE 0x3f8
#define VDEV_UART_PORTS 8
#define VDEV_UART_RX_FIFO 16

struct vdev_uart {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    uint8_t rx[VDEV_UART_RX_FIFO];
    uint8_t rx_count;
};

/* Saved state, versioned for migration. */
struct vdev_uart_state {
    uint32_t version;
    struct vdev_uart uart;
};

typedef void (*vdev_uart_tx_fn)(void *ctx, uint8_t byte);

void vdev_uart_reset(struct vdev_uart *u);
/* offset 0..7 from the base; reads return the register, writes may emit a byte through tx. */
uint8_t vdev_uart_read(struct vdev_uart *u, unsigned offset);
void vdev_uart_write(struct vdev_uart *u, unsigned offset, uint8_t value, vdev_uart_tx_fn tx,
                     void *ctx);
/* Host to guest: false when the FIFO is full (the byte is not taken). */
bool vdev_uart_receive(struct vdev_uart *u, uint8_t byte);
void vdev_uart_save(const struct vdev_uart *u, struct vdev_uart_state *out);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_uart_restore(struct vdev_uart *u, const struct vdev_uart_state *in);
