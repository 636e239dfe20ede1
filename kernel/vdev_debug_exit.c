#include "kernel/vdev_debug_exit.h"

#define DEBUG_EXIT_STATE_VERSION 1

bool vdev_debug_exit_write(struct vdev_debug_exit *d, uint32_t value, uint32_t *exit_code)
{
    d->written = true;
    d->value = value;
    *exit_code = (value << 1) | 1;
    return true;
}

void vdev_debug_exit_save(const struct vdev_debug_exit *d, struct vdev_debug_exit_state *out)
{
    out->version = DEBUG_EXIT_STATE_VERSION;
    out->dev = *d;
}

int vdev_debug_exit_restore(struct vdev_debug_exit *d, const struct vdev_debug_exit_state *in)
{
    if (in->version != DEBUG_EXIT_STATE_VERSION)
        return -1;
    *d = in->dev;
    return 0;
}
