/*
 * A byte ring of text lines that forgets the oldest whole lines when full. Pure logic, used by
 * the kernel log and unit-tested on the host.
 */
#pragma once
#include <stddef.h>

struct log_ring {
    char *buf;
    size_t size;  /* capacity in bytes */
    size_t start; /* offset of the oldest retained byte */
    size_t used;  /* bytes retained */
    size_t dropped_lines;
};

void log_ring_init(struct log_ring *r, char *buf, size_t size);
/* Appends one line (no newline in text; one is stored). A line longer than the ring is cut. */
void log_ring_append(struct log_ring *r, const char *text, size_t len);
/* Calls emit for each retained line, oldest first; the line is NUL-terminated in a scratch
 * buffer of line_max bytes (longer lines are cut; line_max 0 emits nothing). */
void log_ring_for_each(const struct log_ring *r, char *scratch, size_t line_max,
                       void (*emit)(const char *line, void *ctx), void *ctx);
