#include "kernel/console.h"

#include <stdarg.h>

#include "kernel/format.h"
#include "kernel/serial.h"

static bool at_line_start = true;
static void (*redraw_hook)(void);

void console_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    serial_putc(c);
    at_line_start = c == '\n';
}

void console_async_begin(void)
{
    if (!at_line_start)
        console_putc('\n');
}

void console_async_end(void)
{
    if (redraw_hook)
        redraw_hook();
}

void console_set_redraw_hook(void (*hook)(void)) { redraw_hook = hook; }

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
