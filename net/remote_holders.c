/* The holder table (net/remote_holders.h). */
#include "net/remote_holders.h"

#include "kernel/string.h"

void holders_init(struct holder_table *t)
{
    memset(t, 0, sizeof *t);
}

uint8_t holders_find(const struct holder_table *t, uint64_t host_id)
{
    if (!host_id)
        return 0;
    for (uint8_t i = 1; i <= HOLDERS_MAX; i++)
        if (t->h[i].host_id == host_id)
            return i;
    return 0;
}

uint8_t holders_up(struct holder_table *t, uint64_t host_id, uint32_t ip, uint32_t serial)
{
    if (!host_id || !serial)
        return 0;
    uint8_t i = holders_find(t, host_id);
    for (uint8_t k = 1; !i && k <= HOLDERS_MAX; k++)
        if (!t->h[k].host_id)
            i = k;
    if (!i)
        return 0;
    struct holder *h = &t->h[i];
    h->host_id = host_id;
    h->ip = ip;
    h->serial = serial;
    h->lost = false;
    h->full_until_ns = 0;
    return i;
}

uint8_t holders_down(struct holder_table *t, uint64_t host_id, uint32_t serial, bool lost)
{
    uint8_t i = holders_find(t, host_id);
    if (!i || t->h[i].serial != serial || !serial)
        return 0;
    t->h[i].serial = 0;
    t->h[i].lost = lost;
    return i;
}

void holders_full(struct holder_table *t, uint8_t i, uint64_t now_ns)
{
    if (i >= 1 && i <= HOLDERS_MAX)
        t->h[i].full_until_ns = now_ns + HOLDER_FULL_BACKOFF_NS;
}

uint8_t holders_pick(struct holder_table *t, uint64_t now_ns, uint8_t exclude,
                     holder_usable_fn usable, void *ctx)
{
    for (uint32_t n = 0; n < HOLDERS_MAX; n++) {
        uint8_t i = (uint8_t)(1 + (t->cursor + n) % HOLDERS_MAX);
        const struct holder *h = &t->h[i];
        if (i == exclude || !holder_is_up(t, i) || now_ns < h->full_until_ns)
            continue;
        if (usable && !usable(ctx, i))
            continue;
        t->cursor = i; /* the next pick starts after this one */
        return i;
    }
    return 0;
}
