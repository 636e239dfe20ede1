/* The per-CPU monitor loop: poll the console (and, later, run vCPUs, poll the NIC and timers),
 * then idle until the next interrupt. Never returns. */
#pragma once
#include <stdint.h>

__attribute__((noreturn)) void monitor_loop(void);

/* Time the monitor loop spent halted with nothing to do, since boot. */
uint64_t monitor_idle_ns(void);
