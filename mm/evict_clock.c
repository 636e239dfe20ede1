/*
 * CLOCK over a VM's page records (mm/evict_clock.h). The hand persists between calls so that
 * successive calls sweep the whole VM evenly instead of re-examining its first frames.
 */
#include "mm/evict_clock.h"

void evict_clock_init(struct evict_clock *c, uint64_t frames)
{
    c->frames = frames;
    c->hand = 0;
    c->stats = (struct evict_clock_stats){0};
}

/* Visits frame gfn. Returns true if it is a victim; *dirty then says whether to resend it. */
static bool visit(struct evict_clock *c, const struct evict_clock_ops *ops, void *ctx, uint64_t gfn,
                  bool *dirty, bool *need_invalidate)
{
    uint8_t flags = 0;
    if (ops->state(ctx, gfn, &flags) != PAGE_LOCAL || (flags & PAGE_F_PINNED))
        return false;

    bool a = false, d = false;
    civic_err e = ops->test_and_clear_ad(ctx, gfn, &a, &d);
    if (e == CIVIC_ENOENT)
        a = d = false;
    else if (e != CIVIC_OK)
        return false;

    if (a || d)
        *need_invalidate = true;
    if (d)
        ops->note_dirty(ctx, gfn); /* the record keeps it whatever happens to the page next */
    if (a) {
        c->stats.second_chances++;
        return false;
    }
    *dirty = d || (flags & PAGE_F_DIRTY);
    return true;
}

size_t evict_clock_select(struct evict_clock *c, const struct evict_clock_ops *ops, void *ctx,
                          struct evict_victim *victims, size_t want, size_t max_scan,
                          bool *need_invalidate)
{
    *need_invalidate = false;
    if (c->frames == 0 || want == 0)
        return 0;
    uint64_t budget = max_scan < c->frames ? max_scan : c->frames;

    size_t n = 0;
    for (uint64_t i = 0; i < budget && n < want; i++) {
        uint64_t gfn = c->hand;
        c->hand = gfn + 1 == c->frames ? 0 : gfn + 1;
        c->stats.scanned++;
        bool dirty = false;
        if (visit(c, ops, ctx, gfn, &dirty, need_invalidate)) {
            victims[n].gfn = gfn;
            victims[n].dirty = dirty;
            n++;
            c->stats.chosen++;
            if (dirty)
                c->stats.dirty_chosen++;
        }
    }
    return n;
}

void evict_clock_get_stats(const struct evict_clock *c, struct evict_clock_stats *st)
{
    *st = c->stats;
}
