/*
 * Software MSR state and its validity rules (msr_model.h). Pure: no MSR or VMCS access here.
 */
#include "arch/x86/msr_model.h"

#define NS_PER_S 1000000000ull

static bool mtrr_type_valid(uint64_t t)
{
    return t == MEMTYPE_UC || t == MEMTYPE_WC || t == MEMTYPE_WT || t == MEMTYPE_WP ||
           t == MEMTYPE_WB;
}

static bool pat_type_valid(uint64_t t)
{
    return mtrr_type_valid(t) || t == MEMTYPE_UC_MINUS;
}

bool pat_valid(uint64_t pat)
{
    for (unsigned i = 0; i < 8; i++)
        if (!pat_type_valid((pat >> (8 * i)) & 0xff))
            return false;
    return true;
}

/* Index into mtrr_state.fixed, or -1. */
static int fixed_index(uint32_t msr)
{
    if (msr == IA32_MTRR_FIX64K_00000)
        return 0;
    if (msr == IA32_MTRR_FIX16K_80000)
        return 1;
    if (msr == IA32_MTRR_FIX16K_A0000)
        return 2;
    if (msr >= IA32_MTRR_FIX4K_C0000 && msr < IA32_MTRR_FIX4K_C0000 + 8)
        return 3 + (int)(msr - IA32_MTRR_FIX4K_C0000);
    return -1;
}

static bool var_msr(uint32_t msr)
{
    return msr >= IA32_MTRR_PHYSBASE0 && msr < IA32_MTRR_PHYSBASE0 + 2 * MTRR_VAR_COUNT;
}

bool mtrr_msr(uint32_t msr)
{
    return msr == IA32_MTRRCAP || msr == IA32_MTRR_DEF_TYPE || var_msr(msr) ||
           fixed_index(msr) >= 0;
}

bool mtrr_read(const struct mtrr_state *m, uint32_t msr, uint64_t *value)
{
    int f = fixed_index(msr);
    if (msr == IA32_MTRRCAP)
        *value = MTRRCAP_GUEST;
    else if (msr == IA32_MTRR_DEF_TYPE)
        *value = m->def_type;
    else if (var_msr(msr))
        *value = m->var[msr - IA32_MTRR_PHYSBASE0];
    else if (f >= 0)
        *value = m->fixed[f];
    else
        return false;
    return true;
}

bool mtrr_write(struct mtrr_state *m, uint32_t msr, uint64_t value, unsigned phys_bits)
{
    if (phys_bits < 36 || phys_bits > 52)
        phys_bits = 36;
    uint64_t above_phys = ~0ull << phys_bits;
    int f = fixed_index(msr);
    if (msr == IA32_MTRR_DEF_TYPE) {
        /* Type in 7:0, FE and E; everything else reserved (Vol. 3A, Figure 12-6). */
        if ((value & ~(0xffull | MTRR_DEF_TYPE_FE | MTRR_DEF_TYPE_E)) ||
            !mtrr_type_valid(value & 0xff))
            return false;
        m->def_type = value;
    } else if (var_msr(msr)) {
        unsigned i = msr - IA32_MTRR_PHYSBASE0;
        if (i % 2 == 0) { /* PHYSBASE: type in 7:0, 11:8 reserved (Figure 12-7) */
            if ((value & (0xf00ull | above_phys)) || !mtrr_type_valid(value & 0xff))
                return false;
        } else if (value & (0x7ffull | above_phys)) { /* PHYSMASK: 10:0 reserved */
            return false;
        }
        m->var[i] = value;
    } else if (f >= 0) { /* eight types, one per byte (Figure 12-8) */
        for (unsigned b = 0; b < 8; b++)
            if (!mtrr_type_valid((value >> (8 * b)) & 0xff))
                return false;
        m->fixed[f] = value;
    } else {
        return false; /* MTRRCAP is read-only */
    }
    return true;
}

bool misc_enable_write_ok(uint64_t value)
{
    return (value & ~MISC_ENABLE_FAST_STRINGS) == (MISC_ENABLE_RESET & ~MISC_ENABLE_FAST_STRINGS);
}

void tsc_write(struct tsc_state *t, uint64_t host_tsc, uint64_t value)
{
    uint64_t old = host_tsc + t->offset;
    t->offset = value - host_tsc;
    t->adjust += value - old;
}

void tsc_adjust_write(struct tsc_state *t, uint64_t value)
{
    t->offset += value - t->adjust;
    t->adjust = value;
}

uint64_t tsc_ns_to_ticks(uint64_t ns, uint64_t hz)
{
    uint64_t s = ns / NS_PER_S, rem = ns % NS_PER_S;
    if (s && hz > UINT64_MAX / s)
        return UINT64_MAX;
    /* rem * hz / 10^9 exactly, with hz = hz_m * 10^6 + hz_r: each product stays below 2^64
     * for hz < 10^13. */
    uint64_t hz_m = hz / 1000000, hz_r = hz % 1000000;
    uint64_t x = rem * hz_m; /* in units of 10^-3 ticks */
    return s * hz + x / 1000 + ((x % 1000) * 1000000 + rem * hz_r) / NS_PER_S;
}
