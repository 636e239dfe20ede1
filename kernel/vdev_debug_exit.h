/*
 * QEMU's isa-debug-exit device at port 0xf4: a write of v ends the guest with exit code
 * (v << 1) | 1. State in one struct with save/restore.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_DEBUG_EXIT_PORT 0xf4

struct vdev_debug_exit {
    bool written;
    uint32_t value;
};

struct vdev_debug_exit_state {
    uint32_t version;
    struct vdev_debug_exit dev;
};

/* Returns true when the write ends the guest; *exit_code is then (value << 1) | 1. */
bool vdev_debug_exit_write(struct vdev_debug_exit *d, uint32_t value, uint32_t *exit_code);
void vdev_debug_exit_save(const struct vdev_debug_exit *d, struct vdev_debug_exit_state *out);
int vdev_debug_exit_restore(struct vdev_debug_exit *d, const struct vdev_debug_exit_state *in);
