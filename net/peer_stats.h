/*
 * Latency figures for `net rr`: min, median, p99 and max of a set of samples. Pure.
 * Percentiles are nearest-rank: the p-th percentile of n sorted samples is the ceil(p*n/100)-th
 * smallest (so p99 of 200 samples is the 198th, and of fewer than 100 samples the largest).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct peer_lat_summary {
    uint64_t min, median, p99, max;
};

/* Sorts samples[0..n) in place (n may be 0: all figures 0). */
void peer_lat_summarize(uint64_t *samples, size_t n, struct peer_lat_summary *out);

/* The nearest-rank percentile (1..100) of n sorted samples; 0 when n is 0. */
uint64_t peer_lat_percentile(const uint64_t *sorted, size_t n, unsigned pct);
