/* The kernel's frame source for guest memory and its EPT tables: single PMM frames, zeroed. */
#pragma once
#include "mm/guest_mem.h"

const struct guest_frame_source *guest_frames_kernel(void);
