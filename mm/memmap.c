/*
 * Sets of physical ranges kept sorted, disjoint and non-adjacent, so that every query is a walk
 * over at most MEMMAP_MAX entries and the result never depends on the order ranges were added.
 */
#include "mm/memmap.h"

#include "kernel/string.h"

void memmap_init(struct memmap *m)
{
    m->n = 0;
}

static void remove_at(struct memmap *m, size_t i, size_t count)
{
    memmove(&m->r[i], &m->r[i + count], (m->n - i - count) * sizeof(m->r[0]));
    m->n -= count;
}

static void insert_at(struct memmap *m, size_t i, uint64_t start, uint64_t end)
{
    memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(m->r[0]));
    m->r[i].start = start;
    m->r[i].end = end;
    m->n++;
}

civic_err memmap_add(struct memmap *m, uint64_t start, uint64_t end)
{
    if (end < start)
        return trace_error(CIVIC_EINVAL);
    if (end == start)
        return CIVIC_OK;

    /* First range that overlaps or touches [start, end): everything before ends below start. */
    size_t i = 0;
    while (i < m->n && m->r[i].end < start)
        i++;
    /* Ranges i .. j-1 overlap or touch and merge into one. */
    size_t j = i;
    while (j < m->n && m->r[j].start <= end)
        j++;

    if (i == j) {
        if (m->n == MEMMAP_MAX)
            return trace_error(CIVIC_ERANGE);
        insert_at(m, i, start, end);
        return CIVIC_OK;
    }
    if (m->r[i].start < start)
        start = m->r[i].start;
    if (m->r[j - 1].end > end)
        end = m->r[j - 1].end;
    m->r[i].start = start;
    m->r[i].end = end;
    remove_at(m, i + 1, j - i - 1);
    return CIVIC_OK;
}

civic_err memmap_subtract(struct memmap *m, uint64_t start, uint64_t end)
{
    if (end <= start)
        return CIVIC_OK;

    size_t i = 0;
    while (i < m->n && m->r[i].end <= start)
        i++;
    while (i < m->n && m->r[i].start < end) {
        struct mem_range *r = &m->r[i];
        if (r->start < start && r->end > end) {
            /* The hole is strictly inside: split in two. */
            if (m->n == MEMMAP_MAX)
                return trace_error(CIVIC_ERANGE);
            insert_at(m, i + 1, end, r->end);
            r->end = start;
            return CIVIC_OK;
        }
        if (r->start < start) {
            r->end = start;
            i++;
        } else if (r->end > end) {
            r->start = end;
            i++;
        } else {
            remove_at(m, i, 1);
        }
    }
    return CIVIC_OK;
}

void memmap_align_inward(struct memmap *m, uint64_t align)
{
    size_t out = 0;
    for (size_t i = 0; i < m->n; i++) {
        uint64_t s = m->r[i].start;
        uint64_t e = m->r[i].end & ~(align - 1);
        /* Round start up without overflowing near the top of the address space. */
        if (s & (align - 1)) {
            if (s > UINT64_MAX - (align - 1))
                continue;
            s = (s + align - 1) & ~(align - 1);
        }
        if (e <= s)
            continue;
        m->r[out].start = s;
        m->r[out].end = e;
        out++;
    }
    m->n = out;
}

uint64_t memmap_total(const struct memmap *m)
{
    uint64_t total = 0;
    for (size_t i = 0; i < m->n; i++)
        total += m->r[i].end - m->r[i].start;
    return total;
}

uint64_t memmap_max_end(const struct memmap *m)
{
    return m->n ? m->r[m->n - 1].end : 0;
}
