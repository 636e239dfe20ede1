/*
 * The guest's pair of 8259A PICs (PC/AT wiring: master at 0x20/0x21, slave at 0xa0/0xa1 on
 * master line 2) and the edge/level control registers (ELCR, PIIX-style) at 0x4d0/0x4d1.
 * A pure model: the caller routes port I/O here, drives the 16 input lines, asks which vector
 * the CPU would take now, and acknowledges it when it injects. State in one struct with
 * save/restore for migration.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_PIC_MASTER_BASE 0x20
#define VDEV_PIC_SLAVE_BASE 0xa0
#define VDEV_PIC_ELCR_BASE 0x4d0
#define VDEV_PIC_LINES 16

/* One 8259A. Flags are 0 or 1 (uint8_t so a saved state has a fixed layout). */
struct vdev_pic_chip {
    uint8_t irr, isr, imr;
    uint8_t lines;    /* current input levels, for edge detection and level IRR */
    uint8_t elcr;     /* 1 = level-triggered line (ELCR), ORed with ltim */
    uint8_t icw_step; /* 0 = initialised; 2, 3, 4 = the next ICW expected on the odd port */
    uint8_t icw4_needed, single, ltim;
    uint8_t vector_base; /* ICW2 T7-T3 */
    uint8_t icw3;
    uint8_t mode_8086, aeoi, sfnm;
    uint8_t rotate_aeoi;
    uint8_t priority_add; /* IR number with the highest priority (0 = fixed, IR0 highest) */
    uint8_t read_isr;     /* OCW3 RIS: the even port reads ISR instead of IRR */
    uint8_t poll;         /* OCW3 P: the next even-port read is a poll */
    uint8_t special_mask; /* OCW3 SMM */
};

struct vdev_pic {
    struct vdev_pic_chip chip[2]; /* 0 = master, 1 = slave */
};

struct vdev_pic_state {
    uint32_t version;
    struct vdev_pic pic;
};

/* As a PC BIOS leaves them: initialised, vectors 0x08 / 0x70, cascade, all lines masked. */
void vdev_pic_reset(struct vdev_pic *pic);
/* Port access of one byte; returns false (nothing done) if the port is not the PICs'/ELCR's. */
bool vdev_pic_io(struct vdev_pic *pic, uint16_t port, bool is_write, uint8_t *value);
/* Drives input line irq (0..15, others ignored); line 2 belongs to the cascade unless the
 * master was initialised in single mode. */
void vdev_pic_set_irq(struct vdev_pic *pic, unsigned irq, bool level);
/* The vector the CPU would get from INTA now, or -1 if INTR is not asserted. */
int vdev_pic_pending_vector(const struct vdev_pic *pic);
/* INTA: moves the request from IRR to ISR (unless AEOI) and returns its vector, or the
 * spurious vector (base + 7 of the PIC whose request went away) without setting its ISR. */
int vdev_pic_acknowledge(struct vdev_pic *pic);
void vdev_pic_save(const struct vdev_pic *pic, struct vdev_pic_state *out);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_pic_restore(struct vdev_pic *pic, const struct vdev_pic_state *in);
