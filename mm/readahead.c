/*
 * Adaptive read-ahead window (mm/readahead.h). Growth and shrinking are multiplicative so the
 * window reaches a streaming guest's pace in a few faults and backs off as fast when read-ahead
 * only fills memory that CLOCK then evicts again.
 */
#include "mm/readahead.h"

#include <stdbool.h>

void readahead_init(struct readahead *ra, uint32_t max_window)
{
    if (max_window == 0 || max_window > READAHEAD_MAX_WINDOW)
        max_window = READAHEAD_MAX_WINDOW;
    *ra = (struct readahead){
        .window = 1,
        .max_window = max_window,
        .next_up = READAHEAD_NONE,
        .next_down = READAHEAD_NONE,
    };
}

static void resize(struct readahead *ra, uint32_t window)
{
    if (window < 1)
        window = 1;
    if (window > ra->max_window)
        window = ra->max_window;
    ra->window = window;
    ra->hits_since = 0;
    ra->wasted_since = 0;
}

void readahead_on_fault(struct readahead *ra, uint64_t gfn, uint64_t frames, uint64_t *first,
                        uint64_t *count)
{
    *first = gfn;
    *count = 0;
    if (gfn >= frames)
        return;

    ra->stats.faults++;
    bool down = false;
    if (gfn == ra->next_up || gfn == ra->next_down) {
        down = gfn == ra->next_down;
        ra->stats.streams++;
        resize(ra, ra->window * 2);
    }

    uint64_t w = ra->window;
    if (down) {
        *count = gfn < w ? gfn : w;
        *first = gfn - *count;
        ra->next_down = *first > 0 ? *first - 1 : READAHEAD_NONE;
        ra->next_up = gfn + 1;
    } else {
        uint64_t room = frames - gfn - 1;
        *first = gfn + 1;
        *count = room < w ? room : w;
        ra->next_up = *first + *count;
        ra->next_down = gfn > 0 ? gfn - 1 : READAHEAD_NONE;
    }
    ra->stats.requested += *count;
}

void readahead_hit(struct readahead *ra)
{
    ra->stats.hits++;
    ra->hits_since++;
    if (ra->hits_since * 2 >= ra->window)
        resize(ra, ra->window * 2);
}

void readahead_wasted(struct readahead *ra, uint64_t n)
{
    if (n == 0)
        return;
    ra->stats.wasted += n;
    ra->wasted_since += n;
    if (ra->wasted_since * 2 >= ra->window)
        resize(ra, ra->window / 2);
}

void readahead_get_stats(const struct readahead *ra, struct readahead_stats *st)
{
    *st = ra->stats;
    st->window = ra->window;
}
