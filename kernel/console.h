/* The operator's console: COM1. All kernel text output goes through here. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

void console_putc(char c);
void console_write(const char *s, size_t n);
void console_puts(const char *s);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Output that is not an answer to what the operator typed (a log line from a stopping VM) is
 * framed by these: it starts on a fresh line, and afterwards the redraw hook (the shell's)
 * restores the prompt and the half-typed line. */
void console_async_begin(void);
void console_async_end(void);
void console_set_redraw_hook(void (*hook)(void));
/* Next input byte, or -1. */
int console_getc(void);
