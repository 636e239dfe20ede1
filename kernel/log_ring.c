#include "kernel/log_ring.h"

void log_ring_init(struct log_ring *r, char *buf, size_t size)
{
    r->buf = buf;
    r->size = size;
    r->start = 0;
    r->used = 0;
    r->dropped_lines = 0;
}

static char at(const struct log_ring *r, size_t i) { return r->buf[(r->start + i) % r->size]; }

/* Forgets the oldest line. */
static void drop_oldest(struct log_ring *r)
{
    size_t n = 0;
    while (n < r->used && at(r, n) != '\n')
        n++;
    if (n < r->used)
        n++; /* the newline too */
    r->start = (r->start + n) % r->size;
    r->used -= n;
    r->dropped_lines++;
}

void log_ring_append(struct log_ring *r, const char *text, size_t len)
{
    if (r->size < 2)
        return;
    if (len > r->size - 1)
        len = r->size - 1;
    while (r->size - r->used < len + 1)
        drop_oldest(r);
    for (size_t i = 0; i < len; i++) {
        char c = text[i] == '\n' ? ' ' : text[i];
        r->buf[(r->start + r->used++) % r->size] = c;
    }
    r->buf[(r->start + r->used++) % r->size] = '\n';
}

void log_ring_for_each(const struct log_ring *r, char *scratch, size_t line_max,
                       void (*emit)(const char *line, void *ctx), void *ctx)
{
    if (line_max == 0)
        return;
    size_t n = 0;
    size_t i = 0;
    while (i < r->used) {
        char c = at(r, i++);
        if (c == '\n') {
            scratch[n] = 0;
            emit(scratch, ctx);
            n = 0;
        } else if (n + 1 < line_max) {
            scratch[n++] = c;
        }
    }
}
