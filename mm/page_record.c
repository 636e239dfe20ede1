/*
 * The page-state machine (mm/page_record.h). Every transition checks its starting state and
 * changes nothing when it is wrong, so a caller's bug shows up as CIVIC_EINVAL instead of a lost
 * page. Every successful transition bumps the version: a copy of a page held elsewhere (a peer's
 * slot, a migration target) is current only if it carries the record's version.
 *
 * The flags (dirty, pinned) are not state: transitions leave them alone, the dirty-log harvest
 * and the loader own them.
 */
#include "mm/page_record.h"

_Static_assert(sizeof(struct page_record) == 16, "page records are 16 bytes per guest frame");

/* Host frame numbers fit in 52-bit physical addresses. */
#define PAGE_PFN_LIMIT (1ull << 40)

static bool in_state(const struct page_record *r, enum page_state s)
{
    return r && r->state == (uint8_t)s;
}

static void move(struct page_record *r, enum page_state to, uint64_t where)
{
    r->state = (uint8_t)to;
    r->where = where;
    r->version++;
}

civic_err page_touch(struct page_record *r, uint64_t host_pfn)
{
    if (!in_state(r, PAGE_ZERO) || host_pfn >= PAGE_PFN_LIMIT)
        return trace_error(CIVIC_EINVAL);
    move(r, PAGE_LOCAL, host_pfn);
    return CIVIC_OK;
}

civic_err page_release(struct page_record *r, uint64_t *host_pfn)
{
    if (!in_state(r, PAGE_LOCAL) || !host_pfn)
        return trace_error(CIVIC_EINVAL);
    *host_pfn = r->where;
    move(r, PAGE_ZERO, 0);
    return CIVIC_OK;
}

/* The caller keeps the frame while the page is in flight and frees it after evict_done. */
civic_err page_evict_begin(struct page_record *r, uint64_t *host_pfn)
{
    if (!in_state(r, PAGE_LOCAL) || !host_pfn)
        return trace_error(CIVIC_EINVAL);
    if (r->flags & PAGE_F_PINNED)
        return trace_error(CIVIC_EBUSY);
    *host_pfn = r->where;
    move(r, PAGE_IN_FLIGHT, 0);
    return CIVIC_OK;
}

civic_err page_evict_done(struct page_record *r, uint32_t peer, uint32_t slot)
{
    if (!in_state(r, PAGE_IN_FLIGHT))
        return trace_error(CIVIC_EINVAL);
    move(r, PAGE_REMOTE, (uint64_t)peer << 32 | slot);
    return CIVIC_OK;
}

/* The caller reads where (peer, slot) before it starts the fetch. */
civic_err page_fetch_begin(struct page_record *r)
{
    if (!in_state(r, PAGE_REMOTE))
        return trace_error(CIVIC_EINVAL);
    move(r, PAGE_IN_FLIGHT, 0);
    return CIVIC_OK;
}

civic_err page_fetch_done(struct page_record *r, uint64_t host_pfn)
{
    if (!in_state(r, PAGE_IN_FLIGHT) || host_pfn >= PAGE_PFN_LIMIT)
        return trace_error(CIVIC_EINVAL);
    move(r, PAGE_LOCAL, host_pfn);
    return CIVIC_OK;
}

const char *page_state_name(enum page_state s)
{
    switch (s) {
    case PAGE_ZERO: return "zero";
    case PAGE_LOCAL: return "local";
    case PAGE_REMOTE: return "remote";
    case PAGE_IN_FLIGHT: return "in-flight";
    }
    return "invalid";
}
