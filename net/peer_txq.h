/*
 * A peer connection's output queue: a byte ring with a fixed capacity. Whole messages go in or
 * nothing does (a connection's stream must never hold half a message), and the TCP glue takes
 * bytes out as lwIP's send buffer frees up. Pure: the caller supplies the storage.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

struct peer_txq {
    uint8_t *buf;
    size_t cap;
    size_t head; /* the oldest byte */
    size_t len;
};

void peer_txq_init(struct peer_txq *q, uint8_t *storage, size_t cap);

static inline size_t peer_txq_space(const struct peer_txq *q)
{
    return q->cap - q->len;
}

static inline size_t peer_txq_len(const struct peer_txq *q)
{
    return q->len;
}

/* Appends all n bytes, or none: CIVIC_ERANGE when they do not fit. */
civic_err peer_txq_push(struct peer_txq *q, const void *data, size_t n);

/* The oldest queued bytes that are contiguous in the ring: *n of them at the returned address
 * (*n is 0 when the queue is empty). */
const uint8_t *peer_txq_peek(const struct peer_txq *q, size_t *n);

/* Drops the n oldest bytes (at most peer_txq_len). */
void peer_txq_consume(struct peer_txq *q, size_t n);
