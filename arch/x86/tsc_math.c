#include "arch/x86/tsc_math.h"

#include "arch/x86/pit.h"

uint32_t pit_count_for_us(uint32_t us)
{
    uint64_t count = ((uint64_t)PIT_HZ * us + 500000u) / 1000000u;
    return count <= 0xffff ? (uint32_t)count : 0;
}

uint64_t rate_from_pit(uint64_t delta, uint32_t pit_count)
{
    if (pit_count == 0 || delta > UINT64_MAX / PIT_HZ)
        return 0;
    return (delta * PIT_HZ + pit_count / 2) / pit_count;
}

uint64_t tsc_ns_mult(uint64_t hz)
{
    /* 10^9 << 32 fits 64 bits; the factor keeps 9+ significant digits for any hz up to
     * several GHz. */
    if (hz == 0)
        return 0;
    return ((1000000000ull << TSC_NS_SHIFT) + hz / 2) / hz;
}

uint64_t tsc_cycles_to_ns(uint64_t cycles, uint64_t mult)
{
    /* A 64x64->128 multiply (one MUL instruction, no library call): no overflow for any
     * cycle count; rounded to nearest. */
    __uint128_t p = (__uint128_t)cycles * mult + (1ull << (TSC_NS_SHIFT - 1));
    return (uint64_t)(p >> TSC_NS_SHIFT);
}

uint64_t rate_from_tsc(uint64_t count, uint64_t tsc_delta, uint64_t tsc_hz)
{
    if (tsc_delta == 0)
        return 0;
    /* The quotient fits 64 bits whenever the counter is slower than ~2^64 Hz; keep the
     * product in 128 bits and divide in two 64-bit steps to avoid a libgcc call. */
    __uint128_t p = (__uint128_t)count * tsc_hz;
    uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p;
    if (hi >= tsc_delta)
        return UINT64_MAX;
    /* Long division of (hi:lo) by tsc_delta, one bit at a time: 64 iterations, boot only. */
    uint64_t rem = hi, q = 0;
    for (int i = 63; i >= 0; i--) {
        uint64_t carry = rem >> 63;
        rem = (rem << 1) | ((lo >> i) & 1);
        q <<= 1;
        if (carry || rem >= tsc_delta) {
            rem -= tsc_delta;
            q |= 1;
        }
    }
    return q;
}

uint64_t median_u64(uint64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return v[(n - 1) / 2];
}
