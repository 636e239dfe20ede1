/*
 * kvstore: a random-access workload shaped like a key-value store, beside memtest's sequential
 * one. An open-addressing hash table of 64-byte slots fills mib MiB from 2 MiB, so consecutive
 * operations land on unrelated pages. Values are a function of (key, version, seed), so every
 * lookup is checked without a shadow copy of the table; the only other state is one version byte
 * per key (keys = slots / 2, so 1/128 of the table, placed right after it).
 *
 *   cmdline: mib=N (default 8)  ops=N (default 200000)  seed=N (default 1)  write=PCT (default 40)
 *            report=N (a progress line every N ops; 0 = none)  inject=N (corrupt a slot after
 *            operation N, to prove the error path)
 *
 * Trade-off of the version byte: it wraps from 255 to 1, so a slot that lost exactly a multiple
 * of 255 updates of one key would pass; anything else stale, torn or misplaced fails.
 */
#include "kvstore.h"

#define TABLE_START 0x200000u
#define SLOT_SIZE 64u
#define VALUE_WORDS 12u
#define MAX_MIB 1024u
#define PAGE_SHIFT 12
#define MAX_PAGES (MAX_MIB << (20 - PAGE_SHIFT))
#define MAX_REPORTED 16

struct slot {
    uint32_t key_lo; /* the key index + 1: 0 marks an empty slot */
    uint32_t key_hi; /* key_hash(index): key_lo and key_hi are the 8-byte key */
    uint32_t version;
    uint32_t value[VALUE_WORDS];
    uint32_t checksum;
};
_Static_assert(sizeof(struct slot) == SLOT_SIZE, "a slot is 64 bytes");

extern char __image_end[];

static struct slot *table;
static uint8_t *versions;
static uint32_t nslots, nkeys, seed_mix;
static uint64_t rng_state;
static uint64_t errors, reported;
static uint32_t touched_bits[MAX_PAGES / 32];
static uint32_t touched;

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* xorshift64*: the high half of the product is the best-mixed part. */
static uint32_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t key_hash(uint32_t k)
{
    return mix32(k ^ seed_mix);
}

static uint32_t value_word(uint32_t k, uint32_t version, uint32_t i)
{
    return mix32(key_hash(k) + version * 0x9e3779b1u + i * 0x85ebca77u);
}

static uint32_t slot_checksum(const struct slot *s)
{
    uint32_t sum = 0x6b767374u; /* "kvst": an all-zero slot never checks */
    sum = ((sum << 5) | (sum >> 27)) ^ s->key_lo;
    sum = ((sum << 5) | (sum >> 27)) ^ s->key_hi;
    sum = ((sum << 5) | (sum >> 27)) ^ s->version;
    for (uint32_t i = 0; i < VALUE_WORDS; i++)
        sum = ((sum << 5) | (sum >> 27)) ^ s->value[i];
    return mix32(sum);
}

static void touch(uint32_t idx)
{
    uint32_t page = idx / (4096u / SLOT_SIZE);
    uint32_t bit = 1u << (page % 32);
    if (!(touched_bits[page / 32] & bit)) {
        touched_bits[page / 32] |= bit;
        touched++;
    }
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    errors++;
    if (reported >= MAX_REPORTED)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("kvstore: FAIL ");
    vprintf(fmt, ap);
    va_end(ap);
    if (++reported == MAX_REPORTED)
        printf("kvstore: (further failures counted, not printed)\n");
}

/* The slot holding key k, or the empty slot where it would go (the table is at most half full). */
static uint32_t probe(uint32_t k, bool *found)
{
    uint32_t idx = key_hash(k) % nslots;
    for (;;) {
        const struct slot *s = &table[idx];
        touch(idx);
        if (s->key_lo == k + 1) {
            *found = true;
            return idx;
        }
        if (s->key_lo == 0) {
            *found = false;
            return idx;
        }
        idx = idx + 1 == nslots ? 0 : idx + 1;
    }
}

static void slot_write(struct slot *s, uint32_t k, uint32_t version)
{
    struct slot v;
    v.key_lo = k + 1;
    v.key_hi = key_hash(k);
    v.version = version;
    for (uint32_t i = 0; i < VALUE_WORDS; i++)
        v.value[i] = value_word(k, version, i);
    v.checksum = slot_checksum(&v);
    s->key_hi = v.key_hi;
    s->version = v.version;
    memcpy(s->value, v.value, sizeof(v.value));
    s->checksum = v.checksum;
    s->key_lo = v.key_lo; /* last: an insert becomes visible whole */
}

/* Checks an occupied slot against the version byte of its key; true when it is right. */
static bool slot_check(const struct slot *s, uint32_t k, uint32_t idx)
{
    uint32_t want = versions[k], sum = slot_checksum(s);
    if (s->version != want) {
        fail("key=%u expected version %u got %u (slot %u)\n", k, want, s->version, idx);
        return false;
    }
    if (s->key_hi != key_hash(k) || s->checksum != sum) {
        fail("key=%u version %u checksum expected %08x got %08x (slot %u)\n", k, want, sum,
             s->checksum, idx);
        return false;
    }
    for (uint32_t i = 0; i < VALUE_WORDS; i++) {
        if (s->value[i] != value_word(k, want, i)) {
            fail("key=%u version %u value word %u expected %08x got %08x (slot %u)\n", k, want, i,
                 value_word(k, want, i), s->value[i], idx);
            return false;
        }
    }
    return true;
}

/*
 * The closing pass over every slot: occupied slots must check and be reachable from their home
 * slot, empty ones must be all zero, and every key with a version must have been seen once.
 */
static uint32_t verify_table(void)
{
    uint32_t used = 0, present = 0;
    for (uint32_t k = 0; k < nkeys; k++)
        present += versions[k] != 0;
    for (uint32_t idx = 0; idx < nslots; idx++) {
        const struct slot *s = &table[idx];
        if (s->key_lo == 0) {
            const uint32_t *w = (const uint32_t *)s;
            for (uint32_t i = 0; i < SLOT_SIZE / 4; i++) {
                if (w[i] != 0) {
                    fail("empty slot %u word %u is %08x\n", idx, i, w[i]);
                    break;
                }
            }
            continue;
        }
        used++;
        uint32_t k = s->key_lo - 1;
        if (k >= nkeys || versions[k] == 0) {
            fail("slot %u holds key_lo=%08x, which was never inserted\n", idx, s->key_lo);
            continue;
        }
        bool found;
        uint32_t at = probe(k, &found);
        if (at != idx)
            fail("key=%u in slot %u, but a lookup finds slot %u\n", k, idx, at);
        else
            slot_check(s, k, idx);
    }
    if (used != present)
        fail("%u slots used, %u keys inserted\n", used, present);
    return used;
}

static uint64_t per_second(uint64_t count, uint64_t cycles, uint64_t tsc_hz)
{
    uint32_t tsc_mhz = (uint32_t)pit_udiv64(tsc_hz, 1000000u);
    if (tsc_mhz == 0)
        return 0;
    uint64_t us = pit_udiv64(cycles, tsc_mhz);
    if (us == 0 || us > 0xffffffffull)
        return 0;
    return pit_udiv64(count * 1000000u, (uint32_t)us);
}

int guest_main(const struct multiboot_info *mbi)
{
    static const char *const keys[] = {"mib", "ops", "seed", "write", "report", "inject", NULL};
    uint64_t mib, ops, seed, write, report, inject;
    if (!cmdline_check_keys("kvstore", keys) || !cmdline_uint("kvstore", "mib", 8, &mib) ||
        !cmdline_uint("kvstore", "ops", 200000, &ops) ||
        !cmdline_uint("kvstore", "seed", 1, &seed) ||
        !cmdline_uint("kvstore", "write", 40, &write) ||
        !cmdline_uint("kvstore", "report", 0, &report) ||
        !cmdline_uint("kvstore", "inject", 0, &inject))
        return GUEST_EXIT_CONFIG;
    if (write > 100 || ops > 0xffffffffull || report > 0xffffffffull) {
        printf("kvstore: error: write=%llu must be 0..100, ops and report below 2^32\n", write);
        return GUEST_EXIT_CONFIG;
    }
    uint64_t end = ram_end(mbi);
    uint64_t need = TABLE_START + mib * 0x100000 + mib * 0x100000 / SLOT_SIZE / 2;
    if ((uintptr_t)__image_end > TABLE_START || mib == 0 || mib > MAX_MIB || need > end) {
        printf("kvstore: error: %llu MiB table from 0x%x and its version bytes do not fit in RAM "
               "(need 0x%llx, RAM ends at 0x%llx; image ends at 0x%x)\n",
               mib, TABLE_START, need, end, (unsigned)(uintptr_t)__image_end);
        return GUEST_EXIT_CONFIG;
    }
    table = (struct slot *)TABLE_START;
    nslots = (uint32_t)(mib * 0x100000 / SLOT_SIZE);
    nkeys = nslots / 2; /* at most half full: probes stay short */
    versions = (uint8_t *)(uintptr_t)(TABLE_START + mib * 0x100000);
    seed_mix = mix32((uint32_t)seed ^ (uint32_t)(seed >> 32) ^ 0x5eed5eedu);
    rng_state = ((uint64_t)mix32((uint32_t)seed + 1) << 32) | mix32((uint32_t)(seed >> 32) + 2);
    if (rng_state == 0)
        rng_state = 1;
    printf("kvstore: table %llu MiB at 0x%08x slots=%u keys=%u ops=%llu write=%llu%% seed=%llu\n",
           mib, TABLE_START, nslots, nkeys, ops, write, seed);

    uint64_t tsc_hz = pit_tsc_hz();
    printf("kvstore: tsc %llu kHz (50 ms of PIT channel 2)\n", pit_udiv64(tsc_hz, 1000));

    uint64_t t0 = rdtsc();
    memset(table, 0, (size_t)mib * 0x100000);
    memset(versions, 0, nkeys);
    uint64_t clear_cycles = rdtsc() - t0;
    printf("kvstore: cleared in %llu ms\n", tsc_to_ms(clear_cycles, tsc_hz));

    uint64_t inserts = 0, updates = 0, lookups = 0, misses = 0;
    t0 = rdtsc();
    uint32_t nops = (uint32_t)ops, every = (uint32_t)report, last_written = 0;
    for (uint32_t n = 1; n <= nops; n++) {
        uint32_t k = rng_next() % nkeys;
        bool is_write = rng_next() % 100 < write;
        bool found;
        uint32_t idx = probe(k, &found);
        struct slot *s = &table[idx];
        if (found != (versions[k] != 0)) {
            if (found)
                fail("key=%u expected absent got version %u (slot %u)\n", k, s->version, idx);
            else
                fail("key=%u expected version %u got absent (slot %u)\n", k, versions[k], idx);
        }
        if (is_write) {
            if (found) {
                slot_check(s, k, idx);
                updates++;
            } else {
                inserts++;
            }
            uint32_t v = versions[k] == 255 ? 1 : versions[k] + 1u;
            versions[k] = (uint8_t)v;
            slot_write(s, k, v);
            last_written = idx;
        } else {
            lookups++;
            if (found)
                slot_check(s, k, idx);
            else
                misses++;
        }
        if (n == inject && table[last_written].key_lo != 0) {
            /* The slot written last, behind the table's back: a lost or torn page would look so. */
            table[last_written].value[VALUE_WORDS / 2] ^= 0x00010000u;
            printf("kvstore: injected a bit flip into key=%u (slot %u)\n",
                   table[last_written].key_lo - 1, last_written);
        }
        if (every != 0 && n % every == 0)
            printf("kvstore: progress ops=%u inserts=%llu updates=%llu lookups=%llu errors=%llu\n",
                   n, inserts, updates, lookups, errors);
    }
    uint64_t cycles = rdtsc() - t0;
    uint32_t touched_by_ops = touched;

    uint32_t used = verify_table();
    printf("kvstore: verify slots=%u used=%u misses=%llu touched_pages=%u errors=%llu\n", nslots,
           used, misses, touched_by_ops, errors);
    printf("kvstore: done ops=%llu inserts=%llu updates=%llu lookups=%llu errors=%llu "
           "table_mib=%llu pages=%llu ops_per_s=%llu (tsc cycles=%llu)\n",
           ops, inserts, updates, lookups, errors, mib, mib * 256, per_second(ops, cycles, tsc_hz),
           cycles);
    return errors == 0 ? GUEST_EXIT_OK : GUEST_EXIT_FAIL;
}
