/*
 * escape's sweeps: everything a guest can reach by number rather than by address. Memory far
 * outside RAM every 16 MiB, every MSR in the architectural ranges, the local APIC and I/O APIC
 * pages, and every I/O port. Most of them cannot tell a leak from a device, so their first job is
 * survival: the guest must still run afterwards, and no access may fault where hardware does not
 * fault. What they can judge, they judge (a garbage WRMSR that an MSR without a read accepts, a
 * read-only APIC register that takes a write, a write outside RAM that sticks).
 *
 * Exits each stage costs under a hypervisor that intercepts everything (civic), roughly:
 *   mem-sweep      ~250 probes x 3 accesses, each an EPT violation (+ a step): ~2k exits
 *   msr-rdmsr      24,835 RDMSRs: ~25k exits
 *   msr-wrmsr      24,835 WRMSRs (+ a RDMSR for each readable MSR): ~25k exits
 *   lapic-page     1,024 dword reads + ~230 writes (+ 8 LVT restores): ~1.3k accesses
 *   ioapic-page    256 x (IOREGSEL write + IOWIN read) + 1,024 dword reads: ~1.5k accesses
 *   ports-in       65,536 byte + 3,968 word + 1,984 dword INs: ~71.5k exits
 *   ports-out      65,515 byte OUTs (+1 to clear CONFIG_ADDRESS): ~65.5k exits
 */
#include "escape.h"

/* ---- ranges of numbers, printed compactly: "0x10 0x17 0x1b 0x174-0x176 ... (+N more)" ---- */

#define RANGES_SHOWN 16

struct ranges {
    char buf[RANGES_SHOWN * 24];
    size_t len;
    unsigned shown, hidden, count;
    uint32_t start, last;
    bool open;
};

static void ranges_flush(struct ranges *r)
{
    if (!r->open)
        return;
    r->open = false;
    if (r->shown == RANGES_SHOWN) {
        r->hidden++;
        return;
    }
    r->shown++;
    size_t room = sizeof r->buf - r->len;
    if (r->start == r->last)
        r->len += (size_t)snprintf(r->buf + r->len, room, " 0x%x", r->start);
    else
        r->len += (size_t)snprintf(r->buf + r->len, room, " 0x%x-0x%x", r->start, r->last);
}

static void ranges_add(struct ranges *r, uint32_t n)
{
    r->count++;
    if (r->open && n == r->last + 1) {
        r->last = n;
        return;
    }
    ranges_flush(r);
    r->open = true;
    r->start = r->last = n;
}

/* The list for a note line; " none" when empty. */
static const char *ranges_text(struct ranges *r)
{
    ranges_flush(r);
    if (r->count == 0)
        return " none";
    if (r->hidden)
        snprintf(r->buf + r->len, sizeof r->buf - r->len, " (+%u more ranges)", r->hidden);
    return r->buf;
}

/* ---- memory far outside RAM: one probe every 16 MiB ---- */

#define SWEEP_STEP 0x1000000u
#define APIC_WINDOW_START 0xfec00000u /* I/O APIC, HPET, local APIC: probed in lapic/ioapic */
#define APIC_WINDOW_END 0xfef00000u
#define QEMU_PCI_HOLE 0xe0000000u

void test_mem_sweep(uint32_t ram_end)
{
    /* From the first 16 MiB boundary at least 1 MiB past RAM. Plain QEMU has PCI devices (the
     * VGA frame buffer sticks) in the hole above 3.5 GiB, which mem-3.5GiB and up already cover. */
    uint64_t from = ((uint64_t)ram_end + 0x100000u + SWEEP_STEP - 1) & ~(uint64_t)(SWEEP_STEP - 1);
    uint64_t to = expect_qemu ? QEMU_PCI_HOLE : 0x100000000ull;
    unsigned probes = 0, faults = 0, bad = 0, tolerated = 0;
    uint32_t first_bad = 0, fb_before = 0, fb_pattern = 0, fb_after = 0;
    for (uint64_t a = from; a < to; a += SWEEP_STEP) {
        uint32_t addr = (uint32_t)a;
        if (addr >= APIC_WINDOW_START && addr < APIC_WINDOW_END)
            continue;
        probes++;
        int v1, v2, v3;
        uint32_t before = probe_read(addr, &v1);
        uint32_t pattern = before == 0x5a5a5a5au ? 0x12345678u : before ^ 0xa5a5a5a5u;
        probe_write(addr, pattern, &v2);
        uint32_t after = probe_read(addr, &v3);
        if (v1 >= 0 || v2 >= 0 || v3 >= 0) {
            faults++;
            continue;
        }
        bool stuck = after == pattern;
        if (stuck)
            probe_write(addr, before, &v2);
        if (before == ALL_ONES && after == ALL_ONES)
            continue;
        if (expect_qemu && !stuck) {
            tolerated++;
            continue;
        }
        if (bad++ == 0) {
            first_bad = addr;
            fb_before = before;
            fb_pattern = pattern;
            fb_after = after;
        }
    }
    char span[64];
    snprintf(span, sizeof span, "%u probes every 16 MiB in 0x%llx-0x%llx", probes, from, to - 1);
    if (bad) {
        report("mem-sweep",
               "ESCAPED (%u of %s; first 0x%08x: read %08x, wrote %08x, read back %08x)", bad, span,
               first_bad, fb_before, fb_pattern, fb_after);
        add(escaped, "mem-sweep");
    } else if (tolerated) {
        report("mem-sweep",
               "tolerated under expect=qemu (%s; %u read other than ffffffff, no "
               "write stuck)",
               span, tolerated);
    } else {
        report("mem-sweep", "contained (%s; %u faulted, the rest read ffffffff and discard writes)",
               span, faults);
    }
}

/* ---- MSRs ---- */

struct msr_range {
    uint32_t first, count;
};

static const struct msr_range msr_ranges[] = {
    {0x00000000u, 0x2000}, /* architectural and model-specific (Intel SDM Vol. 4) */
    {0x40000000u, 0x100},  /* reserved for hypervisor interfaces */
    {0xc0000000u, 0x2000}, /* x86-64 (EFER, STAR, FS_BASE, ...) */
    {0xc0010000u, 0x2000}, /* AMD model-specific */
    {0x12345678u, 1},      {0x80000000u, 1}, {0xffffffffu, 1},
};
#define MSR_TOTAL (0x2000 + 0x100 + 0x2000 + 0x2000 + 3)
#define MSR_VMX_FIRST 0x480 /* IA32_VMX_BASIC .. IA32_VMX_VMFUNC (Intel SDM Vol. 4, Table 2-2) */
#define MSR_VMX_LAST 0x491

static uint8_t msr_readable[(MSR_TOTAL + 7) / 8];

/* rdmsr (0f 32) and wrmsr (0f 30) are 2 bytes: the #GP handler skips them. */
static int rdmsr_probe(uint32_t msr, uint64_t *v)
{
    uint32_t lo = 0, hi = 0;
    trap_expect(2);
    __asm__ volatile(".byte 0x0f, 0x32" : "+a"(lo), "+d"(hi) : "c"(msr));
    *v = ((uint64_t)hi << 32) | lo;
    return trap_caught();
}

static int wrmsr_probe(uint32_t msr, uint64_t v)
{
    trap_expect(2);
    __asm__ volatile(".byte 0x0f, 0x30"
                     :
                     : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                     : "memory");
    return trap_caught();
}

void test_msr_sweep(void)
{
    /* Pass 1, msr-rdmsr: every index; a #GP is counted, any other fault is not as hardware. */
    struct ranges readable = {0};
    unsigned ok = 0, gp = 0, other = 0, vmx_leaks = 0, k = 0;
    for (size_t r = 0; r < sizeof msr_ranges / sizeof msr_ranges[0]; r++) {
        for (uint32_t i = 0; i < msr_ranges[r].count; i++, k++) {
            uint32_t msr = msr_ranges[r].first + i;
            uint64_t v;
            int vec = rdmsr_probe(msr, &v);
            if (vec < 0) {
                ok++;
                msr_readable[k / 8] |= (uint8_t)(1u << (k % 8));
                ranges_add(&readable, msr);
                if (msr >= MSR_VMX_FIRST && msr <= MSR_VMX_LAST && v != 0)
                    vmx_leaks++;
            } else if (vec == VEC_GP) {
                gp++;
            } else {
                other++;
            }
        }
    }
    printf("escape: note: readable msrs (%u):%s\n", ok, ranges_text(&readable));
    if (vmx_leaks) {
        report("msr-rdmsr", "ESCAPED (%u VMX capability MSRs read nonzero; %u readable, %u #GP)",
               vmx_leaks, ok, gp);
        add(escaped, "msr-rdmsr");
    } else if (other) {
        report("msr-rdmsr",
               "not as hardware (%u RDMSRs raised a fault other than #GP; %u readable, "
               "%u #GP)",
               other, ok, gp);
        add(broken, "msr-rdmsr");
    } else {
        report("msr-rdmsr", "contained (%u MSRs: %u readable, %u #GP)", MSR_TOTAL, ok, gp);
    }

    /*
     * Pass 2, msr-wrmsr: a readable MSR gets back what it reads now (hardware may refuse a
     * read-only one with #GP, which is only counted); one that gave #GP on read gets all ones and
     * must give #GP again. Garbage is never written to a readable MSR: that could legitimately
     * change the guest's own state (EFER, APIC_BASE, FS_BASE...) and crash it.
     */
    struct ranges refused = {0}, accepted = {0};
    unsigned back_ok = 0, garbage_gp = 0, other_w = 0;
    k = 0;
    for (size_t r = 0; r < sizeof msr_ranges / sizeof msr_ranges[0]; r++) {
        for (uint32_t i = 0; i < msr_ranges[r].count; i++, k++) {
            uint32_t msr = msr_ranges[r].first + i;
            int vec;
            uint64_t v;
            if (msr_readable[k / 8] & (1u << (k % 8))) {
                if (rdmsr_probe(msr, &v) >= 0) {
                    other_w++; /* readable a moment ago */
                    continue;
                }
                vec = wrmsr_probe(msr, v);
                if (vec < 0)
                    back_ok++;
                else if (vec == VEC_GP)
                    ranges_add(&refused, msr);
                else
                    other_w++;
            } else {
                vec = wrmsr_probe(msr, ~0ull);
                if (vec == VEC_GP)
                    garbage_gp++;
                else if (vec < 0)
                    ranges_add(&accepted, msr);
                else
                    other_w++;
            }
        }
    }
    unsigned n_refused = refused.count, n_accepted = accepted.count;
    printf("escape: note: readable msrs refusing their own value (%u):%s\n", n_refused,
           ranges_text(&refused));
    if (n_accepted)
        printf("escape: note: msrs without a read that took all ones (%u):%s\n", n_accepted,
               ranges_text(&accepted));
    if (other_w) {
        report("msr-wrmsr",
               "not as hardware (%u WRMSRs raised a fault other than #GP or changed "
               "readability)",
               other_w);
        add(broken, "msr-wrmsr");
    } else if (n_accepted && !expect_qemu) {
        report("msr-wrmsr",
               "not as hardware (%u MSRs without a read accepted all ones; "
               "hardware gives #GP)",
               n_accepted);
        add(broken, "msr-wrmsr");
    } else {
        report("msr-wrmsr",
               "%s (%u written back, %u refused their value with #GP, %u of %u "
               "garbage writes #GP%s)",
               n_accepted ? "tolerated under expect=qemu" : "contained", back_ok, n_refused,
               garbage_gp, garbage_gp + n_accepted, n_accepted ? "; the rest accepted" : "");
    }
}

/* ---- the local APIC and I/O APIC pages (Intel SDM Vol. 3A table 10-1; 82093AA data sheet) ---- */

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_DEFAULT 0xfee00000u
#define LAPIC_VERSION 0x030
#define LAPIC_LVT_CMCI 0x2f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_ERROR 0x370
#define LVT_MASKED_PATTERN 0x000100feu /* mask bit 16, fixed delivery, vector 0xfe */
#define APIC_PATTERN 0x5a5a5a5au
#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define PAGE 0x1000u

/*
 * What a sweep may write at a 16-byte aligned local APIC offset: reserved and read-only
 * registers get a pattern, the LVTs a masked entry (restored afterwards). Never written: ID,
 * TPR, EOI, LDR, DFR, SVR, ESR, ICR (an IPI), the timer's initial count and divide
 * configuration. Unaligned offsets are never written: QEMU decodes a register from address bits
 * 4-11 alone, so 0x304 would be the ICR.
 */
enum lapic_write { LW_NONE, LW_PATTERN, LW_LVT };

static enum lapic_write lapic_writable(uint32_t off)
{
    if (off == 0x000)
        /* Reserved; plain QEMU takes a write to the first 16 bytes as an MSI (a write to
         * 0xfee00000 on the bus), which would deliver an interrupt of the pattern's making. */
        return expect_qemu ? LW_NONE : LW_PATTERN;
    if (off == 0x010 || (off >= 0x040 && off <= 0x070) || (off >= 0x290 && off <= 0x2e0) ||
        (off >= 0x3a0 && off <= 0x3d0) || off == 0x3f0 || off >= 0x400)
        return LW_PATTERN; /* reserved */
    if (off == LAPIC_VERSION || off == 0x090 || off == 0x0a0 || off == 0x0c0 ||
        (off >= 0x100 && off <= 0x270) || off == 0x390)
        return LW_PATTERN; /* version, APR, PPR, RRD, ISR, TMR, IRR, current count: read-only */
    if (off == LAPIC_LVT_CMCI || (off >= LAPIC_LVT_TIMER && off <= LAPIC_LVT_ERROR))
        return LW_LVT;
    return LW_NONE;
}

static void test_lapic_page(void)
{
    uint64_t msr;
    uint32_t base = APIC_BASE_DEFAULT;
    if (rdmsr_probe(MSR_IA32_APIC_BASE, &msr) < 0 && msr >> 32 == 0)
        base = (uint32_t)msr & ~(PAGE - 1);
    unsigned reads = 0, writes = 0, faults = 0;
    int vec;
    for (uint32_t off = 0; off < PAGE; off += 4, reads++) {
        probe_read(base + off, &vec);
        faults += vec >= 0;
    }
    uint32_t version = probe_read(base + LAPIC_VERSION, &vec);
    uint32_t lvt_saved[PAGE / 16];
    for (uint32_t off = 0; off < PAGE; off += 16) {
        enum lapic_write w = lapic_writable(off);
        if (w == LW_NONE)
            continue;
        if (w == LW_LVT)
            lvt_saved[off / 16] = probe_read(base + off, &vec);
        probe_write(base + off, w == LW_LVT ? LVT_MASKED_PATTERN : APIC_PATTERN, &vec);
        writes++;
        faults += vec >= 0;
    }
    for (uint32_t off = 0; off < PAGE; off += 16)
        if (lapic_writable(off) == LW_LVT)
            probe_write(base + off, lvt_saved[off / 16], &vec);
    uint32_t version_after = probe_read(base + LAPIC_VERSION, &vec);
    char what[120];
    snprintf(what, sizeof what, "0x%08x: %u dword reads, %u writes, %u faults; version %08x", base,
             reads, writes, faults, version);
    if (version_after != version) {
        report("lapic-page", "not as hardware (%s, read-only version register now %08x)", what,
               version_after);
        add(broken, "lapic-page");
    } else {
        report("lapic-page", "contained (%s)", what);
    }
}

static void test_ioapic_page(void)
{
    unsigned faults = 0, reads = 0;
    int vec;
    uint32_t id = 0, ver = 0;
    for (uint32_t reg = 0; reg < 256; reg++) {
        probe_write(IOAPIC_BASE + IOAPIC_IOREGSEL, reg, &vec);
        faults += vec >= 0;
        uint32_t v = probe_read(IOAPIC_BASE + IOAPIC_IOWIN, &vec);
        faults += vec >= 0;
        if (reg == IOAPIC_REG_ID)
            id = v;
        if (reg == IOAPIC_REG_VER)
            ver = v;
    }
    for (uint32_t off = 0; off < PAGE; off += 4, reads++) {
        probe_read(IOAPIC_BASE + off, &vec);
        faults += vec >= 0;
    }
    report("ioapic-page",
           "contained (0x%08x: 256 registers through IOREGSEL/IOWIN, %u dword "
           "reads, %u faults; id %08x version %08x)",
           IOAPIC_BASE, reads, faults, id, ver);
}

void test_apic_pages(void)
{
    test_lapic_page();
    test_ioapic_page();
}

/* ---- I/O ports ---- */

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define IO_PORTS 0x10000u
#define WIDE_READ_LOW_PORTS 0x1000u /* every word and dword in the ISA range ... */
#define WIDE_READ_STRIDE 0x40u      /* ... and every 64th port above it */

/*
 * Ports never written, each for a write with a defined drastic effect that would end the test:
 *   0x20, 0x21, 0xa0, 0xa1  the 8259 pair: ICW1 restarts initialisation; the setup stays as is
 *   0x4d0, 0x4d1            ELCR: edge/level mode of every IRQ line
 *   0x64                    i8042 command: 0xfe pulses the CPU reset line (and 0xd1 would make
 *                           the next write to 0x60 set the output port, reset bit included)
 *   0x92                    PS/2 system control port A: bit 0 is a fast reset
 *   0xcf9                   reset control register: bits 1-2 reset the machine
 *   0xf4-0xf7               isa-debug-exit: ends the guest (QEMU's device, iosize=4, answers
 *                           on all four ports)
 *   0x3f8-0x3ff             COM1: our own console
 */
static bool port_skipped(uint32_t p)
{
    return p == 0x20 || p == 0x21 || p == 0xa0 || p == 0xa1 || p == 0x4d0 || p == 0x4d1 ||
           p == 0x64 || p == 0x92 || p == 0xcf9 ||
           (p >= ISA_DEBUG_EXIT_PORT && p <= ISA_DEBUG_EXIT_PORT + 3) || (p >= 0x3f8 && p <= 0x3ff);
}

/* IN and OUT by opcode so the handler knows their length: ec inb, 66 ed inw, ed inl, ee outb,
 * ef outl. A fault is counted: at CPL 0 hardware never faults on them. */
static uint32_t port_in(uint32_t port, unsigned size, unsigned *faults)
{
    uint32_t v = 0;
    if (size == 1) {
        trap_expect(1);
        __asm__ volatile(".byte 0xec" : "+a"(v) : "d"(port));
    } else if (size == 2) {
        trap_expect(2);
        __asm__ volatile(".byte 0x66, 0xed" : "+a"(v) : "d"(port));
    } else {
        trap_expect(1);
        __asm__ volatile(".byte 0xed" : "+a"(v) : "d"(port));
    }
    *faults += trap_caught() >= 0;
    return v;
}

static void port_out(uint32_t port, unsigned size, uint32_t v, unsigned *faults)
{
    trap_expect(1);
    if (size == 1)
        __asm__ volatile(".byte 0xee" : : "a"(v), "d"(port));
    else
        __asm__ volatile(".byte 0xef" : : "a"(v), "d"(port));
    *faults += trap_caught() >= 0;
}

void test_port_sweep(void)
{
    struct ranges answer = {0};
    unsigned faults = 0, bytes = 0, words = 0, dwords = 0;
    for (uint32_t p = 0; p < IO_PORTS; p++, bytes++)
        if ((port_in(p, 1, &faults) & 0xff) != 0xff)
            ranges_add(&answer, p);
    for (uint32_t p = 0; p < IO_PORTS; p += 4) {
        if (p >= WIDE_READ_LOW_PORTS && p % WIDE_READ_STRIDE != 0)
            continue;
        port_in(p, 2, &faults);
        port_in(p + 2, 2, &faults);
        port_in(p, 4, &faults);
        words += 2;
        dwords++;
    }
    printf("escape: note: ports not reading ff (%u):%s\n", answer.count, ranges_text(&answer));
    if (faults) {
        report("ports-in", "not as hardware (%u INs faulted; hardware never faults at CPL 0)",
               faults);
        add(broken, "ports-in");
    } else {
        report("ports-in", "contained (%u byte, %u word, %u dword reads)", bytes, words, dwords);
    }

    /* Writes of 0, the least eventful value for any device (no command, no reset bit, no
     * sleep-enable). CONFIG_ADDRESS first gets 0 (a dword, the only width that selects), so the
     * writes to the PCI data ports reach no function. */
    unsigned written = 0, skipped = 0;
    faults = 0;
    port_out(PCI_CONFIG_ADDRESS, 4, 0, &faults);
    for (uint32_t p = 0; p < IO_PORTS; p++) {
        if (port_skipped(p)) {
            skipped++;
            continue;
        }
        port_out(p, 1, 0, &faults);
        written++;
    }
    if (faults) {
        report("ports-out", "not as hardware (%u OUTs faulted; hardware never faults at CPL 0)",
               faults);
        add(broken, "ports-out");
    } else {
        report("ports-out",
               "contained (wrote 0 to %u ports, skipped %u: PICs, ELCR, i8042 "
               "command, port 0x92, 0xcf9, debug exit, COM1)",
               written, skipped);
    }
}
