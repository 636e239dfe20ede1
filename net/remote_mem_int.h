/* Remote memory's internals, shared by its eviction side (remote_mem.c) and its fault side
 * (remote_fault.c). Not for other modules: they use net/remote_mem.h. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/vm.h"
#include "net/peer.h"
#include "net/remote_holders.h"

/* Copies on their way at a time, host-wide (each holds its frame until acknowledged), and pages
 * being fetched beyond which read-ahead waits: together below the 128 requests a store promises
 * to answer per owner without dropping any (net/store.h). */
#define RM_INFLIGHT_MAX 64u
#define RM_READAHEAD_INFLIGHT_MAX 48u
/* Eviction sends only while a holder's connection has at most this much queued beyond lwIP,
 * so that a page request waits behind little (issue 6: requests go ahead of evictions). */
#define RM_QUEUED_MAX 8192u
#define RM_PUT_BYTES (PEER_HDR_LEN + 24u + PEER_PAGE_SIZE)

struct rm_pending {
    bool used;
    uint32_t vm_id;
    uint32_t version;
    uint64_t gfn;
    uint32_t crc; /* of the copy sent: the record keeps it once the copy is acknowledged */
    uint8_t holder[2];
    uint8_t acked;    /* bit i: holder[i] stored the copy */
    uint8_t answered; /* bit i: holder[i] answered (or is gone) */
};

extern struct holder_table rm_holders;

struct peer *rm_holder_peer(uint8_t h);
struct vm *rm_vm_by_id(uint32_t id);
void rm_send_free(uint8_t h, uint32_t vm_id, uint64_t gfn, uint32_t version);
/* Makes every vCPU of vm that waits for a page that is now usable runnable again. */
void rm_wake(struct vm *vm);
/* Pauses a running VM with a reason (also logged), shown by `vm list` and `vm stats`. */
void rm_pause_vm(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* remote_fault.c */
void rm_on_data(struct peer *p, const struct peer_msg *m);
/* A holder went down: fetches from it are redirected or aborted. */
void rm_fault_holder_down(uint8_t h);
