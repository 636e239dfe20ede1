/* The per-CPU monitor loop: poll the console (and, later, run vCPUs, poll the NIC and timers),
 * then idle until the next interrupt. Never returns. */
#pragma once

__attribute__((noreturn)) void monitor_loop(void);
