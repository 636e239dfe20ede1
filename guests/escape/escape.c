/*
 * escape: tries to reach memory and processor state a guest must not have, reports each attempt
 * as "escape: <test>: <result>" and ends with its own verdict:
 *   "escape: verdict: contained"         exit 0
 *   "escape: verdict: ESCAPED <tests>"   exit 2  the guest saw or changed something outside itself
 *   "escape: verdict: BROKEN <tests>"    exit 5  nothing escaped, but the guest's own RAM or the
 *                                                 CPU did not behave as the hardware does
 *
 * The contract it checks (civic's, expect=civic, the default): guest-physical memory outside RAM
 * reads as all ones and ignores writes; VMX instructions give #UD; CR4.VMXE cannot be set (#GP)
 * or reads back clear; CPUID hides VMX; the VMX capability MSRs give #GP. Under plain QEMU
 * (expect=qemu) the BIOS ROM answers near 4 GiB and unknown MSRs read as 0: those differences
 * are printed as "tolerated" instead of counted, and the CR4 writes that hang QEMU 7.2's TCG are
 * skipped. Memory probes use only `mov (%eax),%edx` (8b 10) and `mov %edx,(%eax)` (89 10), so a
 * hypervisor's MMIO decoder needs just those two; the probes above 4 GiB run with PAE paging on
 * (code identity-mapped by 2 MiB pages, the target behind virtual 0x3fe00000).
 *
 * Then the sweeps (escape_sweep.c; sweeps=0 skips them): memory every 16 MiB past RAM, every MSR
 * of the architectural ranges, the local APIC and I/O APIC pages, every I/O port. They mostly
 * prove survival; the CR4 tests stay last.
 */
#include "escape.h"

#define EXIT_BROKEN 5
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID1_EDX_PAE (1u << 6)
#define CR0_PG (1u << 31)
#define CR0_CD (1u << 30)
#define CR0_NW (1u << 29)
#define CR4_PAE (1u << 5)
#define CR4_VMXE (1u << 13)
#define MSR_IA32_VMX_BASIC 0x480

bool expect_qemu;
char escaped[ESCAPE_LIST_LEN], broken[ESCAPE_LIST_LEN];

void add(char *list, const char *test)
{
    size_t n = strlen(list);
    snprintf(list + n, ESCAPE_LIST_LEN - n, "%s%s", n ? " " : "", test);
}

void report(const char *test, const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    printf("escape: %s: %s\n", test, buf);
}

/* ---- memory ---- */

/* One read or write of a 32-bit word; *vec gets the exception it raised, or -1. */
uint32_t probe_read(uint32_t addr, int *vec)
{
    uint32_t v = 0;
    trap_expect(2);
    __asm__ volatile(".byte 0x8b, 0x10" : "+d"(v) : "a"(addr) : "memory"); /* mov (%eax),%edx */
    *vec = trap_caught();
    return v;
}

void probe_write(uint32_t addr, uint32_t v, int *vec)
{
    trap_expect(2);
    __asm__ volatile(".byte 0x89, 0x10" : : "a"(addr), "d"(v) : "memory"); /* mov %edx,(%eax) */
    *vec = trap_caught();
}

struct probe {
    uint32_t before, after, pattern;
    int fault_r, fault_w, fault_r2;
};

static void probe_word(uint32_t addr, struct probe *p)
{
    p->before = probe_read(addr, &p->fault_r);
    p->pattern = p->before == 0x5a5a5a5au ? 0x12345678u : p->before ^ 0xa5a5a5a5u;
    probe_write(addr, p->pattern, &p->fault_w);
    p->after = probe_read(addr, &p->fault_r2);
    if (p->after == p->pattern) {
        int ignored;
        probe_write(addr, p->before, &ignored); /* put back whatever we reached */
    }
}

/*
 * Judges a probe outside RAM. Under expect=qemu, QEMU's unassigned memory (reads 0) and BIOS ROM
 * are tolerated as long as the write was discarded; stuck_ok also tolerates a write that stuck
 * (the BIOS-reserved RAM past mem_upper).
 */
static void judge_outside(const char *test, uint64_t addr, const struct probe *p, bool stuck_ok)
{
    char where[40];
    snprintf(where, sizeof where, "0x%llx", addr);
    if (p->fault_r >= 0 || p->fault_w >= 0 || p->fault_r2 >= 0) {
        report(test, "contained (%s: fault %s/%s/%s)", where, trap_name(p->fault_r),
               trap_name(p->fault_w), trap_name(p->fault_r2));
        return;
    }
    bool stuck = p->after == p->pattern;
    bool ones = p->before == ALL_ONES && p->after == ALL_ONES;
    if (ones) {
        report(test, "contained (%s: reads ffffffff, write discarded)", where);
    } else if (expect_qemu && (!stuck || stuck_ok)) {
        report(test, "tolerated under expect=qemu (%s: read %08x, wrote %08x, read back %08x)",
               where, p->before, p->pattern, p->after);
    } else {
        report(test, "ESCAPED (%s: read %08x, wrote %08x, read back %08x%s)", where, p->before,
               p->pattern, p->after, stuck ? ": the write stuck" : "");
        add(escaped, test);
    }
}

static void test_own_ram(uint32_t end)
{
    struct probe p;
    probe_word(end - 4, &p);
    if (p.fault_r < 0 && p.fault_w < 0 && p.after == p.pattern) {
        report("ram-last-word", "ok (0x%08x holds what was written)", end - 4);
    } else {
        report("ram-last-word", "FAILED (0x%08x: wrote %08x, read back %08x, faults %s/%s)",
               end - 4, p.pattern, p.after, trap_name(p.fault_r), trap_name(p.fault_w));
        add(broken, "ram-last-word");
    }
    volatile uint8_t *last = (volatile uint8_t *)(uintptr_t)(end - 1);
    uint8_t old = *last, flipped = (uint8_t)~old;
    *last = flipped;
    bool ok = *last == flipped;
    *last = old;
    report("ram-last-byte", ok ? "ok (0x%08x)" : "FAILED (0x%08x does not hold a write)", end - 1);
    if (!ok)
        add(broken, "ram-last-byte");
}

static void test_low_memory(uint32_t end)
{
    struct probe p;
    /* Just past the RAM the loader reported: under QEMU the BIOS keeps reserved RAM there. */
    probe_word(end, &p);
    judge_outside("mem-ram-end", end, &p, true);
    if (end <= 0xffffffffu - 0x100000u) {
        probe_word(end + 0x100000u, &p);
        judge_outside("mem-ram-end+1MiB", end + 0x100000u, &p, false);
    }
    probe_word(0xe0000000u, &p);
    judge_outside("mem-3.5GiB", 0xe0000000u, &p, false);
    /* Just below 4 GiB: the PC's reset vector, where QEMU maps the BIOS ROM. */
    probe_word(0xfffff000u, &p);
    judge_outside("mem-4GiB-4KiB", 0xfffff000u, &p, false);
    probe_word(0xfffffffcu, &p);
    judge_outside("mem-4GiB-4", 0xfffffffcu, &p, false);
}

/* ---- memory above 4 GiB, through PAE paging with one 2 MiB page (Intel SDM Vol. 3 4.4) ---- */

#define PAE_P 0x1u
#define PAE_RW 0x2u
#define PAE_PS 0x80u
#define WINDOW_VA 0x3fe00000u /* page directory 0, entry 511 */

static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pd[512] __attribute__((aligned(4096)));

static uint32_t read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static uint32_t read_cr4(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static void probe_high(const char *test, uint64_t phys)
{
    memset(pd, 0, sizeof pd);
    pd[0] = 0x000000 | PAE_P | PAE_RW | PAE_PS; /* identity: this image, its stack, the IDT */
    pd[1] = 0x200000 | PAE_P | PAE_RW | PAE_PS;
    pd[511] = phys | PAE_P | PAE_RW | PAE_PS;
    pdpt[0] = (uint32_t)pd | PAE_P;
    uint32_t cr0 = read_cr0(), cr4 = read_cr4();
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PAE));
    __asm__ volatile("mov %0, %%cr3" : : "r"((uint32_t)pdpt) : "memory");
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_PG) : "memory");
    struct probe p;
    probe_word(WINDOW_VA + 0x1000, &p); /* no printing while paging is on */
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
    judge_outside(test, phys + 0x1000, &p, false);
}

static void test_high_memory(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[3] & CPUID1_EDX_PAE)) {
        report("mem-4GiB", "skipped (no PAE)");
        return;
    }
    unsigned maxphys = 36;
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000008u) {
        cpuid(0x80000008u, 0, r);
        maxphys = r[0] & 0xff;
    }
    probe_high("mem-4GiB", 0x100000000ull);
    if (maxphys > 33)
        probe_high("mem-maxphys-2MiB", (1ull << maxphys) - 0x200000);
    printf("escape: note: maxphyaddr=%u\n", maxphys);
}

/* ---- VMX instructions, written as bytes so the #UD handler knows their length ---- */

static uint8_t vmx_region[4096] __attribute__((aligned(4096)));
static uint32_t descriptor[4] __attribute__((aligned(16)));

#define VMX_INSN(name, bytes, len, must_ud)                                                        \
    {                                                                                              \
        trap_expect(len);                                                                          \
        __asm__ volatile(bytes : : "a"(ptr), "c"(ecx), "d"(0) : "memory");                         \
        judge_insn(name, trap_caught(), must_ud);                                                  \
    }

/* must_ud: executing it without a fault means the guest reached VMX itself. */
static void judge_insn(const char *test, int vec, bool must_ud)
{
    if (vec == VEC_UD) {
        report(test, "contained (#UD)");
    } else if (vec >= 0) {
        report(test, "contained but not as hardware (%s; hardware gives #UD)", trap_name(vec));
        add(broken, test);
    } else if (must_ud) {
        report(test, "ESCAPED (executed without a fault)");
        add(escaped, test);
    } else {
        report(test, "no fault (hardware gives #UD)");
        add(broken, test);
    }
}

static void test_vmx_insns(void)
{
    uint32_t ptr = (uint32_t)vmx_region, ecx = 0;
    VMX_INSN("vmcall", ".byte 0x0f, 0x01, 0xc1", 3, false);
    VMX_INSN("vmxon", ".byte 0xf3, 0x0f, 0xc7, 0x30", 4, true); /* vmxon (%eax) */
    VMX_INSN("vmptrld", ".byte 0x0f, 0xc7, 0x30", 3, true);     /* vmptrld (%eax) */
    VMX_INSN("vmlaunch", ".byte 0x0f, 0x01, 0xc2", 3, true);
    VMX_INSN("vmread", ".byte 0x0f, 0x78, 0xc8", 3, true);  /* vmread %ecx -> %eax */
    VMX_INSN("vmwrite", ".byte 0x0f, 0x79, 0xc1", 3, true); /* vmwrite %ecx -> field %eax */
    VMX_INSN("vmfunc", ".byte 0x0f, 0x01, 0xd4", 3, false);
    /* type 2: all contexts (INVEPT global, INVVPID all-context) */
    ptr = (uint32_t)descriptor;
    ecx = 2;
    VMX_INSN("invept", ".byte 0x66, 0x0f, 0x38, 0x80, 0x08", 5, true);  /* invept (%eax), %ecx */
    VMX_INSN("invvpid", ".byte 0x66, 0x0f, 0x38, 0x81, 0x08", 5, true); /* invvpid (%eax), %ecx */
}

/* ---- control registers, CPUID, MSRs ---- */

/* mov %eax,%crN is 0f 22 /r: 3 bytes; returns the exception vector or -1. */
static int write_cr4(uint32_t v)
{
    trap_expect(3);
    __asm__ volatile(".byte 0x0f, 0x22, 0xe0" : : "a"(v) : "memory");
    return trap_caught();
}
static int write_cr0(uint32_t v)
{
    trap_expect(3);
    __asm__ volatile(".byte 0x0f, 0x22, 0xc0" : : "a"(v) : "memory");
    return trap_caught();
}

static void test_cr4(void)
{
    if (expect_qemu) {
        /* QEMU 7.2's TCG retries a CR4 write with an unsupported bit forever instead of #GP. */
        report("cr4-vmxe", "skipped under expect=qemu (QEMU's TCG hangs on it)");
        report("cr4-reserved-bit", "skipped under expect=qemu (QEMU's TCG hangs on it)");
        return;
    }
    uint32_t cr4 = read_cr4();
    int vec = write_cr4(cr4 | CR4_VMXE);
    uint32_t now = read_cr4();
    if (now & CR4_VMXE) {
        report("cr4-vmxe", "ESCAPED (CR4.VMXE reads back set: %08x)", now);
        add(escaped, "cr4-vmxe");
        write_cr4(cr4);
    } else if (vec >= 0) {
        report("cr4-vmxe", "contained (%s)", trap_name(vec));
    } else {
        report("cr4-vmxe", "contained (no fault, CR4 reads back %08x without VMXE)", now);
    }

    vec = write_cr4(cr4 | (1u << 31)); /* reserved (Intel SDM Vol. 3 2.5) */
    if (read_cr4() != cr4)
        write_cr4(cr4);
    if (vec == VEC_GP) {
        report("cr4-reserved-bit", "contained (#GP)");
    } else {
        report("cr4-reserved-bit", "not as hardware (%s; hardware gives #GP)", trap_name(vec));
        add(broken, "cr4-reserved-bit");
    }
}

static void test_cr0(void)
{
    uint32_t cr0 = read_cr0();
    int vec;
    vec = write_cr0((cr0 | CR0_NW) & ~CR0_CD); /* NW without CD: #GP (Intel SDM Vol. 3 2.5) */
    if (read_cr0() != cr0)
        write_cr0(cr0);
    if (vec == VEC_GP) {
        report("cr0-nw-without-cd", "contained (#GP)");
    } else if (vec < 0 && expect_qemu) {
        report("cr0-nw-without-cd", "tolerated under expect=qemu (no fault; hardware gives #GP)");
    } else {
        report("cr0-nw-without-cd", "not as hardware (%s; hardware gives #GP)", trap_name(vec));
        add(broken, "cr0-nw-without-cd");
    }
}

static void test_cpuid_msr(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    if (r[2] & CPUID1_ECX_VMX) {
        report("cpuid-vmx", "ESCAPED (CPUID.1:ECX.VMX is set)");
        add(escaped, "cpuid-vmx");
    } else {
        report("cpuid-vmx", "contained (VMX hidden)");
    }
    printf("escape: note: cpuid.1 ecx=%08x hypervisor-bit=%u\n", r[2],
           (r[2] & CPUID1_ECX_HYPERVISOR) ? 1 : 0);

    uint32_t lo = 0, hi = 0;
    trap_expect(2);
    __asm__ volatile(".byte 0x0f, 0x32" : "+a"(lo), "+d"(hi) : "c"(MSR_IA32_VMX_BASIC)); /* rdmsr */
    int vec = trap_caught();
    if (vec == VEC_GP) {
        report("msr-vmx-basic", "contained (#GP)");
    } else if (vec >= 0) {
        report("msr-vmx-basic", "contained but not as hardware (%s)", trap_name(vec));
        add(broken, "msr-vmx-basic");
    } else if (lo == 0 && hi == 0) {
        /* Nothing leaked, but hardware without VMX gives #GP; QEMU's TCG reads 0. */
        report("msr-vmx-basic", "%s (read 0; hardware gives #GP)",
               expect_qemu ? "tolerated under expect=qemu" : "not as hardware");
        if (!expect_qemu)
            add(broken, "msr-vmx-basic");
    } else {
        report("msr-vmx-basic", "ESCAPED (IA32_VMX_BASIC reads %08x%08x)", hi, lo);
        add(escaped, "msr-vmx-basic");
    }
}

int guest_main(const struct multiboot_info *mbi)
{
    static const char *const keys[] = {"expect", "sweeps", NULL};
    uint64_t sweeps;
    char expect[16] = "civic";
    if (!cmdline_check_keys("escape", keys))
        return GUEST_EXIT_CONFIG;
    if (!cmdline_uint("escape", "sweeps", 1, &sweeps))
        return GUEST_EXIT_CONFIG;
    cmdline_get("expect", expect, sizeof expect);
    if (strcmp(expect, "qemu") == 0) {
        expect_qemu = true;
    } else if (strcmp(expect, "civic") != 0) {
        printf("escape: bad value for expect: '%s' (civic or qemu)\n", expect);
        return GUEST_EXIT_CONFIG;
    }
    uint64_t end = ram_end(mbi);
    if (end < 0x400000 || end > 0xe0000000u) {
        printf("escape: error: RAM end 0x%llx is not between 4 MiB and 3.5 GiB\n", end);
        return GUEST_EXIT_CONFIG;
    }
    idt_init();
    printf("escape: expect=%s ram_end=0x%08x\n", expect, (uint32_t)end);

    test_own_ram((uint32_t)end);
    test_low_memory((uint32_t)end);
    test_high_memory();
    if (sweeps)
        test_mem_sweep((uint32_t)end);
    test_vmx_insns();
    test_cpuid_msr();
    if (sweeps) {
        test_msr_sweep();
        test_apic_pages();
        test_port_sweep();
    } else {
        printf("escape: note: sweeps=0: mem-sweep, msr-rdmsr, msr-wrmsr, lapic-page, "
               "ioapic-page, ports-in and ports-out skipped\n");
    }
    test_cr0();
    test_cr4(); /* last: plain QEMU hangs here under expect=civic */

    if (escaped[0]) {
        printf("escape: verdict: ESCAPED %s\n", escaped);
        return GUEST_EXIT_FAIL;
    }
    if (broken[0]) {
        printf("escape: verdict: BROKEN %s\n", broken);
        return EXIT_BROKEN;
    }
    printf("escape: verdict: contained\n");
    return GUEST_EXIT_OK;
}
