#include "kernel/monitor.h"

#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/shell.h"

void monitor_loop(void)
{
    shell_init();
    for (;;) {
        int c;
        bool busy = false;
        while ((c = console_getc()) >= 0) {
            shell_input((uint8_t)c);
            busy = true;
        }
        /* Later: run vCPUs, poll the NIC and lwIP timers. */
        if (!busy)
            arch_idle(); /* the console interrupt or the tick wakes us */
    }
}
