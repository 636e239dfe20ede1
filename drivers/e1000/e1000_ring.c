/* Ring index arithmetic (see e1000_ring.h); sizes need not be powers of two. */
#include "drivers/e1000/e1000_ring.h"

uint32_t e1000_ring_next(uint32_t i, uint32_t size)
{
    return i + 1 == size ? 0 : i + 1;
}

uint32_t e1000_ring_advance(uint32_t i, uint32_t n, uint32_t size)
{
    return (uint32_t)(((uint64_t)i + n) % size);
}

uint32_t e1000_ring_used(uint32_t head, uint32_t tail, uint32_t size)
{
    return tail >= head ? tail - head : size - head + tail;
}

uint32_t e1000_ring_free(uint32_t head, uint32_t tail, uint32_t size)
{
    return size - 1 - e1000_ring_used(head, tail, size);
}

uint32_t e1000_ring_prev(uint32_t i, uint32_t size)
{
    return i == 0 ? size - 1 : i - 1;
}
