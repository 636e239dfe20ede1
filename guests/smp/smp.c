/*
 * smp: starts every application processor the way an OS does and has each report in.
 *
 * The BSP finds the CPUs in the ACPI MADT (or, with no ACPI tables, takes APIC IDs 0..N-1 from
 * cpus=N), enables its xAPIC, copies a real-mode trampoline to a free page below 1 MiB and starts
 * the APs one at a time with INIT, 10 ms, STARTUP, 200 us, STARTUP (Intel SDM Vol. 3A 8.4.4.1,
 * MP spec B.4), waiting up to 1 s of PIT time for each. Each AP enters protected mode with its
 * own GDT, takes a cpu number and stack with lock xadd, reads its APIC ID from its own LAPIC,
 * prints "smp: cpu N (apic id X) up" under a spinlock and counts itself in. Once all are up, every
 * CPU adds 1 to one shared counter `adds` times with lock xadd, all at once; the total proves the
 * vCPUs share memory coherently. The APs then halt with interrupts off.
 *
 * Exit 0 when all CPUs came up and the counter is exact; 2 otherwise (missing or duplicated APs,
 * a wrong APIC ID, a count other than cpus=N, broken ACPI tables); 3 for a bad command line or a
 * machine without an xAPIC.
 */
#include "smp.h"

#define TRAMPOLINE_LOW 0x8000u /* above the IVT, BDA and the usual boot sector at 0x7c00 */
#define TRAMPOLINE_HIGH 0x9f000u
#define PAGE_SIZE 0x1000u
#define INIT_DELAY_US 10000u
#define SIPI_DELAY_US 200u
#define ICR_TIMEOUT_MS 100u
#define AP_UP_TIMEOUT_MS 1000u
#define ADDS_TIMEOUT_MS 5000u
#define DEFAULT_ADDS 100000u

static uint32_t lapic_base;
static volatile uint32_t print_lock;
static volatile uint32_t up_count;   /* APs that reported in */
static volatile uint32_t done_count; /* APs that finished their adds */
static volatile uint32_t go;         /* the BSP's signal to start adding */
static volatile uint32_t shared_counter;
static uint32_t adds_per_cpu;
static volatile uint32_t ap_apic_id[SMP_MAX_CPUS];

static void lock(void)
{
    while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
        while (print_lock)
            __asm__ volatile("pause");
}

static void unlock(void)
{
    __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static uint32_t atomic_add(volatile uint32_t *p, uint32_t v)
{
    __asm__ volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v; /* the old value */
}

/* printf under the serial port's lock (the APs print too). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lock();
    vprintf(fmt, ap);
    unlock();
    va_end(ap);
}

static void add_many(void)
{
    for (uint32_t i = 0; i < adds_per_cpu; i++)
        atomic_add(&shared_counter, 1);
}

void smp_ap_main(uint32_t cpu)
{
    uint32_t base = (uint32_t)smp_rdmsr(MSR_IA32_APIC_BASE) & MSR_APIC_BASE_ADDR;
    uint32_t id = xapic_read(base, XAPIC_ID) >> XAPIC_ID_SHIFT;
    ap_apic_id[cpu] = id;
    say("smp: cpu %u (apic id %u) up\n", cpu, id);
    atomic_add(&up_count, 1);
    while (!go)
        __asm__ volatile("pause");
    add_many();
    atomic_add(&done_count, 1);
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- the BSP ---- */

static bool icr_idle(void *arg)
{
    (void)arg;
    return !(xapic_read(lapic_base, XAPIC_ICR_LO) & XAPIC_ICR_SEND_PENDING);
}

static bool send_ipi(uint8_t dest, uint32_t icr_lo)
{
    xapic_write(lapic_base, XAPIC_ICR_HI, (uint32_t)dest << XAPIC_ICR_DEST_SHIFT);
    xapic_write(lapic_base, XAPIC_ICR_LO, icr_lo);
    return smp_wait_ms(ICR_TIMEOUT_MS, icr_idle, NULL);
}

static bool count_reached(void *arg)
{
    return up_count >= *(const uint32_t *)arg;
}

static bool all_done(void *arg)
{
    return done_count >= *(const uint32_t *)arg;
}

/* INIT, 10 ms, STARTUP, 200 us, STARTUP; then wait until `want` APs have reported in. */
static bool start_ap(uint8_t apic_id, uint32_t trampoline, uint32_t want)
{
    uint32_t vector = trampoline >> 12;
    if (!send_ipi(apic_id, XAPIC_ICR_DELIVERY_INIT | XAPIC_ICR_LEVEL_ASSERT)) {
        say("smp: FAILED: INIT to apic id %u: ICR delivery status stays pending\n", apic_id);
        return false;
    }
    smp_delay_us(INIT_DELAY_US);
    for (int i = 0; i < 2; i++) {
        if (!send_ipi(apic_id, XAPIC_ICR_DELIVERY_STARTUP | XAPIC_ICR_LEVEL_ASSERT | vector)) {
            say("smp: FAILED: STARTUP to apic id %u: ICR delivery status stays pending\n", apic_id);
            return false;
        }
        smp_delay_us(SIPI_DELAY_US);
    }
    return smp_wait_ms(AP_UP_TIMEOUT_MS, count_reached, &want);
}

static bool overlaps(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
    return a < b + blen && b < a + alen;
}

/* A page below 1 MiB that the memory map calls RAM and the boot information does not use. */
static uint32_t pick_trampoline(const struct multiboot_info *mbi)
{
    const char *cl = cmdline();
    for (uint32_t a = TRAMPOLINE_LOW; a <= TRAMPOLINE_HIGH - PAGE_SIZE; a += PAGE_SIZE) {
        bool ram = false;
        if (mbi->flags & MULTIBOOT_INFO_MEM_MAP) {
            for (uint32_t off = 0; off < mbi->mmap_length;) {
                const struct multiboot_mmap_entry *e =
                    (const struct multiboot_mmap_entry *)(uintptr_t)(mbi->mmap_addr + off);
                if (e->type == MULTIBOOT_MEMORY_AVAILABLE && e->addr <= a &&
                    e->addr + e->len >= (uint64_t)a + PAGE_SIZE)
                    ram = true;
                off += e->size + sizeof(e->size);
            }
        } else if (mbi->flags & MULTIBOOT_INFO_MEMORY) {
            ram = (uint64_t)mbi->mem_lower * 1024 >= (uint64_t)a + PAGE_SIZE;
        }
        if (!ram || overlaps(a, PAGE_SIZE, (uint32_t)mbi, sizeof *mbi) ||
            ((mbi->flags & MULTIBOOT_INFO_MEM_MAP) &&
             overlaps(a, PAGE_SIZE, mbi->mmap_addr, mbi->mmap_length)) ||
            overlaps(a, PAGE_SIZE, (uint32_t)cl, strlen(cl) + 1))
            continue;
        return a;
    }
    return 0;
}

/* The BSP's xAPIC at its MMIO address below 4 GiB, globally and software enabled. */
static int enable_bsp_apic(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[3] & CPUID1_EDX_APIC)) {
        printf("smp: error: CPUID.1:EDX.APIC is clear: no local APIC\n");
        return GUEST_EXIT_CONFIG;
    }
    uint32_t lo = 0, hi = 0;
    trap_expect(2);
    __asm__ volatile(".byte 0x0f, 0x32" : "+a"(lo), "+d"(hi) : "c"(MSR_IA32_APIC_BASE)); /* rdmsr */
    int vec = trap_caught();
    if (vec >= 0) {
        printf("smp: FAILED: RDMSR IA32_APIC_BASE raised %s on a CPU with an APIC\n",
               trap_name(vec));
        return GUEST_EXIT_FAIL;
    }
    uint64_t msr = ((uint64_t)hi << 32) | lo;
    if (msr >> 32) {
        printf("smp: error: IA32_APIC_BASE %llx is above 4 GiB\n", msr);
        return GUEST_EXIT_CONFIG;
    }
    if (!(msr & MSR_APIC_BASE_BSP))
        printf("smp: note: IA32_APIC_BASE.BSP is clear on the boot processor (%llx)\n", msr);
    if (!(msr & MSR_APIC_BASE_EN))
        smp_wrmsr(MSR_IA32_APIC_BASE, msr | MSR_APIC_BASE_EN);
    lapic_base = (uint32_t)msr & MSR_APIC_BASE_ADDR;
    xapic_write(lapic_base, XAPIC_SVR, XAPIC_SVR_APIC_ENABLE | XAPIC_SVR_SPURIOUS_VECTOR);
    return GUEST_EXIT_OK;
}

/* The CPUs to expect: the MADT's, or 0..cpus-1 without ACPI; checked against cpus= if given. */
static int find_cpus(struct smp_cpu_list *cpus, bool have_want, uint32_t want)
{
    enum madt_result m = smp_madt_cpus(cpus);
    if (m == MADT_BAD) {
        printf("smp: FAILED: the ACPI tables are malformed\n");
        return GUEST_EXIT_FAIL;
    }
    if (m == MADT_NO_TABLES) {
        if (!have_want) {
            printf("smp: error: no ACPI MADT and no cpus=N on the command line\n");
            return GUEST_EXIT_CONFIG;
        }
        cpus->n = want;
        for (uint32_t i = 0; i < want; i++)
            cpus->apic_id[i] = (uint8_t)i;
        printf("smp: no ACPI MADT; cpus=%u from the command line (apic ids 0..%u)\n", want,
               want - 1);
        return GUEST_EXIT_OK;
    }
    char ids[SMP_MAX_CPUS * 4 + 1] = "";
    size_t len = 0;
    for (unsigned i = 0; i < cpus->n; i++)
        len += (size_t)snprintf(ids + len, sizeof ids - len, " %u", cpus->apic_id[i]);
    printf("smp: acpi: MADT lists %u enabled cpus (apic ids%s)\n", cpus->n, ids);
    if (have_want && cpus->n != want) {
        printf("smp: FAILED: the MADT lists %u cpus, cpus=%u expected\n", cpus->n, want);
        return GUEST_EXIT_FAIL;
    }
    if (cpus->n == 0) {
        printf("smp: FAILED: the MADT lists no enabled cpu\n");
        return GUEST_EXIT_FAIL;
    }
    return GUEST_EXIT_OK;
}

/* Every CPU adds at once; the total must be exact. */
static int shared_counter_test(uint32_t n_cpus)
{
    uint32_t aps = n_cpus - 1;
    go = 1;
    add_many();
    if (!smp_wait_ms(ADDS_TIMEOUT_MS, all_done, &aps)) {
        say("smp: FAILED: only %u of %u APs finished their adds within %u ms\n", done_count, aps,
            ADDS_TIMEOUT_MS);
        return GUEST_EXIT_FAIL;
    }
    uint32_t expect = n_cpus * adds_per_cpu; /* adds <= 10^7, cpus <= 32: fits */
    uint32_t got = __atomic_load_n(&shared_counter, __ATOMIC_SEQ_CST);
    if (got != expect) {
        say("smp: FAILED: shared counter %u, expected %u = %u x %u (lock xadd)\n", got, expect,
            n_cpus, adds_per_cpu);
        return GUEST_EXIT_FAIL;
    }
    say("smp: shared counter %u = %u x %u (lock xadd)\n", got, n_cpus, adds_per_cpu);
    return GUEST_EXIT_OK;
}

int guest_main(const struct multiboot_info *mbi)
{
    static const char *const keys[] = {"cpus", "adds", NULL};
    uint64_t want = 0, adds = DEFAULT_ADDS;
    char tmp[24];
    if (!cmdline_check_keys("smp", keys) || !cmdline_uint("smp", "cpus", 0, &want) ||
        !cmdline_uint("smp", "adds", DEFAULT_ADDS, &adds))
        return GUEST_EXIT_CONFIG;
    bool have_want = cmdline_get("cpus", tmp, sizeof tmp);
    if (have_want && (want == 0 || want > SMP_MAX_CPUS)) {
        printf("smp: cpus must be 1..%u\n", SMP_MAX_CPUS);
        return GUEST_EXIT_CONFIG;
    }
    if (adds > 10000000u) {
        printf("smp: adds must be at most 10000000\n");
        return GUEST_EXIT_CONFIG;
    }
    adds_per_cpu = (uint32_t)adds;
    idt_init();
    __asm__ volatile("sidt %0" : "=m"(smp_idt_desc));

    int rc = enable_bsp_apic();
    if (rc != GUEST_EXIT_OK)
        return rc;
    uint8_t bsp_id = (uint8_t)(xapic_read(lapic_base, XAPIC_ID) >> XAPIC_ID_SHIFT);
    printf("smp: bsp apic id %u, lapic at 0x%08x version 0x%x\n", bsp_id, lapic_base,
           xapic_read(lapic_base, XAPIC_VERSION) & 0xff);

    struct smp_cpu_list cpus;
    rc = find_cpus(&cpus, have_want, (uint32_t)want);
    if (rc != GUEST_EXIT_OK)
        return rc;
    bool bsp_listed = false;
    for (unsigned i = 0; i < cpus.n; i++)
        bsp_listed |= cpus.apic_id[i] == bsp_id;
    if (!bsp_listed) {
        printf("smp: FAILED: the boot processor's apic id %u is not in the cpu list\n", bsp_id);
        return GUEST_EXIT_FAIL;
    }

    uint32_t tramp = pick_trampoline(mbi);
    size_t tramp_len = (size_t)(smp_trampoline_end - smp_trampoline_start);
    if (tramp == 0) {
        printf("smp: error: no free page of RAM between 0x%x and 0x%x for the trampoline\n",
               TRAMPOLINE_LOW, TRAMPOLINE_HIGH);
        return GUEST_EXIT_CONFIG;
    }
    memcpy((void *)(uintptr_t)tramp, smp_trampoline_start, tramp_len);
    uint32_t gdt_linear = tramp + (uint32_t)(smp_trampoline_gdt - smp_trampoline_start);
    memcpy((void *)(uintptr_t)(tramp + (uint32_t)(smp_trampoline_gdt_base - smp_trampoline_start)),
           &gdt_linear, sizeof gdt_linear);
    printf("smp: trampoline at 0x%05x (%u bytes), starting %u APs\n", tramp, (unsigned)tramp_len,
           cpus.n - 1);

    /* One AP at a time, so that cpu numbers follow the MADT order. */
    char missing[SMP_MAX_CPUS * 4 + 1] = "";
    size_t mlen = 0;
    uint32_t expected_up = 0;
    bool ok = true;
    for (unsigned i = 0; i < cpus.n; i++) {
        uint8_t id = cpus.apic_id[i];
        if (id == bsp_id)
            continue;
        uint32_t before = up_count;
        if (!start_ap(id, tramp, before + 1)) {
            say("smp: FAILED: apic id %u did not come up within %u ms\n", id, AP_UP_TIMEOUT_MS);
            mlen += (size_t)snprintf(missing + mlen, sizeof missing - mlen, " %u", id);
            ok = false;
            continue;
        }
        expected_up++;
        uint32_t cpu = before + 1; /* the AP's number, if it was the only one to come up */
        if (up_count != before + 1 || ap_apic_id[cpu] != id) {
            say("smp: FAILED: after starting apic id %u: %u APs up (expected %u), cpu %u reports "
                "apic id %u\n",
                id, up_count, before + 1, cpu, ap_apic_id[cpu]);
            ok = false;
        }
    }
    /* A late or repeated start (a second STARTUP must be ignored) would show up here. */
    smp_delay_us(INIT_DELAY_US);
    uint32_t up = up_count, n_cpus = cpus.n;
    say("smp: %u of %u cpus up\n", up + 1, n_cpus);
    if (missing[0])
        say("smp: FAILED: missing apic ids%s\n", missing);
    if (up != expected_up || smp_ap_next != up + 1) {
        say("smp: FAILED: %u APs reported in, %u took a cpu number; %u expected\n", up,
            smp_ap_next - 1, expected_up);
        ok = false;
    }
    if (!ok)
        return GUEST_EXIT_FAIL;
    if (adds_per_cpu == 0) {
        go = 1;
        return GUEST_EXIT_OK;
    }
    return shared_counter_test(n_cpus);
}
