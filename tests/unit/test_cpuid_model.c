// unit-sources: arch/x86/cpuid_model.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpuid_model.h"
#include "arch/x86/xsave.h"

#define BIT(n) (1u << (n))
enum { A, B, C, D };

/* A Skylake-X-like host: XSAVE layout of the SDM's standard format (Vol. 1, Table 13-1 and
 * CPUID.0DH on such parts). */
static const struct cpuid_xsave_component skylake_layout[CPUID_XSAVE_COMPONENTS] = {
    [2] = {256, 576, false},   /* YMM_Hi128 */
    [3] = {64, 960, false},    /* BNDREGS */
    [4] = {64, 1024, false},   /* BNDCSR */
    [5] = {64, 1088, false},   /* opmask */
    [6] = {512, 1152, false},  /* ZMM_Hi256 */
    [7] = {1024, 1664, false}, /* Hi16_ZMM */
    [9] = {8, 2688, true},     /* PKRU */
};

static void cfg_init(struct cpuid_model_cfg *c, unsigned index, unsigned count, uint64_t xcr0)
{
    memset(c, 0, sizeof *c);
    c->vcpu_index = index;
    c->vcpu_count = count;
    c->xcr0_supported = xcr0;
    c->guest_xcr0 = XCR0_X87;
    c->tsc_khz = 2500000;
    c->xsave = skylake_layout;
}

static void run(const struct cpuid_model_cfg *c, uint32_t leaf, uint32_t sub, uint32_t a,
                uint32_t b, uint32_t cx, uint32_t d, uint32_t r[4])
{
    r[A] = a;
    r[B] = b;
    r[C] = cx;
    r[D] = d;
    cpuid_model(c, leaf, sub, r);
}

#define FULL (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512)

static void test_leaf_remap(void **state)
{
    assert_int_equal(cpuid_model_leaf(0x7, 0x16, 0x80000008u), 0x7);
    assert_int_equal(cpuid_model_leaf(0x16, 0x16, 0x80000008u), 0x16);
    assert_int_equal(cpuid_model_leaf(0x17, 0x16, 0x80000008u), 0x16);
    assert_int_equal(cpuid_model_leaf(0x3fffffffu, 0x16, 0x80000008u), 0x16);
    assert_int_equal(cpuid_model_leaf(0x40000000u, 0x16, 0x80000008u), 0x40000000u);
    assert_int_equal(cpuid_model_leaf(0x40000010u, 0x16, 0x80000008u), 0x40000010u);
    assert_int_equal(cpuid_model_leaf(0x4fffffffu, 0x16, 0x80000008u), 0x4fffffffu);
    assert_int_equal(cpuid_model_leaf(0x80000008u, 0x16, 0x80000008u), 0x80000008u);
    assert_int_equal(cpuid_model_leaf(0x80000009u, 0x16, 0x80000008u), 0x16);
    assert_int_equal(cpuid_model_leaf(0x50000000u, 0x16, 0x80000008u), 0x16);
    assert_int_equal(cpuid_model_leaf(0xffffffffu, 0x16, 0x80000008u), 0x16);
}

static void test_hypervisor_leaves(void **state)
{
    struct cpuid_model_cfg c;
    uint32_t r[4];
    cfg_init(&c, 0, 1, FULL);
    run(&c, 0x40000000u, 0, 1, 2, 3, 4, r);
    assert_int_equal(r[A], 0x40000010u);
    assert_memory_equal(&r[B], "Civi", 4);
    assert_memory_equal(&r[C], "cVMM", 4);
    assert_memory_equal(&r[D], "civc", 4);
    run(&c, 0x40000010u, 0, 1, 2, 3, 4, r);
    assert_int_equal(r[A], 2500000);
    assert_int_equal(r[B], 1000000);
    assert_int_equal(r[C], 0);
    assert_int_equal(r[D], 0);
    run(&c, 0x40000001u, 0, 1, 2, 3, 4, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
    run(&c, 0x40000011u, 0, 1, 2, 3, 4, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
}

static void test_leaf1_features(void **state)
{
    struct cpuid_model_cfg c;
    uint32_t r[4];
    cfg_init(&c, 0, 1, FULL);
    /* A host with every bit set: only the allow-list and civic's own bits survive. */
    run(&c, 1, 0, 0x50654, 0xffffffffu, 0xffffffffu, 0xffffffffu, r);
    assert_int_equal(r[A], 0x50654);
    assert_int_equal(r[C] & (BIT(3) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(2) | BIT(4) |
                             BIT(15) | BIT(18) | BIT(11) | BIT(14)),
                     0);          /* MONITOR VMX SMX EIST TM2 DTES64 DS-CPL PDCM DCA SDBG xTPR */
    assert_true(r[C] & BIT(31));  /* hypervisor */
    assert_true(r[C] & BIT(21));  /* x2APIC */
    assert_true(r[C] & BIT(24));  /* TSC deadline */
    assert_true(r[C] & BIT(26));  /* XSAVE */
    assert_false(r[C] & BIT(27)); /* OSXSAVE follows the guest's CR4 */
    assert_true(r[C] & BIT(28));  /* AVX */
    assert_true(r[C] & BIT(12));  /* FMA */
    assert_true(r[C] & BIT(29));  /* F16C */
    assert_true(r[D] & BIT(9));   /* APIC */
    assert_true(r[D] & BIT(12));  /* MTRR */
    assert_int_equal(
        r[D] & (BIT(7) | BIT(14) | BIT(18) | BIT(21) | BIT(22) | BIT(28) | BIT(29) | BIT(31)),
        0); /* MCE MCA PSN DS ACPI HTT(1 vCPU) TM PBE */
    assert_true(r[D] & BIT(25) && r[D] & BIT(26) && r[D] & BIT(24)); /* SSE SSE2 FXSR */
    assert_int_equal(r[B], 0x0000ffffu | (1u << 16)); /* 1 logical processor, APIC ID 0 */

    /* Host bits absent stay absent (APIC, MTRR, x2APIC and TSC-deadline are civic's). */
    run(&c, 1, 0, 0x50654, 0x00000800, 0, 0, r);
    assert_int_equal(r[C], BIT(21) | BIT(24) | BIT(26) | BIT(31));
    assert_int_equal(r[D], BIT(9) | BIT(12));
    assert_int_equal(r[B], 0x00010800);

    c.guest_osxsave = true;
    run(&c, 1, 0, 0, 0, 0xffffffffu, 0, r);
    assert_true(r[C] & BIT(27));
}

static void test_leaf1_without_xsave_or_avx(void **state)
{
    struct cpuid_model_cfg c;
    uint32_t r[4];
    cfg_init(&c, 0, 1, 0);  /* host without XSAVE: FXSAVE switching */
    c.guest_osxsave = true; /* cannot happen, but OSXSAVE must not appear without XSAVE */
    run(&c, 1, 0, 0, 0, 0xffffffffu, 0xffffffffu, r);
    assert_int_equal(r[C] & (BIT(26) | BIT(27) | BIT(28) | BIT(12) | BIT(29)), 0);
    cfg_init(&c, 0, 1, XCR0_X87 | XCR0_SSE); /* XSAVE without AVX */
    run(&c, 1, 0, 0, 0, 0xffffffffu, 0xffffffffu, r);
    assert_true(r[C] & BIT(26));
    assert_int_equal(r[C] & (BIT(28) | BIT(12) | BIT(29)), 0);
}

static void test_leaf1_topology(void **state)
{
    struct cpuid_model_cfg c;
    uint32_t r[4];
    cfg_init(&c, 3, 4, FULL);
    run(&c, 1, 0, 0, 0x00ff0800, 0, 0, r);
    assert_int_equal(r[B], 0x03040800u); /* APIC ID 3, 4 logical processors, CLFLUSH 64 */
    assert_true(r[D] & BIT(28));         /* HTT with more than one */
    cfg_init(&c, 1, 2, FULL);
    run(&c, 1, 0, 0, 0, 0, 0, r);
    assert_int_equal(r[B], 0x01020000u);
    assert_true(r[D] & BIT(28));
    cfg_init(&c, 0, 0, FULL); /* count not set yet: one */
    run(&c, 1, 0, 0, 0, 0, 0, r);
    assert_int_equal(r[B], 0x00010000u);
    assert_false(r[D] & BIT(28));
}

static void test_leaf4(void **state)
{
    struct cpuid_model_cfg c;
    uint32_t r[4];
    cfg_init(&c, 0, 4, FULL);
    /* L1D: type 1, level 1, self-init; host says 8 cores, 2 threads share it. */
    run(&c, 4, 0, (7u << 26) | (1u << 14) | (1u << 8) | (1u << 5) | 1, 0x1c0003f, 63, 0, r);
    assert_int_equal(r[A], (3u << 26) | (1u << 8) | (1u << 5) | 1);
    assert_int_equal(r[B], 0x1c0003f); /* geometry kept */
    assert_int_equal(r[C], 63);
    /* L3: level 3, shared by the package: all 4 vCPUs. */
    run(&c, 4, 3, (7u << 26) | (15u << 14) | (1u << 8) | (3u << 5) | 3, 1, 2, 3, r);
    assert_int_equal(r[A], (3u << 26) | (3u << 14) | (1u << 8) | (3u << 5) | 3);
    /* No more caches. */
    run(&c, 4, 4, 0, 1, 2, 3, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
    cfg_init(&c, 0, 1, FULL);
    run(&c, 4, 3, (7u << 26) | (15u << 14) | (3u << 5) | 3, 1, 2, 3, r);
    assert_int_equal(r[A], (3u << 5) | 3);
}

static void test_leaf7(void **state)
{
    struct cpuid_model_cfg c;
    uint32_t r[4];
    cfg_init(&c, 0, 1, FULL);
    run(&c, 7, 0, 2, 0xffffffffu, 0xffffffffu, 0xffffffffu, r);
    assert_int_equal(r[A], 0);
    assert_true(r[B] & BIT(1));                                   /* TSC_ADJUST: emulated */
    assert_true(r[B] & BIT(5));                                   /* AVX2 */
    assert_true(r[B] & BIT(16));                                  /* AVX512F */
    assert_true(r[B] & BIT(3) && r[B] & BIT(8) && r[B] & BIT(9)); /* BMI1 BMI2 ERMS */
    assert_int_equal(r[B] & (BIT(2) | BIT(10) | BIT(12) | BIT(14) | BIT(15) | BIT(25)), 0);
    assert_int_equal(r[C] & (BIT(3) | BIT(4) | BIT(16) | BIT(22)), 0); /* PKU OSPKE LA57 RDPID */
    assert_true(r[C] & BIT(2));                                        /* UMIP */
    assert_true(r[C] & BIT(1));                                        /* AVX512_VBMI */
    assert_int_equal(r[D], BIT(2) | BIT(3) | BIT(4) | BIT(8) | BIT(10) | BIT(14) | BIT(26) |
                               BIT(27) | BIT(28) | BIT(29) | BIT(31));
    c.rdtscp = true;
    run(&c, 7, 0, 0, 0, 0xffffffffu, 0, r);
    assert_true(r[C] & BIT(22));
    /* AVX without AVX-512 */
    cfg_init(&c, 0, 1, XCR0_X87 | XCR0_SSE | XCR0_AVX);
    run(&c, 7, 0, 0, 0xffffffffu, 0xffffffffu, 0xffffffffu, r);
    assert_true(r[B] & BIT(5));
    assert_int_equal(r[B] & 0xdc230000u, 0);
    assert_int_equal(r[C] & (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14)), 0);
    assert_true(r[C] & BIT(9) && r[C] & BIT(10)); /* VAES VPCLMULQDQ */
    assert_int_equal(r[D] & (BIT(2) | BIT(3) | BIT(8)), 0);
    /* No AVX at all */
    cfg_init(&c, 0, 1, 0);
    run(&c, 7, 0, 0, 0xffffffffu, 0xffffffffu, 0xffffffffu, r);
    assert_int_equal(r[B] & (BIT(5) | 0xdc230000u), 0);
    assert_int_equal(r[C] & (BIT(9) | BIT(10)), 0);
    /* Speculation control only as the host has it. */
    run(&c, 7, 0, 0, 0, 0, 0, r);
    assert_int_equal(r[D], 0);
    assert_int_equal(r[B], BIT(1));
    /* Other sub-leaves */
    run(&c, 7, 1, 1, 2, 3, 4, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
}

static void check_topology(unsigned index, unsigned count, unsigned shift)
{
    struct cpuid_model_cfg c;
    uint32_t r[4];
    cfg_init(&c, index, count, FULL);
    for (uint32_t leaf = 0xb; leaf <= 0x1f; leaf += 0x1f - 0xb) {
        run(&c, leaf, 0, 9, 9, 9, 9, r);
        assert_int_equal(r[A], 0);
        assert_int_equal(r[B], 1);
        assert_int_equal(r[C], 0x100);
        assert_int_equal(r[D], index);
        run(&c, leaf, 1, 9, 9, 9, 9, r);
        assert_int_equal(r[A], shift);
        assert_int_equal(r[B], count);
        assert_int_equal(r[C], 0x201);
        assert_int_equal(r[D], index);
        run(&c, leaf, 2, 9, 9, 9, 9, r);
        assert_int_equal(r[A], 0);
        assert_int_equal(r[B], 0);
        assert_int_equal(r[C], 2);
        assert_int_equal(r[D], index);
    }
}

static void test_topology(void **state)
{
    check_topology(0, 1, 0);
    check_topology(1, 2, 1);
    check_topology(2, 3, 2);
    check_topology(3, 4, 2);
    check_topology(4, 5, 3);
    check_topology(7, 8, 3);
    check_topology(15, 16, 4);
}

static void test_xsave_leaf(void **state)
{
    struct cpuid_model_cfg c;
    uint32_t r[4];
    cfg_init(&c, 0, 1, FULL);
    /* Sub-leaf 0: EAX = civic's mask (no MPX or PKRU), EBX for the guest's XCR0. */
    run(&c, 0xd, 0, 0x2ff, 2696, 2696, 0, r);
    assert_int_equal(r[A], 0xe7);
    assert_int_equal(r[B], 576); /* XCR0 = x87 */
    assert_int_equal(r[C], 2688);
    assert_int_equal(r[D], 0);
    c.guest_xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX;
    run(&c, 0xd, 0, 0x2ff, 2696, 2696, 0, r);
    assert_int_equal(r[B], 832);
    c.guest_xcr0 = FULL;
    run(&c, 0xd, 0, 0x2ff, 2696, 2696, 0, r);
    assert_int_equal(r[B], 2688);
    /* Sub-leaf 1: XSAVEOPT, XSAVEC, XGETBV1 kept; XSAVES and XFD hidden. */
    run(&c, 0xd, 1, 0x1f, 2000, 0x100, 0, r);
    assert_int_equal(r[A], 0x7);
    assert_int_equal(r[B], 576 + 256 + 64 + 512 + 1024); /* compacted, full mask */
    assert_int_equal(r[C], 0);
    assert_int_equal(r[D], 0);
    run(&c, 0xd, 1, 0x1, 2000, 0, 0, r); /* no XSAVEC: no compacted size */
    assert_int_equal(r[A], 1);
    assert_int_equal(r[B], 0);
    /* Components: the host's for civic's, zero for others. */
    run(&c, 0xd, 2, 256, 576, 0, 0, r);
    assert_int_equal(r[A], 256);
    assert_int_equal(r[B], 576);
    run(&c, 0xd, 7, 1024, 1664, 2, 0, r);
    assert_int_equal(r[A], 1024);
    assert_int_equal(r[C], 2);
    run(&c, 0xd, 3, 64, 960, 0, 0, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
    run(&c, 0xd, 9, 8, 2688, 0, 0, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
    run(&c, 0xd, 63, 1, 1, 1, 1, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
    run(&c, 0xd, 64, 1, 1, 1, 1, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
    /* AVX-only mask */
    cfg_init(&c, 0, 1, XCR0_X87 | XCR0_SSE | XCR0_AVX);
    run(&c, 0xd, 0, 0x2ff, 2696, 2696, 0, r);
    assert_int_equal(r[A], 7);
    assert_int_equal(r[C], 832);
    run(&c, 0xd, 5, 64, 1088, 0, 0, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
    /* No XSAVE: leaf 0DH is empty. */
    cfg_init(&c, 0, 1, 0);
    run(&c, 0xd, 0, 0x2ff, 2696, 2696, 0, r);
    assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
}

static void test_xsave_sizes(void **state)
{
    struct cpuid_model_cfg c;
    cfg_init(&c, 0, 1, FULL);
    assert_int_equal(cpuid_xsave_size(&c, XCR0_X87), 576);
    assert_int_equal(cpuid_xsave_size(&c, XCR0_X87 | XCR0_SSE), 576);
    assert_int_equal(cpuid_xsave_size(&c, FULL), 2688);
    assert_int_equal(cpuid_xsave_size(&c, FULL | XCR0_PKRU), 2696);
    assert_int_equal(cpuid_xsave_compacted_size(&c, XCR0_X87 | XCR0_SSE | XCR0_AVX), 832);
    /* PKRU is 64-byte aligned in the compacted form: 2432 rounds to 2432, + 8. */
    assert_int_equal(cpuid_xsave_compacted_size(&c, FULL | XCR0_PKRU), 2440);
    assert_int_equal(cpuid_xsave_compacted_size(&c, XCR0_X87 | XCR0_AVX | XCR0_PKRU), 840);
}

static void test_other_leaves(void **state)
{
    struct cpuid_model_cfg c;
    uint32_t r[4];
    cfg_init(&c, 0, 2, FULL);
    static const uint32_t hidden[] = {3,    5,    6,    8,    9,    0xa,         0xc,
                                      0xe,  0xf,  0x10, 0x12, 0x14, 0x17,        0x19,
                                      0x1a, 0x1b, 0x1d, 0x1e, 0x20, 0x80000005u, 0x80000009u};
    for (unsigned i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        run(&c, hidden[i], 0, 1, 2, 3, 4, r);
        assert_int_equal(r[A] | r[B] | r[C] | r[D], 0);
    }
    static const uint32_t kept[] = {
        0, 2, 0x15, 0x16, 0x18, 0x80000000u, 0x80000002u, 0x80000003u, 0x80000004u, 0x80000006u};
    for (unsigned i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        run(&c, kept[i], 0, 1, 2, 3, 4, r);
        assert_int_equal(r[A], 1);
        assert_int_equal(r[B], 2);
        assert_int_equal(r[C], 3);
        assert_int_equal(r[D], 4);
    }
    run(&c, 0x80000001u, 0, 1, 2, 0xffffffffu, 0xffffffffu, r);
    assert_int_equal(r[A] | r[B], 0);
    assert_int_equal(r[C], BIT(0) | BIT(5) | BIT(8));
    assert_int_equal(r[D], BIT(11) | BIT(20) | BIT(26) | BIT(29)); /* no RDTSCP */
    c.rdtscp = true;
    run(&c, 0x80000001u, 0, 1, 2, 0xffffffffu, 0xffffffffu, r);
    assert_int_equal(r[D], BIT(11) | BIT(20) | BIT(26) | BIT(27) | BIT(29));
    run(&c, 0x80000007u, 0, 1, 2, 3, 0xffffffffu, r);
    assert_int_equal(r[A] | r[B] | r[C], 0);
    assert_int_equal(r[D], BIT(8));
    run(&c, 0x80000008u, 0, 0x3027, 0xffffffffu, 3, 4, r);
    assert_int_equal(r[A], 0x3027);
    assert_int_equal(r[B], BIT(9));
    assert_int_equal(r[C] | r[D], 0);
}

static void test_xcr0_valid(void **state)
{
    assert_true(xcr0_valid(XCR0_X87, FULL));
    assert_true(xcr0_valid(XCR0_X87 | XCR0_SSE, FULL));
    assert_true(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX, FULL));
    assert_true(xcr0_valid(FULL, FULL));
    assert_false(xcr0_valid(0, FULL)); /* x87 must stay */
    assert_false(xcr0_valid(XCR0_SSE, FULL));
    assert_false(xcr0_valid(XCR0_X87 | XCR0_AVX, FULL)); /* AVX without SSE */
    assert_false(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK, FULL));
    assert_false(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK | XCR0_ZMM_HI256, FULL));
    assert_false(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX512, FULL)); /* AVX-512 needs AVX */
    assert_false(xcr0_valid(FULL, XCR0_X87 | XCR0_SSE | XCR0_AVX));    /* unsupported */
    assert_false(xcr0_valid(XCR0_X87 | XCR0_SSE | XCR0_AVX, XCR0_X87 | XCR0_SSE));
    assert_false(xcr0_valid(XCR0_X87 | XCR0_PKRU, FULL));
    assert_false(xcr0_valid(XCR0_X87 | (1ull << 8), FULL)); /* reserved bit */
    assert_false(xcr0_valid(XCR0_X87 | (1ull << 63), FULL));
    assert_true(xcr0_valid(XCR0_X87 | XCR0_BNDREGS | XCR0_BNDCSR, ~0ull));
    assert_false(xcr0_valid(XCR0_X87 | XCR0_BNDREGS, ~0ull)); /* MPX: both or none */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_remap),     cmocka_unit_test(test_hypervisor_leaves),
        cmocka_unit_test(test_leaf1_features), cmocka_unit_test(test_leaf1_without_xsave_or_avx),
        cmocka_unit_test(test_leaf1_topology), cmocka_unit_test(test_leaf4),
        cmocka_unit_test(test_leaf7),          cmocka_unit_test(test_topology),
        cmocka_unit_test(test_xsave_leaf),     cmocka_unit_test(test_xsave_sizes),
        cmocka_unit_test(test_other_leaves),   cmocka_unit_test(test_xcr0_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
