/*
 * The MSRs civic emulates in software (not switched through the VMCS), as pure state and
 * validity rules so they are host-tested: memory-type range registers (Intel SDM Vol. 3A,
 * 12.11), the PAT (12.12), IA32_MISC_ENABLE (Vol. 4, Table 2-2) and the arithmetic of
 * IA32_TIME_STAMP_COUNTER and IA32_TSC_ADJUST (Vol. 3B, "Time-Stamp Counter
 * Adjustment"). exit_msr.c applies them.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* MTRR MSR indices (Vol. 4, Table 2-2). */
#define IA32_MTRRCAP 0xfe
#define IA32_MTRR_PHYSBASE0 0x200 /* PHYSBASEn = 0x200 + 2n, PHYSMASKn = 0x201 + 2n */
#define IA32_MTRR_FIX64K_00000 0x250
#define IA32_MTRR_FIX16K_80000 0x258
#define IA32_MTRR_FIX16K_A0000 0x259
#define IA32_MTRR_FIX4K_C0000 0x268 /* ... IA32_MTRR_FIX4K_F8000 = 0x26f */
#define IA32_MTRR_DEF_TYPE 0x2ff

#define MTRR_VAR_COUNT 8
#define MTRR_FIXED_COUNT 11
/* IA32_MTRRCAP: VCNT = 8, FIX (bit 8) and WC (bit 10); no SMRR (Vol. 3A, Figure 12-5). */
#define MTRRCAP_GUEST (MTRR_VAR_COUNT | (1ull << 8) | (1ull << 10))
#define MTRR_DEF_TYPE_FE (1ull << 10)
#define MTRR_DEF_TYPE_E (1ull << 11)
#define MTRR_PHYSMASK_VALID (1ull << 11)

/* Memory types (Vol. 3A, Table 12-8 and 12-10). */
#define MEMTYPE_UC 0
#define MEMTYPE_WC 1
#define MEMTYPE_WT 4
#define MEMTYPE_WP 5
#define MEMTYPE_WB 6
#define MEMTYPE_UC_MINUS 7 /* PAT only */

/* The power-on PAT (Vol. 3A, 12.12.4). */
#define PAT_POWER_ON 0x0007040600070406ull

/* A vCPU's MTRRs. Their effect on memory types is not modelled: EPT maps guest RAM write-back
 * and the guest's PAT applies on top (ept.c); the values are kept so that firmware and kernels
 * that program MTRRs read back what they wrote. All zero (disabled) at reset. */
struct mtrr_state {
    uint64_t def_type;
    uint64_t var[2 * MTRR_VAR_COUNT]; /* base0, mask0, base1, ... */
    uint64_t fixed[MTRR_FIXED_COUNT];
};

/* Whether msr is one of the MTRR MSRs (MTRRCAP included). */
bool mtrr_msr(uint32_t msr);
/* RDMSR / WRMSR of an MTRR MSR; false means #GP (not an MTRR MSR, MTRRCAP written, a reserved
 * bit, or an invalid memory type). phys_bits: MAXPHYADDR (CPUID.80000008H:EAX[7:0]). */
bool mtrr_read(const struct mtrr_state *m, uint32_t msr, uint64_t *value);
bool mtrr_write(struct mtrr_state *m, uint32_t msr, uint64_t value, unsigned phys_bits);

/* Whether every byte of a PAT value is a valid type (2 and 3 are reserved; bits 7:3 zero). */
bool pat_valid(uint64_t pat);

/* IA32_MISC_ENABLE as guests see it: fast strings (bit 0) on and writable; BTS and PEBS
 * unavailable (bits 11, 12) read-only. Another value is #GP. */
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_BTS_UNAVAILABLE (1ull << 11)
#define MISC_ENABLE_PEBS_UNAVAILABLE (1ull << 12)
#define MISC_ENABLE_RESET                                                                          \
    (MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_BTS_UNAVAILABLE | MISC_ENABLE_PEBS_UNAVAILABLE)
bool misc_enable_write_ok(uint64_t value);

/* The guest TSC is host TSC + offset. WRMSR IA32_TSC of `value` at host time `host_tsc` sets
 * the offset so the guest reads value, and adds the same change to IA32_TSC_ADJUST; WRMSR
 * IA32_TSC_ADJUST moves the TSC by the change (Vol. 3B, "Time-Stamp Counter Adjustment"). */
struct tsc_state {
    uint64_t offset; /* two's complement: the VMCS TSC offset */
    uint64_t adjust; /* IA32_TSC_ADJUST */
};
void tsc_write(struct tsc_state *t, uint64_t host_tsc, uint64_t value);
void tsc_adjust_write(struct tsc_state *t, uint64_t value);
/* ns of wall time in ticks at hz (rounded down), exact for hz below 10^13; saturates. */
uint64_t tsc_ns_to_ticks(uint64_t ns, uint64_t hz);
