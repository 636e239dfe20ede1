/* kvstore's private helpers (guests/README.md, "kvstore"). */
#pragma once
#include "guest.h"

/*
 * TSC ticks per second, measured over one 50 ms one-shot of PIT channel 2 (polled through port
 * 0x61 bit 5, no interrupts). 0 when the TSC did not advance.
 */
uint64_t kv_tsc_hz(void);
/* n / d with a 32-bit divisor, as two 32-bit divides (no libgcc in a -m32 freestanding link). */
uint64_t kv_udiv64(uint64_t n, uint32_t d);
