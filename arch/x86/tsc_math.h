/* The arithmetic of time keeping, pure so that it is unit-tested on the host: PIT counts, TSC
 * frequency from a measurement, cycles to nanoseconds without overflow, LAPIC timer counts. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* PIT channel count for an interval of us microseconds (rounded to nearest), 0 if it does not
 * fit the 16-bit counter. */
uint32_t pit_count_for_us(uint32_t us);

/* The rate of a counter that advanced `delta` during `pit_count` PIT input cycles, in Hz;
 * 0 if pit_count is 0 or the product would overflow. */
uint64_t rate_from_pit(uint64_t delta, uint32_t pit_count);

/* Cycles-to-nanoseconds factor for a counter at hz: ns = (cycles * mult) >> TSC_NS_SHIFT.
 * 0 when hz is 0. */
#define TSC_NS_SHIFT 32
uint64_t tsc_ns_mult(uint64_t hz);
uint64_t tsc_cycles_to_ns(uint64_t cycles, uint64_t mult);

/* Counts per second of a counter that advanced `count` while the TSC advanced `tsc_delta` at
 * tsc_hz; 0 if tsc_delta is 0. */
uint64_t rate_from_tsc(uint64_t count, uint64_t tsc_delta, uint64_t tsc_hz);

/* Sorts v (n small) and returns its median (the lower middle for even n); 0 for n == 0. */
uint64_t median_u64(uint64_t *v, size_t n);
