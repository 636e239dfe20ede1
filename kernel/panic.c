#include "kernel/panic.h"

#include <stdarg.h>

#include "arch/x86/irq.h"
#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/format.h"

static void emit_console(void *ctx, char c)
{
    (void)ctx;
    console_putc(c);
}

void panic(const char *fmt, ...)
{
    static int nesting;
    irq_disable();
    if (nesting++ == 0) {
        console_puts("\nPANIC: ");
        va_list ap;
        va_start(ap, fmt);
        kvformat(emit_console, NULL, fmt, ap);
        va_end(ap);
        console_puts("\n");
        arch_backtrace();
    }
    console_puts("civic: this CPU is stopped.\n");
    arch_halt_cpu();
}
