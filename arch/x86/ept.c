/*
 * EPT: the arch side of kernel/arch_slat.h. 4-level tables of 4 KiB pages only, every table page
 * from the caller's frame source, so everything here except the INVEPT helper is pure and runs in
 * host unit tests. Entries are read and written with atomic builtins because the CPU sets the
 * accessed and dirty bits in them concurrently while a guest runs.
 *
 * Table pages are kept until slat_destroy(), even when their last entry is unmapped: freeing
 * them would need an INVEPT first (the CPU caches paging structures), and guests refill the
 * same regions anyway.
 */
#include "kernel/arch_slat.h"

#include <stddef.h>

#include "arch/x86/ept.h"

#ifndef CIVIC_HOST_TEST
#include "kernel/log.h"
#endif

struct slat {
    struct slat_frame_source src;
    uint64_t *root; /* PML4, through the source's mapping */
    uint64_t root_phys;
    uint64_t self_phys; /* the frame this structure lives in */
    uint64_t table_pages;
    bool accessed_dirty;
};

_Static_assert(sizeof(struct slat) <= 4096, "struct slat lives in one frame");

#define EPT_LEAF_MEMTYPE (EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT)

static inline uint64_t entry_load(const uint64_t *e)
{
    return __atomic_load_n(e, __ATOMIC_ACQUIRE);
}

static inline void entry_store(uint64_t *e, uint64_t v)
{
    __atomic_store_n(e, v, __ATOMIC_RELEASE);
}

static inline bool entry_present(uint64_t v)
{
    return (v & EPT_RWX) != 0;
}

static uint64_t *table_at(const struct slat *s, uint64_t entry)
{
    return s->src.phys_to_virt(s->src.ctx, entry & EPT_ADDR_MASK);
}

/*
 * The PT entry for gpa, creating the tables on the way when create is set. NULL with *err set
 * when a table is missing (ENOENT), cannot be allocated (ENOMEM; tables made so far stay, they
 * are valid and empty) or a large page covers gpa (EEXIST; civic never creates those).
 */
static uint64_t *walk(struct slat *s, uint64_t gpa, bool create, civic_err *err)
{
    static const unsigned shifts[EPT_LEVELS - 1] = {EPT_PML4_SHIFT, EPT_PDPT_SHIFT, EPT_PD_SHIFT};
    uint64_t *table = s->root;

    for (unsigned i = 0; i < EPT_LEVELS - 1; i++) {
        uint64_t *e = &table[EPT_INDEX(gpa, shifts[i])];
        uint64_t v = entry_load(e);
        if (!entry_present(v)) {
            if (!create) {
                *err = CIVIC_ENOENT;
                return NULL;
            }
            uint64_t phys;
            uint64_t *next = s->src.alloc(s->src.ctx, &phys);
            if (!next) {
                *err = trace_error(CIVIC_ENOMEM);
                return NULL;
            }
            s->table_pages++;
            /* Non-leaf entries allow everything: the leaf alone decides the access rights. */
            entry_store(e, (phys & EPT_ADDR_MASK) | EPT_RWX);
            table = next;
            continue;
        }
        if (v & EPT_PAGE_SIZE) {
            *err = trace_error(CIVIC_EEXIST);
            return NULL;
        }
        table = table_at(s, v);
    }
    return &table[EPT_INDEX(gpa, EPT_PT_SHIFT)];
}

static bool gpa_in_range(uint64_t gpa)
{
    return gpa < (1ull << EPT_GPA_BITS);
}

civic_err slat_create(struct slat **out, const struct slat_frame_source *src,
                      const struct slat_caps *caps)
{
    if (!out || !src || !src->alloc || !src->free || !src->phys_to_virt)
        return trace_error(CIVIC_EINVAL);

    uint64_t self_phys, root_phys;
    struct slat *s = src->alloc(src->ctx, &self_phys);
    if (!s)
        return trace_error(CIVIC_ENOMEM);
    uint64_t *root = src->alloc(src->ctx, &root_phys);
    if (!root) {
        src->free(src->ctx, self_phys);
        return trace_error(CIVIC_ENOMEM);
    }
    s->src = *src;
    s->root = root;
    s->root_phys = root_phys;
    s->self_phys = self_phys;
    s->table_pages = 1;
    s->accessed_dirty = caps && caps->accessed_dirty;
    *out = s;
    return CIVIC_OK;
}

/* Frees the table at phys and, below the PT level, every table it points to. */
static void free_table(struct slat *s, uint64_t *table, uint64_t phys, unsigned level)
{
    if (level > 1) {
        for (unsigned i = 0; i < EPT_ENTRIES; i++) {
            uint64_t v = entry_load(&table[i]);
            if (entry_present(v) && !(v & EPT_PAGE_SIZE))
                free_table(s, table_at(s, v), v & EPT_ADDR_MASK, level - 1);
        }
    }
    s->src.free(s->src.ctx, phys);
}

void slat_destroy(struct slat *s)
{
    if (!s)
        return;
    free_table(s, s->root, s->root_phys, EPT_LEVELS);
    struct slat_frame_source src = s->src;
    src.free(src.ctx, s->self_phys);
}

civic_err slat_map(struct slat *s, uint64_t gpa, uint64_t hpa, unsigned perms)
{
    if (!gpa_in_range(gpa))
        return trace_error(CIVIC_ERANGE);
    /* Write without read is an EPT misconfiguration; execute-only needs a capability we do
     * not check, so it is refused too. */
    if ((gpa | hpa) & 0xfff || hpa & ~EPT_ADDR_MASK || (perms & ~(unsigned)SLAT_RWX) ||
        !(perms & SLAT_R))
        return trace_error(CIVIC_EINVAL);

    civic_err err = CIVIC_OK;
    uint64_t *e = walk(s, gpa, true, &err);
    if (!e)
        return err;
    if (entry_present(entry_load(e)))
        return trace_error(CIVIC_EEXIST);
    /* Write-back, the guest's PAT honoured (IPAT clear): the combination is what the guest
     * asked for, as on bare metal. */
    entry_store(e, hpa | EPT_LEAF_MEMTYPE | (perms & EPT_RWX));
    return CIVIC_OK;
}

static bool table_empty(const uint64_t *table)
{
    for (unsigned i = 0; i < EPT_ENTRIES; i++)
        if (entry_present(entry_load(&table[i])))
            return false;
    return true;
}

/* The entries on gpa's path: path[i] is the entry at level i (0 = PML4) pointing to the next
 * table, path[EPT_LEVELS - 1] the leaf. CIVIC_ENOENT when a table on the way is missing. */
static civic_err walk_path(struct slat *s, uint64_t gpa, uint64_t *path[EPT_LEVELS])
{
    static const unsigned shifts[EPT_LEVELS - 1] = {EPT_PML4_SHIFT, EPT_PDPT_SHIFT, EPT_PD_SHIFT};
    if (!gpa_in_range(gpa))
        return trace_error(CIVIC_ERANGE);
    uint64_t *table = s->root;
    for (unsigned i = 0; i < EPT_LEVELS - 1; i++) {
        path[i] = &table[EPT_INDEX(gpa, shifts[i])];
        uint64_t v = entry_load(path[i]);
        if (!entry_present(v))
            return CIVIC_ENOENT;
        if (v & EPT_PAGE_SIZE)
            return trace_error(CIVIC_EEXIST);
        table = table_at(s, v);
    }
    path[EPT_LEVELS - 1] = &table[EPT_INDEX(gpa, EPT_PT_SHIFT)];
    return CIVIC_OK;
}

/* Frees the PT, PD and PDPT on the path that are empty (never the PML4). */
static void prune_path(struct slat *s, uint64_t *path[EPT_LEVELS])
{
    for (unsigned i = EPT_LEVELS - 1; i > 0; i--) {
        uint64_t parent = entry_load(path[i - 1]);
        uint64_t *child = table_at(s, parent);
        if (!table_empty(child))
            break;
        entry_store(path[i - 1], 0);
        s->src.free(s->src.ctx, parent & EPT_ADDR_MASK);
        s->table_pages--;
    }
}

civic_err slat_clear(struct slat *s, uint64_t gpa)
{
    uint64_t *path[EPT_LEVELS];
    civic_err e = walk_path(s, gpa, path);
    if (e != CIVIC_OK)
        return e;
    uint64_t old = __atomic_exchange_n(path[EPT_LEVELS - 1], 0, __ATOMIC_ACQ_REL);
    return entry_present(old) ? CIVIC_OK : CIVIC_ENOENT;
}

/* Frees the tables a removal leaves empty: otherwise a guest touching ever new regions (outside
 * its RAM, say) would grow the tables for good. */
civic_err slat_unmap(struct slat *s, uint64_t gpa)
{
    uint64_t *path[EPT_LEVELS];
    civic_err e = walk_path(s, gpa, path);
    if (e != CIVIC_OK)
        return e;
    uint64_t old = __atomic_exchange_n(path[EPT_LEVELS - 1], 0, __ATOMIC_ACQ_REL);
    if (!entry_present(old))
        return CIVIC_ENOENT;
    prune_path(s, path);
    return CIVIC_OK;
}

void slat_prune(struct slat *s, uint64_t gpa)
{
    uint64_t *path[EPT_LEVELS];
    if (walk_path(s, gpa, path) == CIVIC_OK && !entry_present(entry_load(path[EPT_LEVELS - 1])))
        prune_path(s, path);
}

bool slat_lookup(const struct slat *s, uint64_t gpa, uint64_t *hpa, unsigned *perms)
{
    if (!gpa_in_range(gpa))
        return false;
    civic_err err = CIVIC_OK;
    /* walk() only allocates when asked to; the cast does not let it modify anything here. */
    uint64_t *e = walk((struct slat *)s, gpa, false, &err);
    if (!e)
        return false;
    uint64_t v = entry_load(e);
    if (!entry_present(v))
        return false;
    if (hpa)
        *hpa = v & EPT_ADDR_MASK;
    if (perms)
        *perms = (unsigned)(v & EPT_RWX);
    return true;
}

civic_err slat_test_and_clear_ad(struct slat *s, uint64_t gpa, bool *accessed, bool *dirty)
{
    if (!gpa_in_range(gpa))
        return trace_error(CIVIC_ERANGE);
    civic_err err = CIVIC_OK;
    uint64_t *e = walk(s, gpa, false, &err);
    if (!e || !entry_present(entry_load(e)))
        return CIVIC_ENOENT;
    /* One locked AND: a D bit the CPU sets after this point stays set for the next round. */
    uint64_t old = __atomic_fetch_and(e, ~(EPT_ACCESSED | EPT_DIRTY), __ATOMIC_SEQ_CST);
    if (accessed)
        *accessed = (old & EPT_ACCESSED) != 0;
    if (dirty)
        *dirty = (old & EPT_DIRTY) != 0;
    return CIVIC_OK;
}

uint64_t slat_root_pointer(const struct slat *s)
{
    uint64_t eptp = (s->root_phys & EPTP_ADDR_MASK) | (EPT_MEMTYPE_WB << EPTP_MEMTYPE_SHIFT) |
                    ((uint64_t)(EPT_LEVELS - 1) << EPTP_WALK_LENGTH_SHIFT);
    if (s->accessed_dirty)
        eptp |= EPTP_AD_ENABLE;
    return eptp;
}

uint64_t slat_table_pages(const struct slat *s)
{
    return s->table_pages;
}

#ifdef CIVIC_HOST_TEST
void slat_invalidate(struct slat *s)
{
    (void)s;
}
#else
struct invept_descriptor {
    uint64_t eptp;
    uint64_t reserved; /* must be zero */
};

/* INVEPT; false on VMfail (CF or ZF set), e.g. a type this CPU does not support. Only valid
 * with VMX on: the callers run guests, so it is. */
static bool invept(uint64_t type, const struct invept_descriptor *desc)
{
    bool failed;
    __asm__ volatile("invept %1, %2\n\tsetna %0"
                     : "=qm"(failed)
                     : "m"(*desc), "r"(type)
                     : "cc", "memory");
    return !failed;
}

void slat_invalidate(struct slat *s)
{
    struct invept_descriptor desc = {.eptp = slat_root_pointer(s), .reserved = 0};
    if (invept(INVEPT_SINGLE_CONTEXT, &desc))
        return;
    /* Single-context is optional (IA32_VMX_EPT_VPID_CAP bit 25); all-context is a superset. */
    if (!invept(INVEPT_ALL_CONTEXT, &desc))
        log_err("ept: INVEPT failed for EPTP %#llx", (unsigned long long)desc.eptp);
}
#endif
