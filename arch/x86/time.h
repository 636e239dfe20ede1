/* Time: the TSC calibrated against the PIT (channel 2, gated by port 0x61), and the LAPIC timer
 * as the periodic tick. arch_time_ns() (kernel/arch.h) reads the TSC. */
#pragma once
#include <stdint.h>

#include "kernel/error.h"

void pic_disable(void);          /* remap both 8259s to VEC_PIC_BASE and mask every line */
civic_err tsc_calibrate(void);   /* CIVIC_EIO if the PIT does not count */
uint64_t tsc_hz(void);
void lapic_init(void);           /* xAPIC (MMIO through paging_map_mmio) or x2APIC */
uint32_t lapic_id(void);
void lapic_eoi(void);
civic_err lapic_timer_start(unsigned hz); /* periodic tick, calibrated against the TSC */
uint64_t lapic_ticks(void);      /* ticks since the timer started */
void wallclock_init(void);       /* read the CMOS RTC once (after tsc_calibrate) */
