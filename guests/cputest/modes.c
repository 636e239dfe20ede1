/*
 * modes: from the multiboot entry's 32-bit protected mode down to real mode and back, then into
 * long mode (PAE tables identity-mapping the first GiB with 2 MiB pages) and back through
 * compatibility mode. The switches are in modes.S; this file checks what the code saw there.
 */
#include "cputest.h"
#include "cpuid.h"
#include "cr.h"
#include "msr.h"

struct rm_result {
    uint16_t cs;
    uint16_t pad;
    uint32_t cr0;
    uint32_t vendor[3];
};

struct lm_result {
    uint64_t efer, prod_lo, prod_hi, rip_lea, rip_load, pushpop;
    uint64_t r[8]; /* r8..r15 after the compatibility-mode hop */
    uint64_t ext_edx, compat_cs;
};
/* The offsets modes.S writes. */
_Static_assert(__builtin_offsetof(struct rm_result, vendor) == 8, "RM_VENDOR");
_Static_assert(__builtin_offsetof(struct lm_result, r) == 48, "LM_R8");
_Static_assert(__builtin_offsetof(struct lm_result, compat_cs) == 120, "LM_COMPAT_CS");

void rm_trip(struct rm_result *out);
void lm_trip(uint32_t pml4, struct lm_result *out);
extern const uint64_t lm_marker;
extern const uint32_t rm_blob_size, rm_save_size;

#define RM_SEG 0x0800 /* modes.S: the real-mode blob runs at 0x8000 */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull /* 2 MiB page in a page directory */
#define PAGE_2M 0x200000ull
#define LM_MARKER_VALUE 0x1122334455667788ull

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[512] __attribute__((aligned(4096)));

static void real_mode(void)
{
    struct rm_result rm;
    uint32_t r[4];
    memset(&rm, 0, sizeof rm);
    if (!require(rm_blob_size <= rm_save_size, "real-mode blob of %u bytes, save area %u",
                 rm_blob_size, rm_save_size))
        return;
    cpuid(CPUID_LEAF_VENDOR, 0, r);
    rm_trip(&rm);
    require(rm.cs == RM_SEG, "real mode: CS was %04x, expected %04x", rm.cs, RM_SEG);
    require(!(rm.cr0 & CR0_PE), "real mode: CR0.PE still set (cr0=%08x)", rm.cr0);
    require(rm.vendor[0] == r[1] && rm.vendor[1] == r[3] && rm.vendor[2] == r[2],
            "real mode: CPUID vendor %.12s differs from protected mode's", (char *)rm.vendor);
    require(read_cr0() & CR0_PE, "CR0.PE clear after returning to protected mode");
}

/* Returns false when the CPU has no long mode (qemu-system-i386). */
static bool long_mode(void)
{
    uint32_t r[4];
    cpuid(CPUID_LEAF_EXT_MAX, 0, r);
    if (r[0] < CPUID_LEAF_EXT_FEATURES)
        return false;
    cpuid(CPUID_LEAF_EXT_FEATURES, 0, r);
    if (!(r[3] & CPUID_EXT_EDX_LM))
        return false;

    for (unsigned i = 0; i < 512; i++)
        pd[i] = i * PAGE_2M | PTE_PS | PTE_RW | PTE_P;
    pdpt[0] = (uint32_t)pd | PTE_RW | PTE_P;
    pml4[0] = (uint32_t)pdpt | PTE_RW | PTE_P;

    struct lm_result lm;
    memset(&lm, 0, sizeof lm);
    lm_trip((uint32_t)pml4, &lm);

    require((lm.efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
            "long mode: EFER=%llx lacks LME|LMA", (unsigned long long)lm.efer);
    require(lm.prod_lo == 0x2236d88fe5618cf0ull && lm.prod_hi == 0x0121fa00ad77d742ull,
            "long mode: 64x64 multiply gave %016llx:%016llx", (unsigned long long)lm.prod_hi,
            (unsigned long long)lm.prod_lo);
    require(lm.rip_lea == (uint32_t)&lm_marker && lm.rip_load == LM_MARKER_VALUE,
            "long mode: RIP-relative lea=%llx (expected %p) load=%llx",
            (unsigned long long)lm.rip_lea, (const void *)&lm_marker,
            (unsigned long long)lm.rip_load);
    require(lm.pushpop == 0x8000000180000001ull, "long mode: 64-bit push/pop gave %llx",
            (unsigned long long)lm.pushpop);
    require(lm.ext_edx & CPUID_EXT_EDX_LM, "long mode: CPUID.80000001:EDX.LM clear in 64-bit");
    require(lm.compat_cs == 0x08, "long mode: compatibility-mode CS=%llx",
            (unsigned long long)lm.compat_cs);
    for (unsigned i = 0; i < 8; i++) {
        uint64_t want = 0x0101010110101010ull * (8 + i);
        require(lm.r[i] == want,
                "long mode: r%u=%016llx after compatibility mode, expected %016llx", 8 + i,
                (unsigned long long)lm.r[i], (unsigned long long)want);
    }
    require(!(read_cr0() & CR0_PG) && !(read_cr4() & CR4_PAE) &&
                !(rdmsr(IA32_EFER) & (EFER_LME | EFER_LMA)),
            "back in protected mode with cr0=%08x cr4=%08x efer=%llx", read_cr0(), read_cr4(),
            (unsigned long long)rdmsr(IA32_EFER));
    return true;
}

void check_modes(void)
{
    __asm__ volatile("cli");
    real_mode();
    if (long_mode())
        summary("real mode (cs=0800, cpuid, serial) and long mode (mul, rip-relative, r8-r15 "
                "across compatibility mode) and back");
    else
        summary("real mode (cs=0800, cpuid, serial) and back; no long mode on this CPU");
}
