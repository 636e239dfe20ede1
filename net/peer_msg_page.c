/*
 * The PAGE_* messages of the peer protocol (docs/protocol.md, "Remote memory: PAGE_*"): their
 * payloads, checks and names. The framing and the single decoder entry point stay in
 * net/peer_msg.c, which calls in here through net/peer_msg_int.h.
 *
 * The CRC is deliberately not checked here: it is end to end, so the receiver that keeps or uses
 * the page (the store on PUT, the owner on DATA) checks it, and a corrupt page is answered
 * (PEER_PAGE_CORRUPT) instead of killing the connection.
 */
#include "net/peer_msg_int.h"

#include "kernel/string.h"
#include "net/peer_wire.h"

/* Payload layouts. Every PAGE_* type but FREE_VM starts with the page's key. */
#define PG_VM 0
#define PG_VERSION 4
#define PG_GFN 8
#define PG_KEY_LEN 16 /* GET, FREE */
#define PUT_CRC 16
#define PUT_RESERVED 20
#define PUT_DATA 24
#define PUT_LEN (24 + PEER_PAGE_SIZE)
#define ACK_STATUS 16
#define ACK_RESERVED 20
#define ACK_LEN 24
#define DATA_STATUS 16
#define DATA_CRC 20
#define DATA_DATA 24
#define DATA_LEN (24 + PEER_PAGE_SIZE)
#define FVM_VM 0
#define FVM_RESERVED 4
#define FVM_LEN 8

_Static_assert(PEER_HDR_LEN + PUT_LEN <= PEER_MSG_MAX, "PAGE_PUT fits a message");
_Static_assert(PEER_HDR_LEN + DATA_LEN <= PEER_MSG_MAX, "PAGE_DATA fits a message");

const char *peer_page_status_name(uint32_t status)
{
    switch (status) {
    case PEER_PAGE_OK: return "OK";
    case PEER_PAGE_FULL: return "FULL";
    case PEER_PAGE_CORRUPT: return "CORRUPT";
    case PEER_PAGE_ABSENT: return "ABSENT";
    case PEER_PAGE_STALE: return "STALE";
    }
    return "?";
}

const char *peer_page_type_name(uint16_t type)
{
    switch (type) {
    case PEER_T_PAGE_PUT: return "PAGE_PUT";
    case PEER_T_PAGE_PUT_ACK: return "PAGE_PUT_ACK";
    case PEER_T_PAGE_GET: return "PAGE_GET";
    case PEER_T_PAGE_DATA: return "PAGE_DATA";
    case PEER_T_PAGE_FREE: return "PAGE_FREE";
    case PEER_T_PAGE_FREE_VM: return "PAGE_FREE_VM";
    }
    return "?";
}

int peer_page_payload_len(uint16_t type)
{
    switch (type) {
    case PEER_T_PAGE_PUT: return PUT_LEN;
    case PEER_T_PAGE_PUT_ACK: return ACK_LEN;
    case PEER_T_PAGE_GET:
    case PEER_T_PAGE_FREE: return PG_KEY_LEN;
    case PEER_T_PAGE_DATA: return DATA_LEN;
    case PEER_T_PAGE_FREE_VM: return FVM_LEN;
    }
    return -1;
}

enum peer_err peer_page_check(const struct peer_msg *m)
{
    const struct peer_page *pg = &m->page;

    if (m->type == PEER_T_PAGE_FREE_VM)
        return PEER_E_NONE; /* any vm, PEER_VM_ALL included */
    if (pg->vm == PEER_VM_ALL || pg->gfn >= PEER_PAGE_GFN_LIMIT)
        return PEER_E_FIELD;
    switch (m->type) {
    case PEER_T_PAGE_PUT: return pg->data ? PEER_E_NONE : PEER_E_FIELD;
    case PEER_T_PAGE_PUT_ACK:
        return pg->status < PEER_PAGE_STATUS_COUNT ? PEER_E_NONE : PEER_E_FIELD;
    case PEER_T_PAGE_DATA:
        if (pg->status >= PEER_PAGE_STATUS_COUNT)
            return PEER_E_FIELD;
        if (pg->status == PEER_PAGE_OK)
            return pg->data ? PEER_E_NONE : PEER_E_FIELD;
        return pg->crc == 0 ? PEER_E_NONE : PEER_E_FIELD;
    }
    return PEER_E_NONE;
}

static void put_key(uint8_t *p, const struct peer_page *pg)
{
    wire_put32(p + PG_VM, pg->vm);
    wire_put32(p + PG_VERSION, pg->version);
    wire_put64(p + PG_GFN, pg->gfn);
}

void peer_page_encode(const struct peer_msg *m, uint8_t *p)
{
    const struct peer_page *pg = &m->page;

    switch (m->type) {
    case PEER_T_PAGE_PUT:
        put_key(p, pg);
        wire_put32(p + PUT_CRC, pg->crc);
        memcpy(p + PUT_DATA, pg->data, PEER_PAGE_SIZE);
        break;
    case PEER_T_PAGE_PUT_ACK:
        put_key(p, pg);
        wire_put32(p + ACK_STATUS, pg->status);
        break;
    case PEER_T_PAGE_GET:
    case PEER_T_PAGE_FREE: put_key(p, pg); break;
    case PEER_T_PAGE_DATA:
        put_key(p, pg);
        wire_put32(p + DATA_STATUS, pg->status);
        wire_put32(p + DATA_CRC, pg->crc);
        if (pg->data) /* else a refusal: zeros */
            memcpy(p + DATA_DATA, pg->data, PEER_PAGE_SIZE);
        break;
    case PEER_T_PAGE_FREE_VM: wire_put32(p + FVM_VM, pg->vm); break;
    }
}

static void get_key(const uint8_t *p, struct peer_page *pg)
{
    pg->vm = wire_get32(p + PG_VM);
    pg->version = wire_get32(p + PG_VERSION);
    pg->gfn = wire_get64(p + PG_GFN);
}

const char *peer_page_parse(const uint8_t *p, struct peer_msg *m)
{
    struct peer_page *pg = &m->page;

    switch (m->type) {
    case PEER_T_PAGE_PUT:
        get_key(p, pg);
        pg->crc = wire_get32(p + PUT_CRC);
        pg->data = p + PUT_DATA;
        if (wire_get32(p + PUT_RESERVED))
            return "reserved field set";
        break;
    case PEER_T_PAGE_PUT_ACK:
        get_key(p, pg);
        pg->status = wire_get32(p + ACK_STATUS);
        if (wire_get32(p + ACK_RESERVED))
            return "reserved field set";
        break;
    case PEER_T_PAGE_GET:
    case PEER_T_PAGE_FREE: get_key(p, pg); break;
    case PEER_T_PAGE_DATA:
        get_key(p, pg);
        pg->status = wire_get32(p + DATA_STATUS);
        pg->crc = wire_get32(p + DATA_CRC);
        /* Even for a refusal, so that the message re-encodes to the bytes received. */
        pg->data = p + DATA_DATA;
        break;
    case PEER_T_PAGE_FREE_VM:
        pg->vm = wire_get32(p + FVM_VM);
        if (wire_get32(p + FVM_RESERVED))
            return "reserved field set";
        break;
    }
    return NULL;
}

civic_err peer_encode_page(struct peer_tx *tx, uint16_t type, const struct peer_page *pg,
                           uint8_t *buf, size_t cap, size_t *len)
{
    if (!peer_type_is_page(type))
        return trace_error(CIVIC_EINVAL);
    struct peer_msg m = {.type = type, .page = *pg};
    return peer_tx_encode(tx, &m, buf, cap, len);
}
