/*
 * The TSC rate measured against PIT channel 2, for guests that report their own run time
 * (kvstore, memtest). No interrupts and no TSC frequency from CPUID: every PC and emulator has the
 * PIT, and a hypervisor's TSC scaling shows up in the measurement instead of being assumed away.
 */
#pragma once
#include <stdint.h>

/*
 * TSC ticks per second, measured over one 50 ms one-shot of PIT channel 2 (polled through port
 * 0x61 bit 5, no interrupts). 0 when the TSC did not advance or the PIT never fired.
 */
uint64_t pit_tsc_hz(void);
/* n / d with a 32-bit divisor, as two 32-bit divides (no libgcc in a -m32 freestanding link). */
uint64_t pit_udiv64(uint64_t n, uint32_t d);
/* cycles as whole milliseconds at tsc_hz; 0 when tsc_hz is unknown (0) or absurd. */
uint64_t tsc_to_ms(uint64_t cycles, uint64_t tsc_hz);
