/* The operator's console: COM1. All kernel text output goes through here. */
#pragma once
#include <stddef.h>

void console_putc(char c);
void console_write(const char *s, size_t n);
void console_puts(const char *s);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Next input byte, or -1. */
int console_getc(void);
