/*
 * The kernel's printf engine: pure, no I/O, compiled into the kernel and into host unit tests.
 * Conversions: d i u x X o c s p %, flags - + space 0 #, width and precision (also *), length
 * modifiers hh h l ll z t j. No floating point: the kernel runs without SSE.
 */
#pragma once
#include <stdarg.h>
#include <stddef.h>

typedef void (*format_emit_fn)(void *ctx, char c);

/* Formats to emit(), returns the number of characters produced. */
int kvformat(format_emit_fn emit, void *ctx, const char *fmt, va_list ap);

/* snprintf semantics: always NUL-terminates when size > 0, returns the untruncated length. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
