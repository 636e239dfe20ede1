/* The `mem` shell command: frames and heap, one key=value line per fact. */
#include "kernel/console.h"
#include "kernel/shell.h"
#include "mm/kmalloc.h"
#include "mm/pmm.h"
#include "net/remote_mem.h"
#include "net/store.h"

static civic_err cmd_mem(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("mem", "takes no arguments");
    struct frame_stats fs;
    struct heap_stats hs;
    pmm_get_stats(&fs);
    kmalloc_get_stats(&hs);
    unsigned long long kib = PAGE_SIZE / 1024;
    kprintf("total_frames=%llu\nfree_frames=%llu\nused_frames=%llu\n",
            (unsigned long long)fs.total, (unsigned long long)fs.free,
            (unsigned long long)fs.used);
    kprintf("total_kib=%llu\nfree_kib=%llu\nused_kib=%llu\n", fs.total * kib, fs.free * kib,
            fs.used * kib);
    kprintf("frame_meta_bytes=%llu\n", (unsigned long long)pmm_meta_bytes());
    kprintf("heap_used_bytes=%llu\nheap_reserved_bytes=%llu\nheap_live_allocations=%llu\n",
            (unsigned long long)hs.bytes_requested, (unsigned long long)hs.bytes_reserved,
            (unsigned long long)hs.live_allocations);
    /* Network paging: what this host lends its peers, and what its VMs keep on peers. */
    struct store_stats ss;
    struct remote_mem_host_stats rs;
    store_get_stats(&ss);
    remote_mem_get_host_stats(&rs);
    kprintf("lent_capacity_pages=%llu\nlent_pages=%llu\nborrowed_pages=%llu\n",
            (unsigned long long)ss.capacity_pages, (unsigned long long)ss.used_pages,
            (unsigned long long)rs.borrowed_pages);
    return CIVIC_OK;
}
SHELL_COMMAND(mem, "mem", "", "physical frames and kernel heap usage", cmd_mem);
