/*
 * memtest: fills mib MiB from 2 MiB with a pattern derived from each word's address and the pass
 * number, then verifies every word. A new pattern each pass catches writes that were lost (a
 * stale page would still hold the previous pass's values). The checksum depends only on mib and
 * the pass, so runs under different hypervisors can be compared.
 *
 *   cmdline: mib=N (default 4)  passes=N (default 1; 0 = forever)  inject=P (corrupt one word
 *   in pass P, to prove the error path)
 *
 * Each pass's fill and verify is timed with the TSC, calibrated against the PIT before the first
 * pass, so the guest reports its own run time (`memtest: pass N ms=T`, then `memtest: time ms=T`
 * before the done line): the figure the paging benchmark compares across local memory limits.
 */
#include "guest.h"
#include "pit_tsc.h"

#define REGION_START 0x200000u
#define MAX_REPORTED 8

static uint32_t pattern(uint32_t addr, uint32_t pass)
{
    uint32_t x = addr * 0x9e3779b1u + pass * 0x85ebca77u;
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 12;
    return x;
}

static void fill(volatile uint32_t *p, uint32_t words, uint32_t pass)
{
    for (uint32_t i = 0; i < words; i++)
        p[i] = pattern(REGION_START + 4 * i, pass);
}

/* Returns the number of mismatches; *checksum folds every word read. */
static uint64_t verify(volatile uint32_t *p, uint32_t words, uint32_t pass, uint64_t *reported,
                       uint32_t *checksum)
{
    uint64_t errors = 0;
    uint32_t sum = 0;
    for (uint32_t i = 0; i < words; i++) {
        uint32_t got = p[i], want = pattern(REGION_START + 4 * i, pass);
        sum = ((sum << 1) | (sum >> 31)) ^ got;
        if (got != want) {
            errors++;
            if (*reported < MAX_REPORTED) {
                (*reported)++;
                printf("memtest: pass %u mismatch at 0x%08x: expected %08x got %08x\n", pass,
                       REGION_START + 4 * i, want, got);
            }
        }
    }
    *checksum = sum;
    return errors;
}

int guest_main(const struct multiboot_info *mbi)
{
    static const char *const keys[] = {"mib", "passes", "inject", NULL};
    uint64_t mib, passes, inject;
    if (!cmdline_check_keys("memtest", keys) || !cmdline_uint("memtest", "mib", 4, &mib) ||
        !cmdline_uint("memtest", "passes", 1, &passes) ||
        !cmdline_uint("memtest", "inject", 0, &inject))
        return GUEST_EXIT_CONFIG;
    uint64_t end = ram_end(mbi);
    if (mib == 0 || mib > 4096 || REGION_START + mib * 0x100000 > end) {
        printf("memtest: error: %llu MiB from 0x%x does not fit in RAM (ends at 0x%llx)\n", mib,
               REGION_START, end);
        return GUEST_EXIT_CONFIG;
    }
    uint32_t words = (uint32_t)(mib * 0x100000 / 4);
    volatile uint32_t *region = (volatile uint32_t *)REGION_START;
    printf("memtest: testing %llu MiB at 0x%08x, passes=%llu%s\n", mib, REGION_START, passes,
           passes == 0 ? " (forever)" : "");
    uint64_t tsc_hz = pit_tsc_hz();
    printf("memtest: tsc %llu kHz (50 ms of PIT channel 2)\n", pit_udiv64(tsc_hz, 1000));

    uint64_t errors = 0, reported = 0, total_cycles = 0;
    uint32_t pass;
    for (pass = 1; passes == 0 || pass <= passes; pass++) {
        uint64_t t0 = rdtsc();
        fill(region, words, pass);
        if (inject == pass)
            region[words / 2] ^= 0x00010000u;
        uint32_t checksum;
        uint64_t e = verify(region, words, pass, &reported, &checksum);
        uint64_t cycles = rdtsc() - t0; /* printing the mismatches above is part of the pass */
        total_cycles += cycles;
        errors += e;
        if (e == 0)
            printf("memtest: pass %u ok checksum=%08x\n", pass, checksum);
        else
            printf("memtest: pass %u FAILED errors=%llu checksum=%08x\n", pass, e, checksum);
        printf("memtest: pass %u ms=%llu\n", pass, tsc_to_ms(cycles, tsc_hz));
    }
    /* Before the done line, so that a reader waiting for "done" has the total too. */
    printf("memtest: time ms=%llu\n", tsc_to_ms(total_cycles, tsc_hz));
    printf("memtest: done passes=%u errors=%llu\n", pass - 1, errors);
    return errors == 0 ? GUEST_EXIT_OK : GUEST_EXIT_FAIL;
}
