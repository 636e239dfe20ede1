/* The output queue of a peer connection (net/peer_txq.h). */
#include "net/peer_txq.h"

#include "kernel/string.h"

void peer_txq_init(struct peer_txq *q, uint8_t *storage, size_t cap)
{
    q->buf = storage;
    q->cap = cap;
    q->head = 0;
    q->len = 0;
}

civic_err peer_txq_push(struct peer_txq *q, const void *data, size_t n)
{
    if (n > peer_txq_space(q))
        return trace_error(CIVIC_ERANGE);
    size_t tail = (q->head + q->len) % (q->cap ? q->cap : 1);
    size_t first = q->cap - tail < n ? q->cap - tail : n;
    memcpy(q->buf + tail, data, first);
    memcpy(q->buf, (const uint8_t *)data + first, n - first);
    q->len += n;
    return CIVIC_OK;
}

const uint8_t *peer_txq_peek(const struct peer_txq *q, size_t *n)
{
    size_t run = q->cap - q->head;
    *n = q->len < run ? q->len : run;
    return q->buf + q->head;
}

void peer_txq_consume(struct peer_txq *q, size_t n)
{
    if (n > q->len)
        n = q->len;
    q->len -= n;
    q->head = q->len ? (q->head + n) % q->cap : 0;
}
