/*
 * A console test double for host tests of shell commands: everything printed (console_*,
 * kprintf) is captured in `out`; there is no input; the line editor's redraw hook is kept so a
 * test can call it. Include it once, in the test file that links kernel/format.c.
 */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "kernel/console.h"
#include "kernel/console_attach.h"
#include "kernel/format.h"

static char out[1 << 16];
static size_t out_len;
static void (*redraw_hook)(void);

static inline void console_double_clear(void)
{
    out_len = 0;
    out[0] = 0;
}

void console_putc(char c)
{
    if (out_len + 1 < sizeof out) {
        out[out_len++] = c;
        out[out_len] = 0;
    }
}
void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        console_putc(s[i]);
}
void console_puts(const char *s)
{
    console_write(s, strlen(s));
}
int console_getc(void)
{
    return -1;
}
void console_set_redraw_hook(void (*hook)(void))
{
    redraw_hook = hook;
}
bool console_attached(void)
{
    return false;
}
static void console_double_emit(void *ctx, char c)
{
    (void)ctx;
    console_putc(c);
}
int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvformat(console_double_emit, NULL, fmt, ap);
    va_end(ap);
    return n;
}
