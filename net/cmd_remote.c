/*
 * `remote`: this host's side of network paging (net/remote_mem.h): the peers holding its pages,
 * what it borrows, and the NIC's frame counts (the paging benchmark's frames per page moved);
 * and the paging lines of `vm stats`.
 */
#include "drivers/e1000/e1000.h"
#include "kernel/console.h"
#include "kernel/shell.h"
#include "kernel/vm.h"
#include "kernel/vm_registry.h"
#include "mm/guest_mem.h"
#include "net/net_config.h"
#include "net/remote_mem.h"
#include "net/remote_mem_int.h"

static void kv(const char *key, uint64_t v)
{
    kprintf("%s=%llu\n", key, (unsigned long long)v);
}

void remote_mem_print_vm(struct vm *vm)
{
    static uint64_t scratch[LAT_STATS_WINDOW];
    struct guest_mem_stats gs;
    guest_mem_get_stats(vm->mem, &gs);
    const struct vm_paging *pg = &vm->paging;
    struct readahead_stats ra;
    readahead_get_stats(&pg->ra, &ra);
    struct lat_summary lat;
    lat_stats_summary(&pg->fault_lat, scratch, &lat);
    kv("limit_pages", pg->limit_pages);
    kv("over_limit", pg->over_limit);
    kv("replicas", pg->replicas);
    kv("readahead_off", pg->readahead_off);
    kv("local_pages", gs.local_pages);
    kv("remote_pages", gs.remote_pages);
    kv("zero_pages", gs.zero_pages);
    kv("evicting_pages", gs.evicting_pages);
    kv("fetching_pages", gs.fetching_pages);
    kv("lost_pages", gs.lost_pages);
    kv("evictions", gs.evict_sent);
    kv("evict_zero", gs.evict_zero);
    kv("evict_clean", gs.evict_clean);
    kv("evict_cancelled", pg->evict_cancelled);
    kv("put_refused", pg->put_refused);
    kv("pages_out", pg->pages_out);
    kv("pages_in", pg->pages_in);
    kv("remote_faults", pg->remote_faults);
    kv("frame_waits", pg->frame_waits);
    kv("readahead_pages", pg->readahead_pages);
    /* Read-ahead pages the guest touched after they arrived, plus faults on a page already on
     * its way (the request went out before the guest needed it). */
    kv("readahead_hits", gs.prefetch_used + pg->inflight_hits);
    kv("readahead_wasted", gs.prefetch_wasted);
    kv("readahead_window", ra.window);
    kv("checksum_errors", pg->checksum_errors);
    kv("fault_samples", lat.count);
    kv("fault_ns_min", lat.min);
    kv("fault_ns_median", lat.median);
    kv("fault_ns_p99", lat.p99);
    kv("fault_ns_max", lat.max);
}

void remote_mem_print_holders(void)
{
    for (uint8_t h = 1; h <= HOLDERS_MAX; h++) {
        const struct holder *x = &rm_holders.h[h];
        if (!x->host_id)
            continue;
        char ip[NET_IPV4_STR_MAX];
        net_format_ipv4(x->ip, ip);
        uint64_t pages = 0;
        for (size_t i = 0; vm_at(i); i++)
            if (vm_at(i)->mem)
                pages += guest_mem_pages_on_holder(vm_at(i)->mem, h);
        kprintf("holder=%u id=0x%llx ip=%s state=%s pages=%llu puts=%llu acks=%llu refused=%llu "
                "gets=%llu data=%llu bad=%llu\n",
                h, (unsigned long long)x->host_id, ip,
                x->serial ? "up" : (x->lost ? "lost" : "down"), (unsigned long long)pages,
                (unsigned long long)x->puts, (unsigned long long)x->acks,
                (unsigned long long)x->refused, (unsigned long long)x->gets,
                (unsigned long long)x->data, (unsigned long long)x->bad);
    }
}

static civic_err cmd_remote(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return shell_usage_error("remote", "takes no arguments");
    struct remote_mem_host_stats st;
    remote_mem_get_host_stats(&st);
    kv("holders_up", st.holders_up);
    kv("borrowed_pages", st.borrowed_pages);
    kv("inflight_puts", st.inflight_puts);
    kv("stale_acks", st.stale_acks);
    struct e1000 *nic = e1000_get();
    struct e1000_stats ns = {0};
    if (nic)
        e1000_get_stats(nic, &ns);
    kv("tx_frames", ns.tx_packets);
    kv("rx_frames", ns.rx_packets);
    remote_mem_print_holders();
    return CIVIC_OK;
}
SHELL_COMMAND(remote, "remote", "", "network paging: the peers holding this host's pages",
              cmd_remote);
