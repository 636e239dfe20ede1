/*
 * The kernel's final address space (Intel SDM Vol. 3A, 4.5: 4-level paging). Built once at
 * boot from a static pool of tables in .bss, because no frame allocator exists yet:
 *   PML4[256..509]  direct map of [0, max(4 GiB, top of RAM)), 1 GiB or 2 MiB pages, no execute
 *   PML4[510]       MMIO window: physical P at MMIO_BASE + P, 4 KiB pages, uncached
 *   PML4[511]       kernel image: physical [0, 1 GiB) at KERNEL_VMA, 2 MiB pages
 * Nothing maps low virtual addresses, so a NULL dereference faults.
 */
#include "arch/x86/paging.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/cr.h"
#include "arch/x86/msr.h"
#include "arch/x86/pte.h"
#include "kernel/arch.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/string.h"
#include "kernel/types.h"

#define DIRECT_MAP_FIRST_SLOT 256
#define MMIO_SLOT 510
#define KERNEL_SLOT 511
#define SLOT_SPAN (1ull << PML4_SHIFT) /* 512 GiB */
#define MMIO_BASE 0xffffff0000000000ull
#define KERNEL_IMAGE_SPAN GiB(1)

/* CPUID.80000001H:EDX.Page1GB (SDM Vol. 2A, Table 3-8). */
#define CPUID_80000001_EDX_PAGE1GB (1u << 26)

/*
 * Pool: PML4 + kernel PDPT and PD (3), a direct map of 64 GiB with 2 MiB pages (1 PDPT + 64 PDs),
 * and a reserve for the MMIO window (its PDPT, PDs and PTs: each PT maps 2 MiB of registers).
 */
#define DIRECT_MAP_2M_GIB 64
#define MMIO_RESERVE_PAGES 27
#define POOL_PAGES (3 + 1 + DIRECT_MAP_2M_GIB + MMIO_RESERVE_PAGES)

typedef uint64_t page_table[PT_ENTRIES];

static page_table pool[POOL_PAGES] __attribute__((aligned(4096)));
static unsigned pool_used;
static page_table *pml4;
static uint64_t direct_map_end;
static uint64_t leaf_nx; /* PTE_XD when IA32_EFER.NXE is on */
static bool ready;

static page_table *pool_alloc(unsigned limit)
{
    if (pool_used >= limit)
        return NULL;
    return &pool[pool_used++]; /* .bss: already zero */
}

/* Pool tables live in the kernel image, so their physical address is image arithmetic. */
static uint64_t table_phys(const page_table *t)
{
    return (uint64_t)(uintptr_t)t - KERNEL_VMA;
}

static page_table *table_virt(uint64_t entry)
{
    return (page_table *)(uintptr_t)((entry & PTE_ADDR_MASK) + KERNEL_VMA);
}

/* The table an entry points to, created from the pool (up to limit) if absent. */
static page_table *next_table(uint64_t *entry, unsigned limit)
{
    if (*entry & PTE_P)
        return table_virt(*entry);
    page_table *t = pool_alloc(limit);
    if (t)
        *entry = table_phys(t) | PTE_P | PTE_RW;
    return t;
}

static void map_kernel_image(void)
{
    page_table *pdpt = next_table(&(*pml4)[KERNEL_SLOT], POOL_PAGES);
    page_table *pd = next_table(&(*pdpt)[PT_INDEX(KERNEL_VMA, PDPT_SHIFT)], POOL_PAGES);
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        (*pd)[i] = (uint64_t)i * PAGE_SIZE_2M | PTE_P | PTE_RW | PTE_PS;
}

/* Maps [0, want) at DIRECT_MAP_BASE a GiB at a time; returns how far it got. */
static uint64_t map_direct(uint64_t want, bool gib_pages)
{
    const unsigned limit = POOL_PAGES - MMIO_RESERVE_PAGES;
    const uint64_t max_span = (uint64_t)(MMIO_SLOT - DIRECT_MAP_FIRST_SLOT) * SLOT_SPAN;
    uint64_t done = 0;
    while (done < want && done < max_span) {
        uint64_t va = DIRECT_MAP_BASE + done;
        page_table *pdpt = next_table(&(*pml4)[PT_INDEX(va, PML4_SHIFT)], limit);
        if (!pdpt)
            break;
        uint64_t *pdpte = &(*pdpt)[PT_INDEX(va, PDPT_SHIFT)];
        if (gib_pages) {
            *pdpte = done | PTE_P | PTE_RW | PTE_PS | leaf_nx;
        } else {
            page_table *pd = next_table(pdpte, limit);
            if (!pd)
                break;
            for (unsigned i = 0; i < PT_ENTRIES; i++)
                (*pd)[i] = (done + i * PAGE_SIZE_2M) | PTE_P | PTE_RW | PTE_PS | leaf_nx;
        }
        done += PAGE_SIZE_1G;
    }
    return done;
}

civic_err paging_init(uint64_t top_of_ram)
{
    if (ready)
        return trace_error(CIVIC_EBUSY);
    uint32_t a, b, c, d;
    cpuid(0x80000000, 0, &a, &b, &c, &d);
    bool gib_pages = false;
    if (a >= 0x80000001) {
        cpuid(0x80000001, 0, &a, &b, &c, &d);
        gib_pages = (d & CPUID_80000001_EDX_PAGE1GB) != 0;
    }
    /* boot/entry.S turned NXE on iff the CPU has NX; without it bit 63 is reserved. */
    leaf_nx = (rdmsr(IA32_EFER) & IA32_EFER_NXE) ? PTE_XD : 0;

    pml4 = pool_alloc(POOL_PAGES);
    map_kernel_image();

    uint64_t want = GiB(4);
    if (top_of_ram > want)
        want = top_of_ram > UINT64_MAX - GiB(1) ? ALIGN_DOWN(UINT64_MAX, GiB(1))
                                                : ALIGN_UP(top_of_ram, GiB(1));
    direct_map_end = map_direct(want, gib_pages);
    if (direct_map_end < want)
        log_warn("paging: RAM ends at %#llx but the direct map reaches only %#llx; memory above "
                 "it cannot be used",
                 (unsigned long long)top_of_ram, (unsigned long long)direct_map_end);

    write_cr3(table_phys(pml4));
    ready = true;
    log_info("paging: direct map [0, %llu GiB) with %s pages%s, %u of %u table pages used",
             (unsigned long long)(direct_map_end >> 30), gib_pages ? "1 GiB" : "2 MiB",
             leaf_nx ? ", no-execute" : "", pool_used, (unsigned)POOL_PAGES);
    return CIVIC_OK;
}

uint64_t paging_direct_map_end(void)
{
    return direct_map_end;
}

/* The 4 KiB PTE for va in the MMIO window, creating tables as needed; NULL if the pool is out. */
static uint64_t *mmio_pte(uint64_t va)
{
    page_table *pdpt = next_table(&(*pml4)[MMIO_SLOT], POOL_PAGES);
    if (!pdpt)
        return NULL;
    page_table *pd = next_table(&(*pdpt)[PT_INDEX(va, PDPT_SHIFT)], POOL_PAGES);
    if (!pd)
        return NULL;
    page_table *pt = next_table(&(*pd)[PT_INDEX(va, PD_SHIFT)], POOL_PAGES);
    if (!pt)
        return NULL;
    return &(*pt)[PT_INDEX(va, PT_SHIFT)];
}

/* The window maps physical P at MMIO_BASE + P, so a page is mapped at most once and a range
 * is virtually contiguous however it overlaps earlier requests. */
void *paging_map_mmio(uint64_t phys, size_t size)
{
    if (!ready || size == 0 || phys + size < phys || phys + size > SLOT_SPAN) {
        log_warn("paging: cannot map MMIO [%#llx, +%#zx)", (unsigned long long)phys, size);
        return NULL;
    }
    uint64_t end = ALIGN_UP(phys + size, PAGE_SIZE);
    for (uint64_t p = ALIGN_DOWN(phys, PAGE_SIZE); p < end; p += PAGE_SIZE) {
        uint64_t *pte = mmio_pte(MMIO_BASE + p);
        if (!pte) {
            log_warn("paging: out of MMIO page tables mapping %#llx", (unsigned long long)p);
            return NULL;
        }
        if (!(*pte & PTE_P)) {
            *pte = p | PTE_P | PTE_RW | PTE_PCD | PTE_PWT | leaf_nx;
            invlpg((const void *)(uintptr_t)(MMIO_BASE + p));
        }
    }
    return (void *)(uintptr_t)(MMIO_BASE + phys);
}

void *phys_to_virt(uint64_t phys)
{
    /* Until the final tables are loaded, the boot tables identity-map the low 4 GiB. */
    if (!ready)
        return (void *)(uintptr_t)phys;
    return (void *)(uintptr_t)(DIRECT_MAP_BASE + phys);
}

uint64_t virt_to_phys(const void *virt)
{
    uint64_t v = (uint64_t)(uintptr_t)virt;
    if (v >= KERNEL_VMA)
        return v - KERNEL_VMA;
    if (v >= MMIO_BASE && v < MMIO_BASE + SLOT_SPAN)
        return v - MMIO_BASE;
    if (v >= DIRECT_MAP_BASE && v - DIRECT_MAP_BASE < direct_map_end)
        return v - DIRECT_MAP_BASE;
    if (!ready && v < GiB(4))
        return v;
    panic("paging: virt_to_phys(%p): not in the direct map, the kernel image or the MMIO window",
          virt);
}
