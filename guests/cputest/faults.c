/*
 * ud, pf: exceptions handled inside the guest. ud: UD2 and a LOCK prefix on NOP raise #UD, which
 * the runtime's catch skips. pf: with PAE paging on, a read and a write to not-present pages and
 * a write to a read-only page (CR0.WP) raise #PF with the right CR2 and error code; our own #PF
 * gate (faults.S) maps the page and returns, and the retried access must then succeed.
 */
#include "cputest.h"
#include "cpuid.h"
#include "cr.h"

#define VEC_UD 6
#define VEC_PF 14
#define PF_BASE 0x40000000u /* the second GiB: only pd1, empty at first, covers it */
#define PF_PAGES 3
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
/* #PF error code bits (SDM Vol. 3 4.7, figure 4-12). */
#define PF_ERR_P 0x1u
#define PF_ERR_W 0x2u

struct idt_gate {
    uint16_t offset_lo, selector;
    uint8_t zero, type_attr;
    uint16_t offset_hi;
} __attribute__((packed));

void pf_stub(void);
void pf_handle(uint32_t error, uint32_t cr2, uint32_t eip);

/* PAE: a 4-entry PDPT (its entries take only P, SDM Vol. 3 4.4.1), 2 MiB pages for the first
 * GiB, one 4 KiB page table for the test pages. */
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pd0[512] __attribute__((aligned(4096)));
static uint64_t pd1[512] __attribute__((aligned(4096)));
static uint64_t pt[512] __attribute__((aligned(4096)));
static uint8_t backing[PF_PAGES][4096] __attribute__((aligned(4096)));

static volatile unsigned pf_count;
static volatile uint32_t pf_error, pf_cr2;

void pf_handle(uint32_t error, uint32_t cr2, uint32_t eip)
{
    pf_count++;
    pf_error = error;
    pf_cr2 = cr2;
    if (cr2 < PF_BASE || cr2 >= PF_BASE + PF_PAGES * 4096 || pf_count > 2 * PF_PAGES) {
        printf("cputest: pf: FAIL unexpected #PF error=%x cr2=%08x eip=%08x\n", error, cr2, eip);
        guest_exit(GUEST_EXIT_EXCEPTION);
    }
    unsigned page = (cr2 - PF_BASE) >> 12;
    pd1[0] = (uint32_t)pt | PTE_RW | PTE_P;
    pt[page] = (uint32_t)backing[page] | PTE_RW | PTE_P;
    invlpg(cr2 & ~0xfffu);
}

void check_ud(void)
{
    trap_expect(2);
    __asm__ volatile("ud2" ::: "memory");
    int v1 = trap_caught();
    trap_expect(2);
    __asm__ volatile(".byte 0xf0, 0x90" ::: "memory"); /* lock nop */
    int v2 = trap_caught();
    require(v1 == VEC_UD, "ud2 raised %s, expected #UD", trap_name(v1));
    require(v2 == VEC_UD, "lock nop raised %s, expected #UD", trap_name(v2));
    summary("ud2 and lock nop raised #UD, skipped");
}

/* One access that must fault once with error code err, then complete. */
static void expect_pf(const char *what, unsigned count_before, uint32_t addr, uint32_t err)
{
    require(pf_count == count_before + 1, "%s: %u #PF, expected 1", what, pf_count - count_before);
    require(pf_cr2 == addr, "%s: CR2=%08x, expected %08x", what, pf_cr2, addr);
    require(pf_error == err, "%s: error code %x, expected %x", what, pf_error, err);
}

void check_pf(void)
{
    uint32_t r[4];
    cpuid(CPUID_LEAF_FEATURES, 0, r);
    if (!(r[3] & CPUID_1_EDX_PAE)) {
        skip("no PAE");
        return;
    }
    for (unsigned i = 0; i < 512; i++)
        pd0[i] = (uint64_t)i << 21 | PTE_PS | PTE_RW | PTE_P;
    memset(pd1, 0, sizeof pd1);
    memset(pt, 0, sizeof pt);
    memset(backing, 0, sizeof backing);
    pdpt[0] = (uint32_t)pd0 | PTE_P;
    pdpt[1] = (uint32_t)pd1 | PTE_P;
    backing[0][0x123] = 0x5a;
    pf_count = 0;

    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    struct idt_gate *gate = (struct idt_gate *)idtr.base + VEC_PF, saved = *gate;
    gate->offset_lo = (uint16_t)(uint32_t)pf_stub;
    gate->offset_hi = (uint16_t)((uint32_t)pf_stub >> 16);

    write_cr4(read_cr4() | CR4_PAE);
    write_cr3((uint32_t)pdpt);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);

    uint8_t v = *(volatile uint8_t *)(PF_BASE + 0x123);
    expect_pf("read of a not-present page", 0, PF_BASE + 0x123, 0);
    require(v == 0x5a, "read after mapping gave %02x, expected 5a", v);

    *(volatile uint32_t *)(PF_BASE + 0x1456) = 0xdeadbeef;
    expect_pf("write to a not-present page", 1, PF_BASE + 0x1456, PF_ERR_W);

    pt[2] = (uint32_t)backing[2] | PTE_P; /* present, read-only */
    invlpg(PF_BASE + 0x2000);
    uint32_t ro = *(volatile uint32_t *)(PF_BASE + 0x2010);
    require(pf_count == 2 && ro == 0, "read of a read-only page faulted or gave %x", ro);
    *(volatile uint32_t *)(PF_BASE + 0x2010) = 0xcafef00d;
    expect_pf("write to a read-only page", 2, PF_BASE + 0x2010, PF_ERR_P | PF_ERR_W);

    write_cr0(read_cr0() & ~(CR0_PG | CR0_WP));
    write_cr4(read_cr4() & ~CR4_PAE);
    *gate = saved;
    uint32_t w1 = *(uint32_t *)&backing[1][0x456], w2 = *(uint32_t *)&backing[2][0x10];
    require(w1 == 0xdeadbeef && w2 == 0xcafef00d,
            "the retried writes did not land: page1=%08x page2=%08x", w1, w2);
    summary("3 #PF (not-present read err=0, write err=2, read-only write err=3), right CR2, "
            "mapped and retried");
}
