/*
 * Remote memory, the client side of network paging: this host's VMs keep only their local limit
 * of guest frames; cold frames are copied to peer hosts' page stores (net/store.h) and faulted
 * back when the guest touches them. Every page move is a transition of the page-state machine
 * (mm/page_record.h) done through guest memory (mm/guest_mem.h); this module decides when, and
 * talks to the peers (PAGE_* messages, docs/protocol.md).
 *
 *  - Eviction runs from the monitor loop: a VM above its limit (or any VM while host frames run
 *    low) has cold frames chosen by its CLOCK hand, zero pages dropped, clean pages with a valid
 *    copy unmapped, and the rest sent to one holder (two with replicas=2); a frame is freed only
 *    once a holder acknowledged its copy. A refused copy leaves the page local: never dropped.
 *  - A fault on a remote page parks the vCPU, requests the page (and an adaptive read-ahead
 *    window of remote neighbours) and resumes the vCPU once the page is installed; other vCPUs,
 *    VMs and the shell run meanwhile. Eviction keeps the connection's queue short so that the
 *    request waits behind little.
 *  - A page is checked against its CRC-32C on arrival. A damaged page, or a page whose holders
 *    are all gone, pauses the VM with a message: no guest is ever given wrong data.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"
#include "kernel/vmm.h"

struct vm;
struct vcpu;

/* Sets up a VM's paging state at creation: local_bytes 0 means no limit; replicas 1 or 2. */
civic_err remote_mem_vm_init(struct vm *vm, uint64_t local_bytes, unsigned replicas, char *err,
                             size_t err_size);
/* Guest memory was (re)built (creation, reset): the VM gets a new id for its pages on peers. */
void remote_mem_vm_built(struct vm *vm);
/* The VM's guest memory is about to be torn down (destroy, reset): its pages on peers are freed
 * and its outstanding messages forgotten. */
void remote_mem_vm_gone(struct vm *vm);
/* `vm limit`: the new local limit; a smaller one is reached by eviction in the background. */
civic_err remote_mem_set_limit(struct vm *vm, uint64_t local_bytes, char *err, size_t err_size);

/* guest_mem_fault said CIVIC_EAGAIN (the page is elsewhere, or the VM is at its limit) or
 * CIVIC_ENOMEM (host frames are short) for gpa: fetch, cancel, wait or stop. */
enum exit_action remote_mem_fault(struct vcpu *v, uint64_t gpa, civic_err why);

struct remote_mem_host_stats {
    uint64_t holders_up;
    uint64_t borrowed_pages; /* this host's pages held by peers (every VM) */
    uint64_t inflight_puts;
    uint64_t stale_acks, stale_data, unknown_vm;
};
void remote_mem_get_host_stats(struct remote_mem_host_stats *st);
/* Prints one line per holder (for `remote`). */
void remote_mem_print_holders(void);
/* The VM's paging facts as key=value lines (for `vm stats`). */
void remote_mem_print_vm(struct vm *vm);
