#include "kernel/format.h"

#include <stdbool.h>
#include <stdint.h>

struct spec {
    bool left, plus, space, zero, alt;
    int width;     /* -1: none */
    int precision; /* -1: none */
    int length;    /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t/ptrdiff/intmax */
};

struct out {
    format_emit_fn emit;
    void *ctx;
    int count;
};

static void put(struct out *o, char c)
{
    o->emit(o->ctx, c);
    o->count++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

static int parse_int(const char **p)
{
    int v = 0;
    while (**p >= '0' && **p <= '9') {
        if (v < 100000) /* widths beyond this are nonsense; clamp instead of overflowing */
            v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

/* Emits digits of v in base with the sign/prefix and padding rules of printf. */
static void put_number(struct out *o, const struct spec *s, uint64_t v, bool is_signed,
                       bool negative, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int n = 0;

    while (v) {
        buf[n++] = digits[v % base];
        v /= base;
    }
    /* Precision 0 with value 0 prints no digits, as C says. */
    if (n == 0 && s->precision != 0)
        buf[n++] = '0';

    const char *prefix = "";
    if (negative)
        prefix = "-";
    else if (s->plus && is_signed)
        prefix = "+";
    else if (s->space && is_signed)
        prefix = " ";
    else if (s->alt && base == 16 && n > 0 && !(n == 1 && buf[0] == '0'))
        prefix = upper ? "0X" : "0x";
    else if (s->alt && base == 8 && (n == 0 || buf[n - 1] != '0') && s->precision <= n)
        prefix = "0"; /* '#' raises the precision just enough for a leading 0 */

    int prefix_len = 0;
    while (prefix[prefix_len])
        prefix_len++;
    int zeros = s->precision > n ? s->precision - n : 0;
    int body = prefix_len + zeros + n;
    int fill = s->width > body ? s->width - body : 0;

    if (!s->left && !(s->zero && s->precision < 0))
        pad(o, ' ', fill);
    for (int i = 0; i < prefix_len; i++)
        put(o, prefix[i]);
    if (!s->left && s->zero && s->precision < 0)
        pad(o, '0', fill);
    pad(o, '0', zeros);
    while (n)
        put(o, buf[--n]);
    if (s->left)
        pad(o, ' ', fill);
}

static void put_string(struct out *o, const struct spec *s, const char *str)
{
    if (!str)
        str = "(null)";
    int len = 0;
    while ((s->precision < 0 || len < s->precision) && str[len])
        len++;
    int fill = s->width > len ? s->width - len : 0;
    if (!s->left)
        pad(o, ' ', fill);
    for (int i = 0; i < len; i++)
        put(o, str[i]);
    if (s->left)
        pad(o, ' ', fill);
}

static int64_t signed_arg(va_list *ap, int length)
{
    switch (length) {
    case -2: return (signed char)va_arg(*ap, int);
    case -1: return (short)va_arg(*ap, int);
    case 0: return va_arg(*ap, int);
    case 1: return va_arg(*ap, long);
    default: return va_arg(*ap, long long);
    }
}

static uint64_t unsigned_arg(va_list *ap, int length)
{
    switch (length) {
    case -2: return (unsigned char)va_arg(*ap, unsigned);
    case -1: return (unsigned short)va_arg(*ap, unsigned);
    case 0: return va_arg(*ap, unsigned);
    case 1: return va_arg(*ap, unsigned long);
    default: return va_arg(*ap, unsigned long long);
    }
}

int kvformat(format_emit_fn emit, void *ctx, const char *fmt, va_list ap_in)
{
    struct out o = { emit, ctx, 0 };
    va_list ap;
    va_copy(ap, ap_in);

    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        const char *start = p++;
        struct spec s = { .width = -1, .precision = -1 };
        for (;; p++) {
            if (*p == '-') s.left = true;
            else if (*p == '+') s.plus = true;
            else if (*p == ' ') s.space = true;
            else if (*p == '0') s.zero = true;
            else if (*p == '#') s.alt = true;
            else break;
        }
        if (*p == '*') {
            s.width = va_arg(ap, int);
            if (s.width < 0) {
                s.left = true;
                s.width = -s.width;
            }
            p++;
        } else if (*p >= '0' && *p <= '9') {
            s.width = parse_int(&p);
        }
        if (*p == '.') {
            p++;
            if (*p == '*') {
                s.precision = va_arg(ap, int);
                if (s.precision < 0)
                    s.precision = -1;
                p++;
            } else {
                s.precision = parse_int(&p);
            }
        }
        if (*p == 'h') {
            s.length = -1;
            if (*++p == 'h') {
                s.length = -2;
                p++;
            }
        } else if (*p == 'l') {
            s.length = 1;
            if (*++p == 'l') {
                s.length = 2;
                p++;
            }
        } else if (*p == 'z' || *p == 't' || *p == 'j') {
            s.length = 3;
            p++;
        }

        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = signed_arg(&ap, s.length);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_number(&o, &s, mag, true, v < 0, 10, false);
            break;
        }
        case 'u': put_number(&o, &s, unsigned_arg(&ap, s.length), false, false, 10, false); break;
        case 'x': put_number(&o, &s, unsigned_arg(&ap, s.length), false, false, 16, false); break;
        case 'X': put_number(&o, &s, unsigned_arg(&ap, s.length), false, false, 16, true); break;
        case 'o': put_number(&o, &s, unsigned_arg(&ap, s.length), false, false, 8, false); break;
        case 'p': {
            uint64_t ptr = (uint64_t)(uintptr_t)va_arg(ap, void *);
            struct spec ps = s;
            ps.alt = true;
            if (ptr == 0)
                put_string(&o, &ps, "0x0"); /* '#' alone would print a bare 0 */
            else
                put_number(&o, &ps, ptr, false, false, 16, false);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            struct spec cs = s;
            cs.precision = -1;
            char str[2] = { c, 0 };
            if (c == 0) { /* a NUL character is still one character */
                int fill = cs.width > 1 ? cs.width - 1 : 0;
                if (!cs.left) pad(&o, ' ', fill);
                put(&o, 0);
                if (cs.left) pad(&o, ' ', fill);
            } else {
                put_string(&o, &cs, str);
            }
            break;
        }
        case 's': put_string(&o, &s, va_arg(ap, const char *)); break;
        case '%': put(&o, '%'); break;
        default:
            /* Unknown conversion: print it literally so the mistake is visible. */
            for (const char *q = start; q <= p && *q; q++)
                put(&o, *q);
            if (!*p)
                p--;
            break;
        }
    }
    va_end(ap);
    return o.count;
}

struct buf_ctx {
    char *buf;
    size_t size;
    size_t pos;
};

static void buf_emit(void *ctx, char c)
{
    struct buf_ctx *b = ctx;
    if (b->pos + 1 < b->size)
        b->buf[b->pos] = c;
    b->pos++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_ctx b = { buf, size, 0 };
    int n = kvformat(buf_emit, &b, fmt, ap);
    if (size > 0)
        buf[b.pos < size ? b.pos : size - 1] = 0;
    return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
