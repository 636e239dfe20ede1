/*
 * The arch contract for second-level address translation (EPT on x86): the guest-physical to
 * host-physical map that guest memory (mm/guest_mem.c) keeps as a cache of its page records.
 * Implemented by arch/x86/ept.c, which is pure (all table memory comes from the frame source), so
 * it is unit-tested on the host.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/error.h"

struct slat; /* arch-defined */

struct slat_frame_source {
    /* A zeroed 4 KiB frame: returns its kernel virtual address and sets *phys, or NULL. */
    void *(*alloc)(void *ctx, uint64_t *phys);
    void (*free)(void *ctx, uint64_t phys);
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    void *ctx;
};

enum slat_perm { SLAT_R = 1, SLAT_W = 2, SLAT_X = 4, SLAT_RWX = 7 };

struct slat_caps {
    bool accessed_dirty; /* enable EPT A/D bits (the CPU reports them) */
};

/* What this CPU's EPT supports (kernel only). */
struct slat_caps slat_host_caps(void);

civic_err slat_create(struct slat **out, const struct slat_frame_source *src,
                      const struct slat_caps *caps);
/* Frees every table page (not the frames the entries point to). */
void slat_destroy(struct slat *s);
/* Maps one 4 KiB guest frame, write-back. CIVIC_EEXIST if gpa is already mapped, CIVIC_ERANGE
 * beyond the 48-bit guest-physical space, CIVIC_ENOMEM without a table page. */
civic_err slat_map(struct slat *s, uint64_t gpa, uint64_t hpa, unsigned perms);
/* Removes the mapping (CIVIC_ENOENT if none) and frees the tables it leaves empty. The caller
 * invalidates (slat_invalidate) before the guest runs again or the frame is reused. */
civic_err slat_unmap(struct slat *s, uint64_t gpa);
/* Removes the mapping (CIVIC_ENOENT if none) but keeps the tables, for a page mapped again and
 * again (a device page stepped on every access); slat_prune() frees them once it is not. */
civic_err slat_clear(struct slat *s, uint64_t gpa);
/* Frees the tables on gpa's path that are empty (gpa itself unmapped); nothing otherwise. */
void slat_prune(struct slat *s, uint64_t gpa);
bool slat_lookup(const struct slat *s, uint64_t gpa, uint64_t *hpa, unsigned *perms);
/* Reads and clears the entry's accessed and dirty bits in one atomic step. CIVIC_ENOENT if gpa
 * is not mapped. The caller must invalidate before trusting a page as clean or cold. */
civic_err slat_test_and_clear_ad(struct slat *s, uint64_t gpa, bool *accessed, bool *dirty);
/* The EPTP value for the VMCS (root, memory type WB, 4-level walk, A/D enable). */
uint64_t slat_root_pointer(const struct slat *s);
/* INVEPT single-context for this table (no-op in host tests). */
void slat_invalidate(struct slat *s);
uint64_t slat_table_pages(const struct slat *s);
