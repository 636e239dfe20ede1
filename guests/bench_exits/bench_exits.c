/*
 * bench_exits: the round trip, in TSC cycles as the guest sees them, of the operations a
 * hypervisor must trap: CPUID (leaf 0), an OUT to a port no device claims, and the first write
 * to a 4 KiB page (an EPT violation when memory is allocated lazily), plus the empty
 * measurement (back-to-back RDTSC) and a second write to each page for comparison. Then the PC
 * platform's: a PIT counter read (IN from port 0x40), a local APIC EOI (xAPIC MMIO store, and
 * the x2APIC MSR write when CPUID offers x2APIC), a self-IPI from the ICR write to its handler,
 * and a local APIC one-shot timer's lateness: from the moment it should fire to its handler,
 * measured only where CPUID leaf 0x40000010 gives the TSC and APIC bus rates (civic, KVM).
 *
 *   cmdline: n=N iterations (default 1000, at most 65536)  pages=N first-touch pages (default n;
 *   clamped to the RAM above 16 MiB)  port=P (default 0x0666: not a PC port, so a hypervisor
 *   treats it as unclaimed, and neither QEMU nor civic's platform has a device there)
 *
 * Prints one line per operation, "bench: <op> n=N min=A median=B max=C cycles", then
 * "bench: done"; exit 0.
 */
#include "guest.h"
#include "lapic.h"
#include "msr.h"

#define MAX_N 65536
#define WARMUP 64
#define TOUCH_BASE 0x1000000u /* 16 MiB: above the image and anything a loader put low */
#define PAGE 4096u
#define VEC_IPI 0x50
#define VEC_TIMER 0x51
#define TIMER_COUNT 6250u          /* at divide 16: 100 us on a 1 GHz APIC bus */
#define HV_TIMING_LEAF 0x40000010u /* EAX = TSC kHz, EBX = APIC bus kHz */

static uint32_t samples[MAX_N];
static uint16_t bench_port;

static uint32_t clamp32(uint64_t v)
{
    return v > 0xffffffffu ? 0xffffffffu : (uint32_t)v;
}

static void sift_down(uint32_t *a, uint32_t root, uint32_t n)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[root] >= a[child])
            return;
        uint32_t t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

static void heapsort(uint32_t *a, uint32_t n)
{
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (uint32_t end = n; end-- > 1;) {
        uint32_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

static void print_row(const char *op, uint32_t n)
{
    if (n == 0) {
        printf("bench: %-11s n=0 skipped\n", op);
        return;
    }
    heapsort(samples, n);
    printf("bench: %-11s n=%u min=%u median=%u max=%u cycles\n", op, n, samples[0], samples[n / 2],
           samples[n - 1]);
}

static uint32_t one_empty(void)
{
    uint64_t t0 = rdtsc();
    uint64_t t1 = rdtsc();
    return clamp32(t1 - t0);
}

static uint32_t one_cpuid(void)
{
    uint32_t r[4];
    uint64_t t0 = rdtsc();
    cpuid(0, 0, r);
    uint64_t t1 = rdtsc();
    return clamp32(t1 - t0);
}

static uint32_t one_out(void)
{
    uint64_t t0 = rdtsc();
    outb(bench_port, 0);
    uint64_t t1 = rdtsc();
    return clamp32(t1 - t0);
}

static uint32_t one_write(uint32_t addr)
{
    uint64_t t0 = rdtsc();
    *(volatile uint32_t *)(uintptr_t)addr = addr;
    uint64_t t1 = rdtsc();
    return clamp32(t1 - t0);
}

static void measure(const char *op, uint32_t (*fn)(void), uint32_t n);

static uint32_t one_pit_read(void)
{
    uint64_t t0 = rdtsc();
    (void)inb(0x40);
    uint64_t t1 = rdtsc();
    return clamp32(t1 - t0);
}

/* EOI with nothing in service: the APIC ignores it, so only the trap is measured. */
static uint32_t one_eoi(void)
{
    uint64_t t0 = rdtsc();
    lapic_eoi();
    uint64_t t1 = rdtsc();
    return clamp32(t1 - t0);
}

static volatile uint64_t irq_tsc;
static volatile uint32_t irq_seen;

static void on_irq(unsigned vector)
{
    irq_tsc = rdtsc();
    irq_seen++;
    lapic_eoi();
}

/* ICR store to the handler's first instruction, with interrupts on. */
static uint32_t one_self_ipi(void)
{
    uint32_t before = irq_seen;
    uint64_t t0 = rdtsc();
    __asm__ volatile("sti");
    lapic_write(LAPIC_ICR_LO, (1u << 18) | VEC_IPI); /* shorthand self, fixed */
    while (irq_seen == before)
        __asm__ volatile("pause");
    __asm__ volatile("cli");
    return clamp32(irq_tsc - t0);
}

static uint64_t timer_expected_cycles;

/* A one-shot of TIMER_COUNT at divide 16, waited for in HLT: how late its handler runs. */
static uint32_t one_timer(void)
{
    uint32_t before = irq_seen;
    lapic_write(LAPIC_TIMER_DCR, LAPIC_DCR_DIV16);
    lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_ONESHOT | VEC_TIMER);
    uint64_t t0 = rdtsc();
    lapic_write(LAPIC_TIMER_ICR, TIMER_COUNT);
    while (irq_seen == before)
        __asm__ volatile("sti; hlt; cli");
    uint64_t took = irq_tsc - t0;
    return took > timer_expected_cycles ? clamp32(took - timer_expected_cycles) : 0;
}

static void measure_platform(uint32_t n)
{
    idt_init();
    irq_set_handler(VEC_IPI, on_irq);
    irq_set_handler(VEC_TIMER, on_irq);
    /* Only the local APIC interrupts: every 8259 line masked. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    measure("pit-read", one_pit_read, n);
    lapic_use_xapic((uint32_t)(rdmsr(IA32_APIC_BASE) & 0xfffff000u));
    lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | 0xff);
    measure("eoi-xapic", one_eoi, n);
    measure("self-ipi", one_self_ipi, n);

    uint32_t r[4];
    cpuid(0x40000000u, 0, r);
    if (r[0] >= HV_TIMING_LEAF) {
        cpuid(HV_TIMING_LEAF, 0, r);
        /* count * 16 bus cycles of 1/bus_khz ms each, in TSC cycles of 1/tsc_khz ms (32-bit
         * arithmetic: this guest has no 64-bit division) */
        uint32_t us = TIMER_COUNT * 16u * 1000u / (r[1] ? r[1] : 1);
        timer_expected_cycles = us * (r[0] / 1000u);
        uint32_t m = n > 200 ? 200 : n; /* 100 us each: keep the run short */
        measure("timer-late", one_timer, m);
    } else {
        printf("bench: %-11s n=0 skipped (no CPUID leaf 0x%x with the timer rates)\n", "timer-late",
               HV_TIMING_LEAF);
    }

    cpuid(1, 0, r);
    if (r[2] & (1u << 21)) {
        wrmsr(IA32_APIC_BASE, rdmsr(IA32_APIC_BASE) | (1u << 10)); /* x2APIC mode */
        lapic_use_x2apic();
        measure("eoi-x2apic", one_eoi, n);
    } else {
        printf("bench: %-11s n=0 skipped (no x2APIC)\n", "eoi-x2apic");
    }
}

static void measure(const char *op, uint32_t (*fn)(void), uint32_t n)
{
    for (uint32_t i = 0; i < WARMUP; i++)
        fn();
    for (uint32_t i = 0; i < n; i++)
        samples[i] = fn();
    print_row(op, n);
}

static void print_cpu(void)
{
    uint32_t r[4];
    char vendor[13];
    cpuid(0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
    cpuid(1, 0, r);
    printf("bench: cpu vendor=%s family_model_stepping=0x%x hypervisor_bit=%u\n", vendor, r[0],
           (r[2] >> 31) & 1);
}

int guest_main(const struct multiboot_info *mbi)
{
    static const char *const keys[] = {"n", "pages", "port", NULL};
    uint64_t n, pages, port;
    if (!cmdline_check_keys("bench", keys) || !cmdline_uint("bench", "n", 1000, &n) ||
        !cmdline_uint("bench", "pages", n, &pages) || !cmdline_uint("bench", "port", 0x666, &port))
        return GUEST_EXIT_CONFIG;
    if (n == 0 || n > MAX_N || port > 0xffff) {
        printf("bench: error: n must be 1..%u and port 0..0xffff\n", MAX_N);
        return GUEST_EXIT_CONFIG;
    }
    bench_port = (uint16_t)port;
    uint64_t end = ram_end(mbi), room = end > TOUCH_BASE ? (end - TOUCH_BASE) / PAGE : 0;
    if (pages > room) {
        printf("bench: note: pages=%llu clamped to %llu (RAM ends at 0x%llx, pages start at "
               "0x%x)\n",
               pages, room, end, TOUCH_BASE);
        pages = room;
    }
    if (pages > MAX_N)
        pages = MAX_N;

    print_cpu();
    printf("bench: n=%llu warmup=%u port=0x%llx pages=%llu page_base=0x%x\n", n, WARMUP, port,
           pages, TOUCH_BASE);
    measure("rdtsc", one_empty, (uint32_t)n);
    measure("cpuid", one_cpuid, (uint32_t)n);
    measure("out", one_out, (uint32_t)n);
    for (uint32_t i = 0; i < pages; i++)
        samples[i] = one_write(TOUCH_BASE + i * PAGE);
    print_row("first-touch", (uint32_t)pages);
    for (uint32_t i = 0; i < pages; i++)
        samples[i] = one_write(TOUCH_BASE + i * PAGE + 64);
    print_row("touched", (uint32_t)pages);
    measure_platform((uint32_t)n);
    printf("bench: done\n");
    return GUEST_EXIT_OK;
}
