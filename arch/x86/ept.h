/*
 * Extended page tables: the paging-structure entries (Intel SDM Vol. 3C, 29.3 "The Extended
 * Page Table Mechanism (EPT)", 29.3.2 and 29.3.5 for accessed and dirty flags), the
 * extended-page-table pointer in the VMCS (Vol. 3C, 25.6.11 "Extended-Page-Table Pointer
 * (EPTP)") and the INVEPT types (Vol. 3C, chapter 31, "INVEPT").
 */
#pragma once
#include <stdint.h>

/* ---- EPT paging-structure entries (all four levels) ---- */
#define EPT_READ (1ull << 0)    /* read access */
#define EPT_WRITE (1ull << 1)   /* write access */
#define EPT_EXECUTE (1ull << 2) /* instruction fetch (supervisor-mode with mode-based control) */
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXECUTE)
/* Leaf entries only: the EPT memory type, bits 5:3. */
#define EPT_MEMTYPE_SHIFT 3
#define EPT_MEMTYPE_MASK (7ull << EPT_MEMTYPE_SHIFT)
#define EPT_IGNORE_PAT (1ull << 6)    /* leaf: ignore the guest's PAT memory type */
#define EPT_PAGE_SIZE (1ull << 7)     /* PDPTE: 1 GiB page, PDE: 2 MiB page */
#define EPT_ACCESSED (1ull << 8)      /* set by the CPU when EPTP A/D enable is 1 */
#define EPT_DIRTY (1ull << 9)         /* leaf: set by the CPU on a write, same condition */
#define EPT_USER_EXECUTE (1ull << 10) /* user-mode fetch, with mode-based execute control */
#define EPT_SUPPRESS_VE (1ull << 63)  /* leaf: no #VE for violations here */

/* Physical address bits 51:12 of the next table or the page frame. */
#define EPT_ADDR_MASK 0x000ffffffffff000ull

/* Memory types (Vol. 3A, "Memory Cache Control", Methods of Caching Available), as EPT entries
 * and the EPTP encode them. */
#define EPT_MEMTYPE_UC 0ull
#define EPT_MEMTYPE_WB 6ull

/* 4-level EPT: PML4 (bits 47:39), PDPT (38:30), PD (29:21), PT (20:12) of the guest-physical
 * address, 512 entries per table. */
#define EPT_LEVELS 4
#define EPT_ENTRIES 512
#define EPT_PML4_SHIFT 39
#define EPT_PDPT_SHIFT 30
#define EPT_PD_SHIFT 21
#define EPT_PT_SHIFT 12
#define EPT_GPA_BITS 48
#define EPT_INDEX(gpa, shift) (((uint64_t)(gpa) >> (shift)) & (EPT_ENTRIES - 1))

/* ---- EPTP (VMCS field 0x201A) ---- */
#define EPTP_MEMTYPE_SHIFT 0 /* bits 2:0: memory type for accessing the EPT structures */
#define EPTP_MEMTYPE_MASK (7ull << EPTP_MEMTYPE_SHIFT)
#define EPTP_WALK_LENGTH_SHIFT 3 /* bits 5:3: page-walk length minus 1 */
#define EPTP_WALK_LENGTH_MASK (7ull << EPTP_WALK_LENGTH_SHIFT)
#define EPTP_AD_ENABLE (1ull << 6)   /* enable accessed and dirty flags */
#define EPTP_SSS_ENABLE (1ull << 7)  /* enforce supervisor shadow-stack access rights */
#define EPTP_ADDR_MASK EPT_ADDR_MASK /* bits N-1:12: the PML4 table */

/* ---- INVEPT types (register operand); the descriptor is {EPTP, 0} (128 bits) ---- */
#define INVEPT_SINGLE_CONTEXT 1ull
#define INVEPT_ALL_CONTEXT 2ull
