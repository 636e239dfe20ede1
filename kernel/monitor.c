#include "kernel/monitor.h"

#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/console_attach.h"
#include "kernel/sched.h"
#include "kernel/shell.h"

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
        /* Later: poll the NIC and lwIP timers. */
        if (!busy)
            arch_idle(); /* the console interrupt or the tick wakes us */
    }
}
