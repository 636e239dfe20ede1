/*
 * Inside the peer protocol's codec: what net/peer_msg.c (framing, the decoder) asks of
 * net/peer_msg_page.c (the PAGE_* payloads). Not for services: they use net/peer_msg.h.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "net/peer_msg.h"

/* The defined PAGE_* types (not the whole range: 0x0206-0x02ff are unassigned). */
static inline bool peer_type_is_page(uint16_t type)
{
    return type >= PEER_T_PAGE_PUT && type <= PEER_T_PAGE_FREE_VM;
}

const char *peer_page_type_name(uint16_t type); /* "?" for anything else */
int peer_page_payload_len(uint16_t type);       /* -1 for anything else */

/* peer_msg_check for a PAGE_* message. */
enum peer_err peer_page_check(const struct peer_msg *m);

/* Writes m's payload at p (peer_payload_len bytes, already zeroed); m passed peer_page_check. */
void peer_page_encode(const struct peer_msg *m, uint8_t *p);

/* Fills m->page from the payload at p (m zeroed, its length checked). Returns NULL, or what is
 * wrong with the encoding (a reserved field set); the fields are checked by peer_page_check. */
const char *peer_page_parse(const uint8_t *p, struct peer_msg *m);
