/* Round-robin over runnable vCPUs on this CPU, one slice at a time, from the monitor loop. */
#pragma once
#include <stdbool.h>

#define SCHED_SLICE_US 10000

/* Runs the next runnable vCPU for one slice; returns false when none was runnable. */
bool sched_run_next(void);
