/* The peer layer's service table and connection watchers (net/peer_services.c): internal to
 * the peer layer (net/peer.c); services register through net/peer.h. */
#pragma once
#include <stdbool.h>

#include "net/peer.h"

/* Hands a delivered message to the service registered for its type (or logs that none is). */
void peer_services_dispatch(struct peer *p, const struct peer_msg *m);
/* Tells every watcher that a connection came up or went down. */
void peer_services_announce(enum peer_event ev, const struct peer_info *info, bool lost);
