/* Round-robin over runnable vCPUs on this CPU, one slice at a time, from the monitor loop. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define SCHED_SLICE_US 10000
#define SCHED_MIN_SLICE_US 50

/* Runs the next runnable vCPU for one slice; returns false when none was runnable. */
bool sched_run_next(void);

/* Host time (arch_time_ns) of the next timer interrupt of any running VM, or UINT64_MAX. */
uint64_t sched_next_event_ns(void);

/* Time all vCPUs spent in guest mode since boot (between VM entry and exit). */
uint64_t sched_guest_ns(void);
