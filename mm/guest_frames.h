/* The kernel's frame source for guest memory and its EPT tables: single PMM frames, zeroed. */
#pragma once
#include "mm/guest_mem.h"

/* Frames kept back from guests (4 MiB): when only these are free, a guest's fault waits for
 * remote memory to evict (or, without peers, the VM stops for want of memory). */
#define GUEST_FRAMES_RESERVE 1024u

const struct guest_frame_source *guest_frames_kernel(void);
