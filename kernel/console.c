#include "kernel/console.h"

#include <stdarg.h>

#include "kernel/format.h"
#include "kernel/serial.h"

void console_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    serial_putc(c);
}

void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        console_putc(s[i]);
}

void console_puts(const char *s)
{
    while (*s)
        console_putc(*s++);
}

static void emit_console(void *ctx, char c)
{
    (void)ctx;
    console_putc(c);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvformat(emit_console, NULL, fmt, ap);
    va_end(ap);
    return n;
}

int console_getc(void) { return serial_getc(); }
