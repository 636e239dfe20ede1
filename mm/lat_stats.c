/* Latency statistics (mm/lat_stats.h). */
#include "mm/lat_stats.h"

#include "kernel/string.h"

void lat_stats_init(struct lat_stats *l)
{
    memset(l, 0, sizeof *l);
}

void lat_stats_add(struct lat_stats *l, uint64_t sample)
{
    if (l->count == 0 || sample < l->min)
        l->min = sample;
    if (sample > l->max)
        l->max = sample;
    l->sum += sample;
    l->ring[l->count % LAT_STATS_WINDOW] = sample;
    l->count++;
}

/* Heap sort: no recursion and no allocation, and a window is at most 1024 samples. */
static void sift_down(uint64_t *a, uint64_t n, uint64_t i)
{
    for (;;) {
        uint64_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && a[l] > a[big])
            big = l;
        if (r < n && a[r] > a[big])
            big = r;
        if (big == i)
            return;
        uint64_t t = a[i];
        a[i] = a[big];
        a[big] = t;
        i = big;
    }
}

static void heap_sort(uint64_t *a, uint64_t n)
{
    for (uint64_t i = n / 2; i-- > 0;)
        sift_down(a, n, i);
    for (uint64_t end = n; end-- > 1;) {
        uint64_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, end, 0);
    }
}

/* Nearest rank: ceil(p/100 * n), 1-based. */
static uint64_t rank(uint64_t n, unsigned p)
{
    uint64_t r = (n * p + 99) / 100;
    return r ? r - 1 : 0;
}

void lat_stats_summary(const struct lat_stats *l, uint64_t *scratch, struct lat_summary *out)
{
    memset(out, 0, sizeof *out);
    if (l->count == 0)
        return;
    uint64_t n = l->count < LAT_STATS_WINDOW ? l->count : LAT_STATS_WINDOW;
    memcpy(scratch, l->ring, n * sizeof *scratch);
    heap_sort(scratch, n);
    out->count = l->count;
    out->min = l->min;
    out->max = l->max;
    out->mean = l->sum / l->count;
    out->median = scratch[rank(n, 50)];
    out->p99 = scratch[rank(n, 99)];
}
