/*
 * The guest's 8254 PIT (ports 0x40-0x43) and the PC's port 0x61 (channel 2 gate, speaker
 * data, OUT2). A pure model: counting is a function of the time passed into each call
 * (`now_ns`, any monotonic nanosecond clock), so it is deterministic. The caller raises IRQ 0
 * on the PIC for every rising edge of OUT0 reported by vdev_pit_irq0_edges() and arms a timer
 * for vdev_pit_next_event_ns(). State in one struct with save/restore for migration.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_PIT_BASE 0x40
#define VDEV_PIT_PORTS 4
#define VDEV_PIT_PORT61 0x61
#define VDEV_PIT_HZ 1193182u
#define VDEV_PIT_CHANNELS 3
#define VDEV_PIT_NO_EVENT UINT64_MAX

/* One counter; ticks are input-clock periods on the model's absolute tick scale. */
struct vdev_pit_channel {
    uint64_t start_tick; /* when counting started (valid while counting and gate high) */
    uint64_t frozen;     /* ticks counted so far, while the gate is low */
    uint32_t reload;     /* initial count, 1..65536 (0 written means 65536) */
    uint16_t latched_count;
    uint8_t mode;     /* 0..5 */
    uint8_t rw;       /* 1 lobyte, 2 hibyte, 3 lobyte then hibyte */
    uint8_t bcd;      /* stored and reported, counting stays binary */
    uint8_t counting; /* a count has been loaded since the control word */
    uint8_t gate;
    uint8_t count_latched; /* bytes of latched_count left to read: 0, 1 or 2 */
    uint8_t status_latched;
    uint8_t status;
    uint8_t read_hi;  /* lohi live read: the next read is the high byte */
    uint8_t write_hi; /* lohi write: the next write is the high byte */
    uint8_t write_lo; /* low byte written so far in lohi */
};

struct vdev_pit {
    struct vdev_pit_channel ch[VDEV_PIT_CHANNELS];
    uint64_t irq0_seen_tick; /* OUT0 edges up to here have been counted */
    uint64_t irq0_pending;   /* counted but not yet returned by vdev_pit_irq0_edges */
    uint8_t port61;          /* bits 0-3 as written */
};

/* Ticks are saved relative to the time of the save, so the destination's clock may differ. */
struct vdev_pit_state {
    uint32_t version;
    uint64_t saved_tick;
    struct vdev_pit pit;
};

/* Power-on: no channel programmed, OUT0 low, gate 2 low. */
void vdev_pit_reset(struct vdev_pit *pit, uint64_t now_ns);
/* Port access of one byte (0x40-0x43, 0x61); false (nothing done) for any other port. */
bool vdev_pit_io(struct vdev_pit *pit, uint16_t port, bool is_write, uint8_t *value,
                 uint64_t now_ns);
/* Rising edges of OUT0 since the previous call (or reset). */
uint64_t vdev_pit_irq0_edges(struct vdev_pit *pit, uint64_t now_ns);
/* When OUT0 next rises (now_ns if edges are already waiting), or VDEV_PIT_NO_EVENT. */
uint64_t vdev_pit_next_event_ns(const struct vdev_pit *pit, uint64_t now_ns);
/* Level of a channel's OUT at now_ns. */
bool vdev_pit_out(const struct vdev_pit *pit, unsigned channel, uint64_t now_ns);
void vdev_pit_save(const struct vdev_pit *pit, struct vdev_pit_state *out, uint64_t now_ns);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_pit_restore(struct vdev_pit *pit, const struct vdev_pit_state *in, uint64_t now_ns);
