/*
 * The measurement service over the peer layer (capability PEER_CAP_BENCH, types 0x01xx).
 *
 * Receiving side, always on: BENCH_DATA is counted and CRC-32C'd per connection; BENCH_DONE ends
 * the stream, is verified against what arrived (the result logged), and is answered with a
 * BENCH_DONE carrying what this host received, which the sender compares with what it sent.
 * RR_REQUEST is answered at once with a 4 KiB RR_RESPONSE.
 *
 * Sending side: `net bench` and `net rr` (net/cmd_bench.c) wait for those answers through the
 * functions below; one measurement runs at a time (the shell runs one command at a time).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/error.h"

/* `net bench` waits for the far side's BENCH_DONE on the connection with this serial. */
void peer_bench_expect_done(uint32_t serial);
/* Whether it came; then what the far side received. */
bool peer_bench_done(uint64_t *bytes, uint32_t *crc);

/* `net rr` waits for the RR_RESPONSE to request id on the connection with this serial. */
void peer_bench_expect_response(uint32_t serial, uint64_t id);
/* Whether it came; then when it was decoded (arch_time_ns). */
bool peer_bench_response(uint64_t *at_ns);
void peer_bench_stop_waiting(void);

/* The `net bench` and `net rr` commands (argv[0] is "bench" or "rr"); `net` dispatches here. */
civic_err net_bench_command(int argc, char **argv);
civic_err net_rr_command(int argc, char **argv);
