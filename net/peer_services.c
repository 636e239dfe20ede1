/*
 * The peer layer's services and watchers (net/peer.h): which service handles a message type, and
 * who hears of connections coming and going. Run from the peer layer only, in the monitor loop.
 */
#include "net/peer_services.h"

#include "kernel/log.h"

#define PEER_SERVICES_MAX 16 /* bench, the page store and remote memory use 6; migration will add its own */

struct service {
    uint16_t first, last;
    peer_service_fn fn;
};

static struct service services[PEER_SERVICES_MAX];
static peer_watch_fn watchers[PEER_WATCHERS_MAX];

civic_err peer_register_service(uint16_t first, uint16_t last, peer_service_fn fn)
{
    if (first > last || !fn)
        return trace_error(CIVIC_EINVAL);
    for (size_t i = 0; i < PEER_SERVICES_MAX; i++) {
        struct service *s = &services[i];
        if (s->fn && !(last < s->first || first > s->last))
            return trace_error(CIVIC_EEXIST);
    }
    for (size_t i = 0; i < PEER_SERVICES_MAX; i++) {
        if (!services[i].fn) {
            services[i] = (struct service){first, last, fn};
            return CIVIC_OK;
        }
    }
    return trace_error(CIVIC_ENOMEM);
}

civic_err peer_register_watcher(peer_watch_fn fn)
{
    for (size_t i = 0; i < PEER_WATCHERS_MAX; i++) {
        if (!watchers[i]) {
            watchers[i] = fn;
            return CIVIC_OK;
        }
    }
    return trace_error(CIVIC_ENOMEM);
}

void peer_services_announce(enum peer_event ev, const struct peer_info *info, bool lost)
{
    for (size_t i = 0; i < PEER_WATCHERS_MAX; i++)
        if (watchers[i])
            watchers[i](ev, info, lost);
}

void peer_services_dispatch(struct peer *p, const struct peer_msg *m)
{
    for (size_t i = 0; i < PEER_SERVICES_MAX; i++) {
        struct service *s = &services[i];
        if (s->fn && m->type >= s->first && m->type <= s->last) {
            s->fn(p, m);
            return;
        }
    }
    /* The capability was accepted but no service is linked in: nothing to act on. */
    log_warn("peer: no service for %s (0x%04x); ignored", peer_type_name(m->type), m->type);
}
