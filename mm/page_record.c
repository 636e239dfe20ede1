/*
 * The page-state machine (mm/page_record.h). Every transition checks its starting state and its
 * arguments before it writes anything, so a caller's bug shows up as CIVIC_EINVAL instead of a
 * lost page.
 *
 * The version counts copies, not moves: a copy held elsewhere is current only if it carries the
 * record's version, and only starting a new copy (evict_begin) makes older ones stale. Fetching a
 * page back leaves its holders' copy valid (COPY), so a page that stays clean can be evicted again
 * without being sent.
 */
#include "mm/page_record.h"

_Static_assert(sizeof(struct page_record) == 16, "page records are 16 bytes per guest frame");

#define PAGE_F_ALL (PAGE_F_DIRTY | PAGE_F_PINNED | PAGE_F_COPY | PAGE_F_PREFETCHED)
#define PAGE_F_LOCAL_ONLY (PAGE_F_DIRTY | PAGE_F_COPY | PAGE_F_PREFETCHED)

static bool in_state(const struct page_record *r, enum page_state s)
{
    return r && r->state == (uint8_t)s;
}

static bool holders_ok(uint8_t h0, uint8_t h1)
{
    return h0 != 0 && h1 != h0;
}

/* Removes holder slot i, promoting the replica when the primary goes. */
static void drop_holder(struct page_record *r, unsigned i)
{
    if (i == 0)
        r->holder[0] = r->holder[1];
    r->holder[1] = 0;
}

civic_err page_touch(struct page_record *r, uint64_t pfn)
{
    if (!in_state(r, PAGE_ZERO) || pfn >= PAGE_PFN_LIMIT)
        return trace_error(CIVIC_EINVAL);
    r->state = PAGE_LOCAL;
    r->where = pfn;
    r->flags &= PAGE_F_PINNED;
    r->holder[0] = r->holder[1] = 0;
    return CIVIC_OK;
}

civic_err page_release(struct page_record *r, uint64_t *pfn, uint8_t holders_out[2])
{
    if (!in_state(r, PAGE_LOCAL) || !pfn || !holders_out)
        return trace_error(CIVIC_EINVAL);
    *pfn = r->where;
    bool copy = r->flags & PAGE_F_COPY;
    holders_out[0] = copy ? r->holder[0] : 0;
    holders_out[1] = copy ? r->holder[1] : 0;
    r->state = PAGE_ZERO;
    r->where = 0;
    r->flags &= PAGE_F_PINNED;
    r->holder[0] = r->holder[1] = 0;
    return CIVIC_OK;
}

civic_err page_evict_begin(struct page_record *r, uint64_t *pfn, uint8_t holder0, uint8_t holder1)
{
    if (!in_state(r, PAGE_LOCAL) || !pfn || !holders_ok(holder0, holder1))
        return trace_error(CIVIC_EINVAL);
    if (r->flags & PAGE_F_PINNED)
        return trace_error(CIVIC_EBUSY);
    *pfn = r->where;
    r->state = PAGE_EVICTING;
    /* 0 means "never copied", so a wrapping version skips it. */
    r->version = r->version == UINT32_MAX ? 1 : r->version + 1;
    r->holder[0] = holder0;
    r->holder[1] = holder1;
    r->flags &= (uint8_t)~PAGE_F_LOCAL_ONLY;
    return CIVIC_OK;
}

civic_err page_evict_clean(struct page_record *r, uint64_t *pfn, uint32_t crc)
{
    if (!in_state(r, PAGE_LOCAL) || !pfn)
        return trace_error(CIVIC_EINVAL);
    if (r->flags & PAGE_F_PINNED)
        return trace_error(CIVIC_EBUSY);
    if ((r->flags & (PAGE_F_COPY | PAGE_F_DIRTY)) != PAGE_F_COPY || r->holder[0] == 0)
        return trace_error(CIVIC_EINVAL);
    *pfn = r->where;
    r->state = PAGE_REMOTE;
    r->where = crc;
    r->flags &= (uint8_t)~PAGE_F_LOCAL_ONLY;
    return CIVIC_OK;
}

civic_err page_evict_done(struct page_record *r, uint64_t *pfn, unsigned acked_mask,
                          uint32_t crc)
{
    if (!in_state(r, PAGE_EVICTING) || !pfn || acked_mask > 3)
        return trace_error(CIVIC_EINVAL);
    unsigned present = (r->holder[0] ? 1u : 0u) | (r->holder[1] ? 2u : 0u);
    if ((acked_mask & present) == 0)
        return trace_error(CIVIC_EINVAL);
    *pfn = r->where;
    if (!(acked_mask & 2))
        drop_holder(r, 1);
    if (!(acked_mask & 1))
        drop_holder(r, 0);
    r->state = PAGE_REMOTE;
    r->where = crc;
    return CIVIC_OK;
}

civic_err page_evict_abort(struct page_record *r)
{
    if (!in_state(r, PAGE_EVICTING))
        return trace_error(CIVIC_EINVAL);
    r->state = PAGE_LOCAL;
    r->holder[0] = r->holder[1] = 0;
    r->flags = (uint8_t)((r->flags & ~PAGE_F_LOCAL_ONLY) | PAGE_F_DIRTY);
    return CIVIC_OK;
}

civic_err page_fetch_begin(struct page_record *r)
{
    if (!in_state(r, PAGE_REMOTE))
        return trace_error(CIVIC_EINVAL);
    if (r->holder[0] == 0)
        return trace_error(CIVIC_EIO);
    r->state = PAGE_FETCHING;
    return CIVIC_OK;
}

civic_err page_fetch_done(struct page_record *r, uint64_t pfn, bool prefetched)
{
    if (!in_state(r, PAGE_FETCHING) || pfn >= PAGE_PFN_LIMIT)
        return trace_error(CIVIC_EINVAL);
    r->state = PAGE_LOCAL;
    r->where = pfn;
    r->flags &= (uint8_t)~PAGE_F_LOCAL_ONLY;
    /* Data that arrived after its last holder went has no copy behind it any more. */
    if (r->holder[0])
        r->flags |= PAGE_F_COPY;
    if (prefetched)
        r->flags |= PAGE_F_PREFETCHED;
    return CIVIC_OK;
}

civic_err page_fetch_abort(struct page_record *r)
{
    if (!in_state(r, PAGE_FETCHING))
        return trace_error(CIVIC_EINVAL);
    r->state = PAGE_REMOTE;
    return CIVIC_OK;
}

civic_err page_note_dirty(struct page_record *r)
{
    if (!in_state(r, PAGE_LOCAL))
        return trace_error(CIVIC_EINVAL);
    r->flags |= PAGE_F_DIRTY;
    return CIVIC_OK;
}

civic_err page_prefetch_used(struct page_record *r)
{
    if (!in_state(r, PAGE_LOCAL) || !(r->flags & PAGE_F_PREFETCHED))
        return trace_error(CIVIC_EINVAL);
    r->flags &= (uint8_t)~PAGE_F_PREFETCHED;
    return CIVIC_OK;
}

civic_err page_holder_lost(struct page_record *r, uint8_t h)
{
    if (!r || h == 0 || r->state >= PAGE_STATES)
        return trace_error(CIVIC_EINVAL);
    if (r->holder[0] == h)
        drop_holder(r, 0);
    else if (r->holder[1] == h)
        drop_holder(r, 1);
    else
        return CIVIC_ENOENT; /* the common case over a whole VM: not an error worth tracing */
    if (r->holder[0] != 0)
        return CIVIC_OK;
    if (r->state == PAGE_LOCAL) {
        r->flags &= (uint8_t)~PAGE_F_COPY;
        return CIVIC_OK;
    }
    return CIVIC_EIO;
}

bool page_is_lost(const struct page_record *r)
{
    return (in_state(r, PAGE_REMOTE) || in_state(r, PAGE_FETCHING)) && r->holder[0] == 0;
}

civic_err page_check(const struct page_record *r)
{
    if (!r)
        return trace_error(CIVIC_EINVAL);
    if (r->state >= PAGE_STATES || (r->flags & ~PAGE_F_ALL))
        return trace_error(CIVIC_ECORRUPT);
    if (r->holder[1] != 0 && (r->holder[0] == 0 || r->holder[1] == r->holder[0]))
        return trace_error(CIVIC_ECORRUPT);
    bool has_holder = r->holder[0] != 0;
    bool ok = true;
    switch ((enum page_state)r->state) {
    case PAGE_ZERO: ok = r->where == 0 && !has_holder && !(r->flags & ~PAGE_F_PINNED); break;
    case PAGE_LOCAL: {
        bool copy = r->flags & PAGE_F_COPY;
        /* A copy exists exactly when a holder is named, and was made at a version >= 1. */
        ok = r->where < PAGE_PFN_LIMIT && copy == has_holder && (!copy || r->version != 0);
        break;
    }
    case PAGE_EVICTING:
        ok = r->where < PAGE_PFN_LIMIT && has_holder && !(r->flags & PAGE_F_LOCAL_ONLY) &&
             r->version != 0;
        break;
    case PAGE_REMOTE:
    case PAGE_FETCHING: /* where: the copy's CRC-32C */
        ok = r->where <= UINT32_MAX && !(r->flags & PAGE_F_LOCAL_ONLY) && r->version != 0;
        break;
    }
    return ok ? CIVIC_OK : trace_error(CIVIC_ECORRUPT);
}

const char *page_state_name(enum page_state s)
{
    switch (s) {
    case PAGE_ZERO: return "zero";
    case PAGE_LOCAL: return "local";
    case PAGE_REMOTE: return "remote";
    case PAGE_EVICTING: return "evicting";
    case PAGE_FETCHING: return "fetching";
    }
    return "invalid";
}
