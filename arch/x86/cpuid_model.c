/*
 * The guest's CPUID (Intel SDM Vol. 2A, CPUID, Tables 3-8 to 3-12). Features are kept from an
 * allow-list: a bit civic does not know stays hidden, so a newer host CPU cannot offer a guest
 * something civic does not virtualize. What is shown and why:
 *  - no VMX/SMX, MONITOR/MWAIT (their exits give #UD), thermal/power (leaf 6), performance
 *    monitoring (leaf 0AH), debug store, machine check (MCE/MCA), PKU, MPX, SGX, PT;
 *  - the local APIC with x2APIC and TSC-deadline (the LAPIC model has them), MTRRs (emulated),
 *    TSC_ADJUST (emulated), the hypervisor bit and leaves 0x40000000/0x40000010;
 *  - XSAVE when civic switches XSAVE state, OSXSAVE mirroring the guest's CR4, and AVX-class
 *    features only when their XCR0 components are in civic's mask; leaf 0DH describes exactly
 *    that mask (XSAVEOPT/XSAVEC/XGETBV1 need nothing from civic; XSAVES would need IA32_XSS and
 *    a VMX control, so it is hidden);
 *  - speculation-control features when the host has them (exit_msr.c emulates their MSRs);
 *  - topology: N vCPUs are N cores of one package with one thread per core (leaves 1, 4, 0BH,
 *    1FH agree).
 */
#include "arch/x86/cpuid_model.h"

#include "arch/x86/xsave.h"
#include "kernel/string.h"

#define BIT(n) (1u << (n))
enum { A, B, C, D };

/* CPUID.01H:ECX (Table 3-10). */
#define C1_ECX_SSE3 BIT(0)
#define C1_ECX_PCLMULQDQ BIT(1)
#define C1_ECX_SSSE3 BIT(9)
#define C1_ECX_FMA BIT(12)
#define C1_ECX_CMPXCHG16B BIT(13)
#define C1_ECX_PCID BIT(17)
#define C1_ECX_SSE4_1 BIT(19)
#define C1_ECX_SSE4_2 BIT(20)
#define C1_ECX_X2APIC BIT(21)
#define C1_ECX_MOVBE BIT(22)
#define C1_ECX_POPCNT BIT(23)
#define C1_ECX_TSC_DEADLINE BIT(24)
#define C1_ECX_AESNI BIT(25)
#define C1_ECX_XSAVE BIT(26)
#define C1_ECX_OSXSAVE BIT(27)
#define C1_ECX_AVX BIT(28)
#define C1_ECX_F16C BIT(29)
#define C1_ECX_RDRAND BIT(30)
#define C1_ECX_HYPERVISOR BIT(31)
#define C1_ECX_KEEP                                                                                \
    (C1_ECX_SSE3 | C1_ECX_PCLMULQDQ | C1_ECX_SSSE3 | C1_ECX_CMPXCHG16B | C1_ECX_PCID |             \
     C1_ECX_SSE4_1 | C1_ECX_SSE4_2 | C1_ECX_MOVBE | C1_ECX_POPCNT | C1_ECX_AESNI | C1_ECX_RDRAND)
#define C1_ECX_AVX_CLASS (C1_ECX_FMA | C1_ECX_AVX | C1_ECX_F16C)
/* CPUID.01H:EDX (Table 3-11): FPU VME DE PSE TSC MSR PAE CX8 SEP PGE CMOV PAT PSE-36 CLFSH MMX
 * FXSR SSE SSE2 SS kept; APIC, MTRR and HTT set by civic. */
#define C1_EDX_KEEP                                                                                \
    (BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(8) | BIT(11) | BIT(13) |   \
     BIT(15) | BIT(16) | BIT(17) | BIT(19) | BIT(23) | BIT(24) | BIT(25) | BIT(26) | BIT(27))
#define C1_EDX_APIC BIT(9)
#define C1_EDX_MTRR BIT(12)
#define C1_EDX_HTT BIT(28)

/* CPUID.(07H,0) (Table 3-8). */
#define C7_EBX_TSC_ADJUST BIT(1)
#define C7_EBX_KEEP                                                                                \
    (BIT(0) /* FSGSBASE */ | BIT(3) /* BMI1 */ | BIT(4) /* HLE */ | BIT(6) /* FDP_EXCPTN_ONLY */   \
     | BIT(7) /* SMEP */ | BIT(8) /* BMI2 */ | BIT(9) /* ERMS */ | BIT(11) /* RTM */ |             \
     BIT(13) /* FPU CS/DS deprecated */ | BIT(18) /* RDSEED */ | BIT(19) /* ADX */ |               \
     BIT(20) /* SMAP */ | BIT(23) /* CLFLUSHOPT */ | BIT(24) /* CLWB */ | BIT(29) /* SHA */)
#define C7_EBX_AVX2 BIT(5)
#define C7_EBX_AVX512                                                                              \
    (BIT(16) /* F */ | BIT(17) /* DQ */ | BIT(21) /* IFMA */ | BIT(26) /* PF */ |                  \
     BIT(27) /* ER */ | BIT(28) /* CD */ | BIT(30) /* BW */ | BIT(31) /* VL */)
#define C7_ECX_KEEP                                                                                \
    (BIT(2) /* UMIP */ | BIT(8) /* GFNI */ | BIT(25) /* CLDEMOTE */ | BIT(27) /* MOVDIRI */ |      \
     BIT(28) /* MOVDIR64B */)
#define C7_ECX_AVX (BIT(9) /* VAES */ | BIT(10) /* VPCLMULQDQ */)
#define C7_ECX_AVX512                                                                              \
    (BIT(1) /* VBMI */ | BIT(6) /* VBMI2 */ | BIT(11) /* VNNI */ | BIT(12) /* BITALG */ |          \
     BIT(14) /* VPOPCNTDQ */)
#define C7_ECX_RDPID BIT(22) /* reads IA32_TSC_AUX: #UD unless RDTSCP is enabled */
#define C7_EDX_KEEP                                                                                \
    (BIT(4) /* FSRM */ | BIT(10) /* MD_CLEAR */ | BIT(14) /* SERIALIZE */ |                        \
     BIT(26) /* IBRS/IBPB */ | BIT(27) /* STIBP */ | BIT(28) /* L1D_FLUSH */ |                     \
     BIT(29) /* ARCH_CAPABILITIES */ | BIT(31) /* SSBD */)
#define C7_EDX_AVX512 (BIT(2) /* 4VNNIW */ | BIT(3) /* 4FMAPS */ | BIT(8) /* VP2INTERSECT */)

/* CPUID.(0DH,1):EAX. */
#define CD1_EAX_KEEP (BIT(0) /* XSAVEOPT */ | BIT(1) /* XSAVEC */ | BIT(2) /* XGETBV ECX=1 */)

/* CPUID.80000001H. */
#define C81_ECX_KEEP (BIT(0) /* LAHF/SAHF */ | BIT(5) /* LZCNT */ | BIT(8) /* PREFETCHW */)
#define C81_EDX_KEEP                                                                               \
    (BIT(11) /* SYSCALL */ | BIT(20) /* NX */ | BIT(26) /* 1-GB pages */ | BIT(29) /* Intel 64 */)
#define C81_EDX_RDTSCP BIT(27)
#define C87_EDX_INVARIANT_TSC BIT(8)
#define C88_EBX_WBNOINVD BIT(9)

/* Leaf 4 and leaves 0BH/1FH fields. */
#define L4_EAX_KEEP 0x3fffu /* type, level, self-initializing, fully associative */
#define L4_LEVEL(eax) (((eax) >> 5) & 7)
#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

static void zero(uint32_t r[4])
{
    r[A] = r[B] = r[C] = r[D] = 0;
}

static unsigned count_of(const struct cpuid_model_cfg *cfg)
{
    return cfg->vcpu_count ? cfg->vcpu_count : 1;
}

/* Bits of the x2APIC ID that number the cores: ceil(log2(count)). */
static unsigned core_bits(unsigned count)
{
    unsigned bits = 0;
    while ((1u << bits) < count)
        bits++;
    return bits;
}

uint32_t cpuid_model_leaf(uint32_t leaf, uint32_t host_max_basic, uint32_t host_max_ext)
{
    if ((leaf & 0xf0000000u) == CPUID_HV_BASE)
        return leaf;
    if (leaf < CPUID_HV_BASE)
        return leaf > host_max_basic ? host_max_basic : leaf;
    if (leaf >= 0x80000000u && leaf <= host_max_ext)
        return leaf;
    return host_max_basic;
}

uint32_t cpuid_xsave_size(const struct cpuid_model_cfg *cfg, uint64_t xcr0)
{
    uint32_t size = XSAVE_LEGACY_SIZE + XSAVE_HEADER_SIZE;
    for (unsigned i = CPUID_XSAVE_FIRST_EXT; i < CPUID_XSAVE_COMPONENTS; i++) {
        const struct cpuid_xsave_component *x = &cfg->xsave[i];
        if ((xcr0 & (1ull << i)) && x->offset + x->size > size)
            size = x->offset + x->size;
    }
    return size;
}

uint32_t cpuid_xsave_compacted_size(const struct cpuid_model_cfg *cfg, uint64_t xcr0)
{
    uint32_t size = XSAVE_LEGACY_SIZE + XSAVE_HEADER_SIZE;
    for (unsigned i = CPUID_XSAVE_FIRST_EXT; i < CPUID_XSAVE_COMPONENTS; i++) {
        if (!(xcr0 & (1ull << i)))
            continue;
        if (cfg->xsave[i].align64)
            size = (size + 63) & ~63u;
        size += cfg->xsave[i].size;
    }
    return size;
}

static void leaf1(const struct cpuid_model_cfg *cfg, uint32_t r[4])
{
    unsigned n = count_of(cfg);
    uint64_t x = cfg->xcr0_supported;
    uint32_t ecx = (r[C] & C1_ECX_KEEP) | C1_ECX_X2APIC | C1_ECX_TSC_DEADLINE | C1_ECX_HYPERVISOR;
    if (x) {
        ecx |= C1_ECX_XSAVE;
        if (cfg->guest_osxsave)
            ecx |= C1_ECX_OSXSAVE;
    }
    if (x & XCR0_AVX)
        ecx |= r[C] & C1_ECX_AVX_CLASS;
    r[C] = ecx;
    r[D] = (r[D] & C1_EDX_KEEP) | C1_EDX_APIC | C1_EDX_MTRR | (n > 1 ? C1_EDX_HTT : 0);
    /* EBX: brand index and CLFLUSH size kept; logical processors per package; APIC ID. */
    r[B] = (r[B] & 0xffffu) | ((n > 255 ? 255u : n) << 16) | ((cfg->vcpu_index & 0xffu) << 24);
}

static void leaf4(const struct cpuid_model_cfg *cfg, uint32_t r[4])
{
    if ((r[A] & 0x1f) == 0) { /* no more caches */
        zero(r);
        return;
    }
    unsigned n = count_of(cfg);
    uint32_t cores = (n > 64 ? 64 : n) - 1;
    /* L1 and L2 belong to one core (one thread); L3 is shared by the package. */
    uint32_t sharing = L4_LEVEL(r[A]) >= 3 ? (n > 4096 ? 4095 : n - 1) : 0;
    r[A] = (r[A] & L4_EAX_KEEP) | (sharing << 14) | (cores << 26);
}

static void leaf7(const struct cpuid_model_cfg *cfg, uint32_t sub, uint32_t r[4])
{
    if (sub != 0) {
        zero(r);
        return;
    }
    uint64_t x = cfg->xcr0_supported;
    uint32_t b = (r[B] & C7_EBX_KEEP) | C7_EBX_TSC_ADJUST;
    uint32_t c = r[C] & C7_ECX_KEEP;
    uint32_t d = r[D] & C7_EDX_KEEP;
    if (x & XCR0_AVX) {
        b |= r[B] & C7_EBX_AVX2;
        c |= r[C] & C7_ECX_AVX;
    }
    if ((x & XCR0_AVX512) == XCR0_AVX512) {
        b |= r[B] & C7_EBX_AVX512;
        c |= r[C] & C7_ECX_AVX512;
        d |= r[D] & C7_EDX_AVX512;
    }
    if (cfg->rdtscp)
        c |= r[C] & C7_ECX_RDPID;
    r[A] = 0; /* the highest sub-leaf: later ones hold nothing civic shows */
    r[B] = b;
    r[C] = c;
    r[D] = d;
}

/* Leaves 0BH and 1FH: SMT level (one thread per core), then the core level (N cores). */
static void topology(const struct cpuid_model_cfg *cfg, uint32_t sub, uint32_t r[4])
{
    unsigned n = count_of(cfg);
    r[D] = cfg->vcpu_index; /* x2APIC ID */
    r[C] = sub & 0xffu;
    if (sub == 0) {
        r[A] = 0;
        r[B] = 1;
        r[C] |= TOPO_LEVEL_SMT << 8;
    } else if (sub == 1) {
        r[A] = core_bits(n);
        r[B] = n;
        r[C] |= TOPO_LEVEL_CORE << 8;
    } else {
        r[A] = r[B] = 0; /* level type 0: invalid, the end of the list */
    }
}

static void leaf_xsave(const struct cpuid_model_cfg *cfg, uint32_t sub, uint32_t r[4])
{
    uint64_t x = cfg->xcr0_supported;
    if (!x) {
        zero(r);
        return;
    }
    switch (sub) {
    case 0:
        r[A] = (uint32_t)x;
        r[B] = cpuid_xsave_size(cfg, cfg->guest_xcr0);
        r[C] = cpuid_xsave_size(cfg, x);
        r[D] = (uint32_t)(x >> 32);
        break;
    case 1:
        r[A] &= CD1_EAX_KEEP;
        r[B] = (r[A] & BIT(1)) ? cpuid_xsave_compacted_size(cfg, cfg->guest_xcr0) : 0;
        r[C] = r[D] = 0; /* no IA32_XSS components */
        break;
    default:
        if (sub >= 64 || !(x & (1ull << sub))) {
            zero(r);
        } else {
            r[C] &= BIT(1); /* a user component; keep the alignment bit */
            r[D] = 0;
        }
        break;
    }
}

static void hypervisor(const struct cpuid_model_cfg *cfg, uint32_t leaf, uint32_t r[4])
{
    zero(r);
    if (leaf == CPUID_HV_BASE) {
        r[A] = CPUID_HV_TIMING; /* the highest hypervisor leaf */
        static const char sig[12] = CPUID_HV_SIGNATURE;
        memcpy(&r[B], sig, 4);
        memcpy(&r[C], sig + 4, 4);
        memcpy(&r[D], sig + 8, 4);
    } else if (leaf == CPUID_HV_TIMING) {
        r[A] = cfg->tsc_khz;
        r[B] = CPUID_HV_LAPIC_KHZ;
    }
}

void cpuid_model(const struct cpuid_model_cfg *cfg, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    if ((leaf & 0xf0000000u) == CPUID_HV_BASE) {
        hypervisor(cfg, leaf, r);
        return;
    }
    switch (leaf) {
    case 0:    /* highest basic leaf and vendor */
    case 2:    /* cache and TLB descriptors */
    case 0x15: /* TSC / crystal clock ratio: the guest's TSC runs at the host's rate */
    case 0x16: /* processor frequencies */
    case 0x18: /* TLB parameters */
    case 0x80000000u:
    case 0x80000002u: /* brand string */
    case 0x80000003u:
    case 0x80000004u:
    case 0x80000006u: /* L2 cache */ break;
    case 1: leaf1(cfg, r); break;
    case 4: leaf4(cfg, r); break;
    case 7: leaf7(cfg, sub, r); break;
    case 0xb:
    case 0x1f: topology(cfg, sub, r); break;
    case 0xd: leaf_xsave(cfg, sub, r); break;
    case 0x80000001u:
        r[A] = r[B] = 0;
        r[C] &= C81_ECX_KEEP;
        r[D] &= C81_EDX_KEEP | (cfg->rdtscp ? C81_EDX_RDTSCP : 0);
        break;
    case 0x80000007u:
        r[A] = r[B] = r[C] = 0;
        r[D] &= C87_EDX_INVARIANT_TSC; /* host TSC + a constant offset stays invariant */
        break;
    case 0x80000008u: /* address sizes */
        r[B] &= C88_EBX_WBNOINVD;
        r[C] = r[D] = 0;
        break;
    default: /* MONITOR (5), thermal (6), PMU (0AH), RDT, SGX, PT, AMX, ...: hidden */
        zero(r);
        break;
    }
}
