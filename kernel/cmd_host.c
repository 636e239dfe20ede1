/*
 * `host`: where this CPU's time went since boot: halted idle, in guests, or in civic itself
 * (exit handling, devices, the network, paging). Under Bochs with `clock: sync=none` emulated
 * time is instructions / ips, so civic_ns estimates the instructions civic executed.
 */
#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/monitor.h"
#include "kernel/sched.h"
#include "kernel/shell.h"

static civic_err cmd_host(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return shell_usage_error("host", "takes no arguments");
    uint64_t up = arch_time_ns(), idle = monitor_idle_ns(), guest = sched_guest_ns();
    uint64_t civic = up > idle + guest ? up - idle - guest : 0;
    kprintf("uptime_ns=%llu\nidle_ns=%llu\nguest_ns=%llu\ncivic_ns=%llu\n",
            (unsigned long long)up, (unsigned long long)idle, (unsigned long long)guest,
            (unsigned long long)civic);
    return CIVIC_OK;
}
SHELL_COMMAND(host, "host", "", "CPU time since boot: idle, in guests, in civic", cmd_host);
