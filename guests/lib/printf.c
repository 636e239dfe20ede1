/*
 * printf for the guests. 64-bit numbers are converted with our own division (two 32-bit divl
 * steps), because a -m32 freestanding link has no libgcc __udivdi3 to call.
 */
#include "guest.h"

/* n / base with the remainder in *rem; base < 2^32. */
static uint64_t divmod64(uint64_t n, uint32_t base, uint32_t *rem)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
    uint32_t qhi = hi / base, r = hi % base, qlo;
    /* r < base, so the 64/32 divide of r:lo cannot overflow. */
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(base));
    *rem = r;
    return ((uint64_t)qhi << 32) | qlo;
}

struct out {
    char *buf; /* NULL: to the serial port */
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->buf == NULL)
        serial_putc(c);
    else if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
    size_t w = width > 0 ? (size_t)width : 0;
    /* Zero padding goes after a sign. */
    if (pad == '0' && n > 0 && s[0] == '-' && !left) {
        put(o, '-');
        s++;
        n--;
        w = w > 0 ? w - 1 : 0;
    }
    if (!left)
        for (size_t i = n; i < w; i++)
            put(o, pad);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (left)
        for (size_t i = n; i < w; i++)
            put(o, ' ');
}

static size_t utoa(uint64_t v, uint32_t base, bool upper, char *tmp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char rev[24];
    size_t n = 0;
    do {
        uint32_t r;
        v = divmod64(v, base, &r);
        rev[n++] = digits[r];
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        tmp[i] = rev[n - 1 - i];
    return n;
}

static int format(struct out *o, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(o, *fmt);
            continue;
        }
        fmt++;
        bool left = false;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        int width = 0, prec = -1;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            }
            while (*fmt >= '0' && *fmt <= '9')
                prec = prec * 10 + (*fmt++ - '0');
        }
        int longs = 0;
        while (*fmt == 'l' || *fmt == 'z') {
            longs++; /* z, l: 32 bits here; ll: 64 */
            fmt++;
        }
        char tmp[24];
        size_t n;
        uint64_t u;
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = longs >= 2   ? va_arg(ap, long long)
                        : longs == 1 ? va_arg(ap, long)
                                     : va_arg(ap, int);
            n = 0;
            if (v < 0)
                tmp[n++] = '-';
            u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            n += utoa(u, 10, false, tmp + n);
            put_padded(o, tmp, n, width, left, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
            u = longs >= 2   ? va_arg(ap, unsigned long long)
                : longs == 1 ? va_arg(ap, unsigned long)
                             : va_arg(ap, unsigned);
            n = utoa(u, *fmt == 'u' ? 10 : 16, *fmt == 'X', tmp);
            put_padded(o, tmp, n, width, left, pad);
            break;
        case 'p':
            put(o, '0');
            put(o, 'x');
            n = utoa((uintptr_t)va_arg(ap, void *), 16, false, tmp);
            put_padded(o, tmp, n, 8, false, '0');
            break;
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            put_padded(o, tmp, 1, width, left, ' ');
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = "(null)";
            size_t len = 0;
            while (s[len] && (prec < 0 || len < (size_t)prec))
                len++;
            put_padded(o, s, len, width, left, ' ');
            break;
        }
        case '%': put(o, '%'); break;
        case '\0':
            fmt--; /* a lone '%' at the end */
            break;
        default:
            put(o, '%');
            put(o, *fmt);
            break;
        }
    }
    if (o->buf != NULL && o->size > 0)
        o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
    return (int)o->len;
}

int vprintf(const char *fmt, va_list ap)
{
    struct out o = {NULL, 0, 0};
    return format(&o, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    return format(&o, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
