/* Latency summaries (net/peer_stats.h). */
#include "net/peer_stats.h"

/* Shell sort: no recursion, no allocation, quick enough for the ten thousand samples of a long
 * `net rr`. */
static void sort_u64(uint64_t *a, size_t n)
{
    static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        size_t gap = gaps[g];
        for (size_t i = gap; i < n; i++) {
            uint64_t v = a[i];
            size_t j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap)
                a[j] = a[j - gap];
            a[j] = v;
        }
    }
}

uint64_t peer_lat_percentile(const uint64_t *sorted, size_t n, unsigned pct)
{
    if (n == 0)
        return 0;
    if (pct == 0)
        pct = 1;
    if (pct > 100)
        pct = 100;
    size_t rank = ((size_t)pct * n + 99) / 100; /* ceil(pct * n / 100), 1-based */
    return sorted[rank ? rank - 1 : 0];
}

void peer_lat_summarize(uint64_t *samples, size_t n, struct peer_lat_summary *out)
{
    sort_u64(samples, n);
    out->min = n ? samples[0] : 0;
    out->max = n ? samples[n - 1] : 0;
    out->median = peer_lat_percentile(samples, n, 50);
    out->p99 = peer_lat_percentile(samples, n, 99);
}
