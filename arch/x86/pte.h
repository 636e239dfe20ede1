/* Page-table entry bits for 4-level paging (Intel SDM Vol. 3A, 4.5, Tables 4-14 to 4-20). */
#pragma once
#include <stdint.h>

#define PTE_P (1ull << 0)   /* present */
#define PTE_RW (1ull << 1)  /* writable */
#define PTE_US (1ull << 2)  /* user-mode accessible */
#define PTE_PWT (1ull << 3) /* page-level write-through */
#define PTE_PCD (1ull << 4) /* page-level cache disable */
#define PTE_A (1ull << 5)   /* accessed */
#define PTE_D (1ull << 6)   /* dirty (leaf entries) */
#define PTE_PS (1ull << 7)  /* page size: 1 GiB in a PDPTE, 2 MiB in a PDE */
#define PTE_G (1ull << 8)   /* global (leaf entries, with CR4.PGE) */
#define PTE_XD (1ull << 63) /* execute-disable (with IA32_EFER.NXE) */

/* Physical address bits 51:12 of the next table or the 4 KiB page. */
#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define PT_ENTRIES 512
#define PML4_SHIFT 39
#define PDPT_SHIFT 30
#define PD_SHIFT 21
#define PT_SHIFT 12

#define PT_INDEX(va, shift) (((uint64_t)(va) >> (shift)) & (PT_ENTRIES - 1))

#define PAGE_SIZE_2M (1ull << PD_SHIFT)
#define PAGE_SIZE_1G (1ull << PDPT_SHIFT)
