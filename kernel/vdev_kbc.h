/*
 * Just enough of the PC's i8042 keyboard controller for a guest to reset itself and find A20
 * on, plus the chipset's port 0x92 (System Control Port A) and the POST code port 0x80. No
 * keyboard, no mouse. A pure model: a reset request is reported to the caller, which resets
 * the VM (never civic). State in one struct with save/restore.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_KBC_DATA 0x60
#define VDEV_KBC_STATUS 0x64 /* read: status; write: command */
#define VDEV_KBC_PORT92 0x92
#define VDEV_KBC_POST 0x80
#define VDEV_KBC_RESET_CONTROL 0xcf9 /* PIIX3 Reset Control register (82371SB datasheet, RC) */

/* i8042 (IBM PC/AT Technical Reference, keyboard controller): status register bits. */
#define KBC_STATUS_OBF 0x01 /* output buffer full */
#define KBC_STATUS_IBF 0x02 /* input buffer full */
#define KBC_STATUS_SYS 0x04 /* system flag: self-test passed */
/* i8042 commands. */
#define KBC_CMD_WRITE_OUTPUT 0xd1 /* next byte to 0x60 goes to the output port */
#define KBC_CMD_PULSE_RESET 0xfe  /* pulse output port bit 0 (CPU reset) low */
/* i8042 output port bits. */
#define KBC_OUT_RESET 0x01 /* 0 = CPU reset asserted */
#define KBC_OUT_A20 0x02
/* PIIX / PS/2 System Control Port A (port 0x92). */
#define PORT92_RESET 0x01 /* 0 -> 1 requests a fast CPU reset */
#define PORT92_A20 0x02

#define RC_SYSTEM_RESET 0x02 /* hard reset when the CPU reset is asserted */
#define RC_RESET_CPU 0x04    /* 0 -> 1 starts the reset */
#define RC_FULL_RESET 0x08

struct vdev_kbc {
    uint8_t port92;        /* PORT92_A20 only: bit 0 self-clears when the VM resets */
    uint8_t output_port;   /* KBC_OUT_A20 only (reset is never held asserted) */
    uint8_t pending_cmd;   /* 0, or KBC_CMD_WRITE_OUTPUT awaiting its data byte */
    uint8_t reset_control; /* RC_SYSTEM_RESET | RC_FULL_RESET bits as last written */
};

struct vdev_kbc_state {
    uint32_t version;
    struct vdev_kbc kbc;
};

/* As a BIOS leaves it: A20 enabled both ways, no command pending. */
void vdev_kbc_reset(struct vdev_kbc *kbc);
/*
 * Byte access to 0x60, 0x64, 0x92, or an access of size 1, 2 or 4 to port 0x80 (POST codes:
 * writes swallowed, reads all ones). Returns false for other ports and for wider accesses to
 * the byte ports. *reset_request is set true when the guest asked for a CPU reset (command
 * 0xfe, output port bit 0 written 0, port 0x92 bit 0 written 1), false otherwise.
 */
bool vdev_kbc_io(struct vdev_kbc *kbc, uint16_t port, unsigned size, bool is_write, uint32_t *value,
                 bool *reset_request);
/* Whether the guest sees A20 enabled (either gate). civic does not mask A20 in guest memory. */
bool vdev_kbc_a20(const struct vdev_kbc *kbc);
void vdev_kbc_save(const struct vdev_kbc *kbc, struct vdev_kbc_state *out);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_kbc_restore(struct vdev_kbc *kbc, const struct vdev_kbc_state *in);
