/* cpuid, tsc, msr: what CPUID reports, RDTSC's monotonicity, MSR round trips and #GP. */
#include "cputest.h"
#include "cpuid.h"
#include "lapic.h"
#include "msr.h"

#define TSC_READS 100000u
#define TSC_BUSY_LOOPS 1000000u
#define TSC_MSR_SLACK 100000u /* cycles: a hypervisor's RDMSR exit may sit between the reads */
#define BAD_MSR 0x12345678u   /* outside every architectural and vendor MSR range */
#define EFER_RESERVED_BIT (1ull << 63)
#define PAT_TEST 0x0007010600070406ull /* power-on value with PA2 = WC instead of UC- */
#define PAT_BAD 0x0007040600070402ull  /* PA0 = 2, a reserved memory type */

void check_cpuid(void)
{
    uint32_t r[4], vendor[4] = {0};
    cpuid(CPUID_LEAF_VENDOR, 0, r);
    uint32_t max = r[0];
    vendor[0] = r[1];
    vendor[1] = r[3];
    vendor[2] = r[2];
    if (!require(max >= 1, "max basic leaf %u < 1", max))
        return;
    cpuid(CPUID_LEAF_FEATURES, 0, r);
    uint32_t sig = r[0], family = (sig >> 8) & 0xf, model = (sig >> 4) & 0xf;
    if (family == 0xf)
        family += (sig >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf)
        model |= ((sig >> 16) & 0xf) << 4;
    uint32_t ebx1 = r[1], ecx1 = r[2], edx1 = r[3];
    note("vendor=%s max_leaf=0x%x family=0x%x model=0x%x stepping=%u ecx=%08x edx=%08x",
         (char *)vendor, max, family, model, sig & 0xf, ecx1, edx1);
    require((edx1 & (CPUID_1_EDX_FPU | CPUID_1_EDX_TSC | CPUID_1_EDX_MSR)) ==
                (CPUID_1_EDX_FPU | CPUID_1_EDX_TSC | CPUID_1_EDX_MSR),
            "leaf 1 EDX=%08x lacks FPU, TSC or MSR", edx1);

    char hv[13] = "none";
    if (ecx1 & CPUID_1_ECX_HYPERVISOR) {
        uint32_t s[4] = {0};
        cpuid(CPUID_LEAF_HV, 0, r);
        s[0] = r[1];
        s[1] = r[2];
        s[2] = r[3];
        memcpy(hv, s, 13);
        note("hypervisor signature '%s' max_leaf=0x%x", hv, r[0]);
        if (r[0] >= CPUID_LEAF_HV_TIMING) {
            cpuid(CPUID_LEAF_HV_TIMING, 0, r);
            note("leaf 0x40000010: tsc=%u kHz apic_bus=%u kHz", r[0], r[1]);
        }
    }
    if (opt.hv[0])
        require(strcmp(hv, opt.hv) == 0, "hypervisor signature '%s', expected '%s'", hv, opt.hv);

    /* Logical processors: leaf 1 EBX (with HTT), leaf 0xB's outermost level when present. */
    uint32_t l1 = (edx1 & CPUID_1_EDX_HTT) ? CPUID_1_EBX_LOGICAL(ebx1) : 1, lb = 0;
    if (max >= CPUID_LEAF_TOPOLOGY) {
        for (uint32_t sub = 0; sub < 8; sub++) {
            cpuid(CPUID_LEAF_TOPOLOGY, sub, r);
            if (CPUID_B_LEVEL_TYPE(r[2]) == 0)
                break;
            lb = CPUID_B_LOGICAL(r[1]);
        }
    }
    note("logical processors: leaf1=%u leafB=%u apic_id=%u", l1, lb, CPUID_1_EBX_APIC_ID(ebx1));
    if (opt.cpus) {
        /* Leaf 1 gives the ID space, a power of two that may exceed the count. */
        require(l1 >= opt.cpus, "leaf 1 reports %u logical processors, cpus=%llu", l1,
                (unsigned long long)opt.cpus);
        if (lb)
            require(lb == opt.cpus, "leaf 0xB reports %u logical processors, cpus=%llu", lb,
                    (unsigned long long)opt.cpus);
    }
    summary("vendor=%s family=0x%x model=0x%x hypervisor=%s", (char *)vendor, family, model, hv);
}

void check_tsc(void)
{
    uint64_t prev = rdtsc(), first = prev, min_step = ~0ull;
    unsigned backwards = 0;
    for (unsigned i = 0; i < TSC_READS; i++) {
        uint64_t t = rdtsc();
        if (t < prev)
            backwards++;
        else if (t - prev < min_step)
            min_step = t - prev;
        prev = t;
    }
    require(backwards == 0, "RDTSC went backwards %u times in %u reads", backwards, TSC_READS);
    uint64_t t0 = rdtsc();
    for (volatile unsigned i = 0; i < TSC_BUSY_LOOPS; i++)
        ;
    uint64_t busy = rdtsc() - t0;
    require(busy > TSC_BUSY_LOOPS / 4 && (int64_t)busy > 0,
            "busy loop of %u iterations advanced the TSC by only %llu", TSC_BUSY_LOOPS,
            (unsigned long long)busy);
    summary("%u reads monotonic (%llu cycles, min step %llu), busy loop %llu cycles", TSC_READS,
            (unsigned long long)(prev - first), (unsigned long long)min_step,
            (unsigned long long)busy);
}

/* Writes v, reads it back, restores the old value. */
static void round_trip(const char *name, uint32_t msr, uint64_t v)
{
    uint64_t old = rdmsr(msr);
    wrmsr(msr, v);
    uint64_t got = rdmsr(msr);
    wrmsr(msr, old);
    uint64_t back = rdmsr(msr);
    require(got == v && back == old, "%s: wrote %llx read %llx, restored %llx read %llx", name,
            (unsigned long long)v, (unsigned long long)got, (unsigned long long)old,
            (unsigned long long)back);
}

static unsigned gp_tolerated;

/* A #GP the SDM requires; QEMU TCG ignores it, so expect=qemu tolerates no fault. */
static void expect_gp(const char *what, int vector, uint32_t error)
{
    if (vector == 13) {
        require(error == 0, "%s: #GP error code %x, expected 0", what, error);
        return;
    }
    if (vector < 0 && opt.expect_qemu) {
        note("%s: no #GP, tolerated under expect=qemu (TCG ignores it)", what);
        gp_tolerated++;
        return;
    }
    require(false, "%s: expected #GP, got %s", what, trap_name(vector));
}

void check_msr(void)
{
    uint32_t r[4];
    round_trip("IA32_SYSENTER_CS", IA32_SYSENTER_CS, 0x0010);
    round_trip("IA32_SYSENTER_ESP", IA32_SYSENTER_ESP, 0x12345670);
    round_trip("IA32_SYSENTER_EIP", IA32_SYSENTER_EIP, 0x89abcde0);

    uint64_t pat = rdmsr(IA32_PAT);
    for (unsigned i = 0; i < 8; i++) {
        unsigned t = (unsigned)(pat >> (8 * i)) & 0xff;
        require(t <= 7 && t != 2 && t != 3, "IA32_PAT=%016llx: entry %u has type %u",
                (unsigned long long)pat, i, t);
    }
    round_trip("IA32_PAT", IA32_PAT, PAT_TEST);

    uint64_t efer = rdmsr(IA32_EFER), bits = 0;
    cpuid(CPUID_LEAF_EXT_MAX, 0, r);
    if (r[0] >= CPUID_LEAF_EXT_FEATURES) {
        cpuid(CPUID_LEAF_EXT_FEATURES, 0, r);
        if (r[3] & CPUID_EXT_EDX_NX)
            bits |= EFER_NXE;
        if (r[3] & (CPUID_EXT_EDX_SYSCALL | CPUID_EXT_EDX_LM))
            bits |= EFER_SCE;
    }
    if (bits)
        round_trip("IA32_EFER", IA32_EFER, efer ^ bits);

    uint64_t apic = rdmsr(IA32_APIC_BASE);
    require((apic & APIC_BASE_ADDR_MASK) == LAPIC_DEFAULT_BASE && (apic & APIC_BASE_EN) &&
                (apic & APIC_BASE_BSP),
            "IA32_APIC_BASE=%llx: expected base fee00000 with EN and BSP",
            (unsigned long long)apic);

    uint64_t t0 = rdtsc(), tsc = rdmsr(IA32_TSC), t1 = rdtsc();
    if (tsc == 0 && opt.expect_qemu)
        note("IA32_TSC reads 0, tolerated under expect=qemu (TCG does not implement it)");
    else
        require(tsc + TSC_MSR_SLACK >= t0 && tsc <= t1 + TSC_MSR_SLACK,
                "IA32_TSC=%llu not between RDTSC %llu and %llu", (unsigned long long)tsc,
                (unsigned long long)t0, (unsigned long long)t1);

    uint64_t v = 0;
    gp_tolerated = 0;
    int vec = rdmsr_safe(BAD_MSR, &v);
    expect_gp("RDMSR 0x12345678", vec, trap_error_code());
    vec = wrmsr_safe(IA32_EFER, efer | EFER_RESERVED_BIT);
    expect_gp("WRMSR IA32_EFER with bit 63", vec, trap_error_code());
    wrmsr(IA32_EFER, efer);
    vec = wrmsr_safe(IA32_PAT, PAT_BAD);
    expect_gp("WRMSR IA32_PAT with type 2", vec, trap_error_code());
    wrmsr(IA32_PAT, pat);

    const char *efer_text = bits == (EFER_NXE | EFER_SCE) ? " efer(nxe,sce)" : bits ? " efer" : "";
    summary("sysenter_cs/esp/eip pat%s round trips, apic_base=%llx, %s", efer_text,
            (unsigned long long)apic,
            gp_tolerated ? "no #GP on a bad index/value (expect=qemu)"
                         : "#GP on a bad index/value");
}
