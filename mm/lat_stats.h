/*
 * Latency statistics for `vm stats` (remote fault latency): the minimum over all samples, and the
 * median and 99th percentile over the last LAT_STATS_WINDOW samples, which are kept so the
 * percentiles are exact rather than bucketed. Pure: unit-tested on the host.
 */
#pragma once
#include <stdint.h>

#define LAT_STATS_WINDOW 1024u

struct lat_stats {
    uint64_t count; /* samples ever added */
    uint64_t min;   /* over all samples (0 before the first) */
    uint64_t max;
    uint64_t sum;
    uint64_t ring[LAT_STATS_WINDOW]; /* the last min(count, WINDOW) samples */
};

struct lat_summary {
    uint64_t count, min, max, mean, median, p99; /* all 0 without samples */
};

void lat_stats_init(struct lat_stats *l);
void lat_stats_add(struct lat_stats *l, uint64_t sample);
/* Sorts a copy of the window in scratch (LAT_STATS_WINDOW entries): percentiles are the
 * nearest-rank ones (the smallest sample with at least p% of the window at or below it). */
void lat_stats_summary(const struct lat_stats *l, uint64_t *scratch, struct lat_summary *out);
