#include "kernel/monitor.h"

#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/console_attach.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/unit.h"

#define IDLE_TICK_NS 10000000ull /* the host's periodic tick (arch/x86/lapic.c, 100 Hz) */

static uint64_t idle_ns;

uint64_t monitor_idle_ns(void)
{
    return idle_ns;
}

/* Routes console input to the shell, or to a guest while `vm console` is attached. A byte the
 * guest's UART cannot take yet waits in pending. */
static bool poll_console(void)
{
    static int pending = -1;
    bool busy = false;
    if (pending >= 0 && !console_attached())
        pending = -1;
    if (pending >= 0 && console_attach_input((uint8_t)pending))
        pending = -1;
    int c;
    while (pending < 0 && (c = console_getc()) >= 0) {
        busy = true;
        if (!console_attached())
            shell_input((uint8_t)c);
        else if (!console_attach_input((uint8_t)c))
            pending = c;
    }
    return busy;
}

void monitor_loop(void)
{
    shell_init();
    for (;;) {
        bool busy = poll_console();
        if (sched_run_next())
            busy = true;
        if (units_poll()) /* the NIC, the network stack's timers */
            busy = true;
        if (busy)
            continue;
        /* The host tick is 10 ms: a guest timer due sooner is waited for by polling, so it is
         * not late (a one-shot host timer for idle would save that CPU time: not yet). */
        uint64_t next = sched_next_event_ns();
        uint64_t now = arch_time_ns();
        if (next == UINT64_MAX || next > now + IDLE_TICK_NS) {
            arch_idle(); /* the console interrupt or the tick wakes us */
            idle_ns += arch_time_ns() - now;
        }
    }
}
