/*
 * Index arithmetic of a descriptor ring, pure, shared by the receive and transmit rings. A ring
 * has size slots; the producer writes at `tail`, the consumer takes from `head`; head == tail
 * means empty, so at most size - 1 slots are in use (the 8254x's own rule, 3.2.6 and 3.4).
 */
#pragma once
#include <stdint.h>

/* The slot after i. */
uint32_t e1000_ring_next(uint32_t i, uint32_t size);
/* The slot n after i (n may exceed size). */
uint32_t e1000_ring_advance(uint32_t i, uint32_t n, uint32_t size);
/* Slots from head up to (not including) tail. */
uint32_t e1000_ring_used(uint32_t head, uint32_t tail, uint32_t size);
/* Slots the producer may still fill. */
uint32_t e1000_ring_free(uint32_t head, uint32_t tail, uint32_t size);
/* The slot before i. */
uint32_t e1000_ring_prev(uint32_t i, uint32_t size);
