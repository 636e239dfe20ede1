/*
 * fpu: x87, SSE and (when present) AVX registers must survive a long busy spin during which a
 * hypervisor preempts us many times, perhaps for a neighbour running this same test with another
 * seed=. The pattern (st0-st5, ymm/xmm0-5, FCW, MXCSR) comes from seed; meanwhile fpu_work
 * computes in the other registers and checks its results. Then the same across HLT, where a
 * hypervisor is most likely to run someone else.
 */
#include "cputest.h"
#include "cpuid.h"
#include "cr.h"

#define WORK_N 1000u

struct fpu_state {
    int64_t x87[6];
    uint32_t pad[4];
    uint8_t ymm[6][32];
    uint32_t mxcsr, fcw;
};
_Static_assert(__builtin_offsetof(struct fpu_state, ymm) == 64, "FS_YMM");
_Static_assert(__builtin_offsetof(struct fpu_state, mxcsr) == 256, "FS_MXCSR");
_Static_assert(__builtin_offsetof(struct fpu_state, fcw) == 260, "FS_FCW");

void fpu_load(const struct fpu_state *s, int avx);
void fpu_save(struct fpu_state *s, int avx);
void fpu_work(uint32_t n, uint32_t out[13], int avx);

static struct fpu_state want, got;

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void make_pattern(uint64_t seed, bool avx)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    memset(&want, 0, sizeof want);
    for (unsigned i = 0; i < 6; i++)
        want.x87[i] = (int64_t)(xorshift(&x) >> 2) - (1ll << 61); /* any sign, exact in x87 */
    for (unsigned i = 0; i < 6; i++)
        for (unsigned j = 0; j < (avx ? 32u : 16u); j += 8) {
            uint64_t v = xorshift(&x);
            memcpy(&want.ymm[i][j], &v, 8);
        }
    /* Rounding control from the seed, exceptions masked, 64-bit precision. */
    want.fcw = 0x037f | (uint32_t)(seed & 3) << 10;
    want.mxcsr = 0x1f80 | (uint32_t)(seed & 3) << 13;
}

/* Enables x87/SSE (and AVX state through XCR0); returns whether AVX is usable. */
static bool enable_units(void)
{
    uint32_t r[4];
    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    cpuid(CPUID_LEAF_VENDOR, 0, r);
    uint32_t max = r[0];
    cpuid(CPUID_LEAF_FEATURES, 0, r);
    if (!(r[2] & CPUID_1_ECX_XSAVE) || !(r[2] & CPUID_1_ECX_AVX) || max < CPUID_LEAF_XSAVE)
        return false;
    cpuid(CPUID_LEAF_XSAVE, 0, r);
    uint32_t need = XCR0_X87 | XCR0_SSE | XCR0_AVX;
    if ((r[0] & need) != need)
        return false;
    write_cr4(read_cr4() | CR4_OSXSAVE);
    xsetbv(0, need);
    return require(xgetbv(0) == need, "XCR0=%llx after writing %x", (unsigned long long)xgetbv(0),
                   need);
}

/* fpu_work's results must be exact; false after a FAIL line. */
static bool work_ok(bool avx)
{
    uint32_t out[13] = {0};
    fpu_work(WORK_N, out, avx);
    bool ok = out[0] == WORK_N;
    for (unsigned i = 0; i < 4; i++)
        ok = ok && out[1 + i] == WORK_N * (i + 1);
    for (unsigned i = 0; avx && i < 8; i++)
        ok = ok && out[5 + i] == WORK_N * (i + 1);
    return require(ok, "scratch computation wrong: x87=%u xmm6=%u,%u,%u,%u ymm6[0]=%u", out[0],
                   out[1], out[2], out[3], out[4], out[5]);
}

static bool compare(const char *phase, bool avx)
{
    bool ok = true;
    for (unsigned i = 0; i < 6; i++)
        ok &= require(got.x87[i] == want.x87[i], "%s: st%u=%llx, expected %llx", phase, i,
                      (unsigned long long)got.x87[i], (unsigned long long)want.x87[i]);
    for (unsigned i = 0; i < 6; i++)
        for (unsigned j = 0; j < (avx ? 32u : 16u); j += 4) {
            uint32_t a, b;
            memcpy(&a, &got.ymm[i][j], 4);
            memcpy(&b, &want.ymm[i][j], 4);
            ok &= require(a == b, "%s: %smm%u bytes %u..%u = %08x, expected %08x", phase,
                          avx ? "y" : "x", i, j, j + 3, a, b);
        }
    ok &= require(got.fcw == want.fcw && got.mxcsr == want.mxcsr,
                  "%s: fcw=%x mxcsr=%x, expected %x %x", phase, got.fcw, got.mxcsr, want.fcw,
                  want.mxcsr);
    return ok;
}

void check_fpu(void)
{
    uint32_t r[4];
    cpuid(CPUID_LEAF_FEATURES, 0, r);
    uint32_t need = CPUID_1_EDX_FPU | CPUID_1_EDX_FXSR | CPUID_1_EDX_SSE | CPUID_1_EDX_SSE2;
    if ((r[3] & need) != need) {
        skip("no SSE2");
        return;
    }
    bool avx = enable_units();
    make_pattern(opt.seed, avx);
    timers_start();
    uint32_t ticks = (uint32_t)udiv64(opt.spin_ms + 1000 / PIT_TICK_HZ - 1, 1000 / PIT_TICK_HZ);
    if (ticks == 0)
        ticks = 1;

    /* Busy: preempted while the registers are live. */
    fpu_load(&want, avx);
    uint32_t t0 = pit_ticks, rounds = 0;
    bool ok = true;
    while (ok && pit_ticks - t0 < ticks) {
        ok = work_ok(avx);
        rounds++;
    }
    fpu_save(&got, avx);
    if (!ok || !compare("after busy spin", avx))
        return;

    /* Idle: halted with the registers live. */
    fpu_load(&want, avx);
    timers_wait_ticks(ticks / 2 + 1);
    ok = work_ok(avx);
    fpu_save(&got, avx);
    if (!ok || !compare("after halting", avx))
        return;
    summary("seed=%llu x87+%s registers intact after %u ms busy (%u rounds) and %u ms halted",
            (unsigned long long)opt.seed, avx ? "AVX" : "SSE", ticks * (1000 / PIT_TICK_HZ), rounds,
            (ticks / 2 + 1) * (1000 / PIT_TICK_HZ));
}
