/*
 * cputest: the CPU as a guest sees it, one check at a time (guests/README.md, "cputest"). Each
 * check prints "cputest: <check>: ok ..." or one or more "cputest: <check>: FAIL ..." lines (or
 * "skipped (...)" when the CPU lacks the feature), then the guest prints
 * "cputest: all N checks passed" and exits 0, or "cputest: FAILED ..." and exits 2.
 * Command line: only=A,B skip=A,B seed=N spin=MS cpus=N hv=SIGNATURE expect=civic|qemu.
 */
#include "cputest.h"

struct cputest_opts opt;

struct check {
    const char *name;
    void (*fn)(void);
};

static const struct check checks[] = {
    {"modes", check_modes},   {"cpuid", check_cpuid},
    {"tsc", check_tsc},       {"msr", check_msr},
    {"ud", check_ud},         {"pf", check_pf},
    {"fpu", check_fpu},       {"pit", check_pit},
    {"lapic", check_lapic},   {"tscdeadline", check_tscdeadline},
    {"x2apic", check_x2apic},
};
#define NCHECKS (sizeof checks / sizeof checks[0])

static const char *current;
static bool cur_failed, cur_skipped;
static char cur_summary[160];

static void vline(const char *tag, const char *fmt, va_list ap)
{
    printf("cputest: %s: %s", current, tag);
    vprintf(fmt, ap);
    printf("\n");
}

void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline("", fmt, ap);
    va_end(ap);
}

bool require(bool cond, const char *fmt, ...)
{
    if (cond)
        return true;
    va_list ap;
    va_start(ap, fmt);
    vline("FAIL ", fmt, ap);
    va_end(ap);
    cur_failed = true;
    return false;
}

void summary(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cur_summary, sizeof cur_summary, fmt, ap);
    va_end(ap);
}

void skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("cputest: %s: skipped (", current);
    vprintf(fmt, ap);
    printf(")\n");
    va_end(ap);
    cur_skipped = true;
}

uint64_t udiv64(uint64_t n, uint32_t d)
{
    /* Two 32-bit divides, as printf does: no libgcc. */
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n, qhi = hi / d, r = hi % d, qlo;
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    return ((uint64_t)qhi << 32) | qlo;
}

/* Is name in the comma-separated list? */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = p;
        while (*e && *e != ',')
            e++;
        if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
            return true;
        p = *e ? e + 1 : e;
    }
    return false;
}

static bool known_checks(const char *list)
{
    for (const char *p = list; *p;) {
        const char *e = p;
        while (*e && *e != ',')
            e++;
        bool found = false;
        for (size_t i = 0; i < NCHECKS && !found; i++)
            found = strlen(checks[i].name) == (size_t)(e - p) &&
                    strncmp(p, checks[i].name, (size_t)(e - p)) == 0;
        if (!found) {
            printf("cputest: unknown check '%.*s'\n", (int)(e - p), p);
            return false;
        }
        p = *e ? e + 1 : e;
    }
    return true;
}

static bool parse_options(char *only, char *skipped, size_t size)
{
    static const char *const known[] = {"only", "skip", "seed",   "spin",
                                        "cpus", "hv",   "expect", NULL};
    char expect[16] = "civic";
    if (!cmdline_check_keys("cputest", known) || !cmdline_uint("cputest", "seed", 1, &opt.seed) ||
        !cmdline_uint("cputest", "spin", 300, &opt.spin_ms) ||
        !cmdline_uint("cputest", "cpus", 0, &opt.cpus))
        return false;
    if (opt.spin_ms > 600000 || opt.cpus > 4096) {
        printf("cputest: spin must be at most 600000 ms, cpus at most 4096\n");
        return false;
    }
    only[0] = skipped[0] = '\0';
    if ((cmdline_get("only", only, size) && !known_checks(only)) ||
        (cmdline_get("skip", skipped, size) && !known_checks(skipped)))
        return false;
    if (cmdline_get("hv", opt.hv, sizeof opt.hv) && strlen(opt.hv) != 12) {
        printf("cputest: hv= must be a 12-character signature\n");
        return false;
    }
    cmdline_get("expect", expect, sizeof expect);
    if (strcmp(expect, "qemu") != 0 && strcmp(expect, "civic") != 0) {
        printf("cputest: bad value for expect: '%s' (civic or qemu)\n", expect);
        return false;
    }
    opt.expect_qemu = strcmp(expect, "qemu") == 0;
    return true;
}

int guest_main(const struct multiboot_info *mbi)
{
    char only[128], skipped[128];
    if (!parse_options(only, skipped, sizeof only))
        return GUEST_EXIT_CONFIG;
    idt_init();
    printf("cputest: seed=%llu spin=%llu ms cpus=%llu hv=%s expect=%s\n",
           (unsigned long long)opt.seed, (unsigned long long)opt.spin_ms,
           (unsigned long long)opt.cpus, opt.hv[0] ? opt.hv : "-",
           opt.expect_qemu ? "qemu" : "civic");

    unsigned passed = 0, failed = 0, nskipped = 0;
    char failed_names[128] = "", skipped_names[128] = "";
    for (size_t i = 0; i < NCHECKS; i++) {
        const char *name = checks[i].name;
        if ((only[0] && !in_list(only, name)) || in_list(skipped, name))
            continue;
        current = name;
        cur_failed = cur_skipped = false;
        cur_summary[0] = '\0';
        checks[i].fn();
        __asm__ volatile("cli");
        if (cur_failed) {
            failed++;
            size_t n = strlen(failed_names);
            snprintf(failed_names + n, sizeof failed_names - n, " %s", name);
        } else if (cur_skipped) {
            nskipped++;
            size_t n = strlen(skipped_names);
            snprintf(skipped_names + n, sizeof skipped_names - n, " %s", name);
        } else {
            passed++;
            printf("cputest: %s: ok%s%s\n", name, cur_summary[0] ? " " : "", cur_summary);
        }
    }
    if (nskipped)
        printf("cputest: skipped %u:%s\n", nskipped, skipped_names);
    if (failed) {
        printf("cputest: FAILED %u of %u checks:%s\n", failed, failed + passed, failed_names);
        return GUEST_EXIT_FAIL;
    }
    printf("cputest: all %u checks passed\n", passed);
    return GUEST_EXIT_OK;
}
