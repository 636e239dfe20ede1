/* The `store` shell command: the page store lent to peers (net/store.h). */
#include "kernel/console.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"
#include "net/net_config.h"
#include "net/peer.h"
#include "net/store.h"

#define CMD_USAGE "[SIZE | check | corrupt N]"

/* The address of an established connection to this host id, if there is one. */
static void owner_ip(uint64_t owner, char ip[NET_IPV4_STR_MAX])
{
    struct peer_info all[PEER_MAX];
    size_t n = peer_list(all, PEER_MAX);
    for (size_t i = 0; i < n; i++) {
        if (all[i].id == owner && all[i].state == PEER_CONN_ESTABLISHED) {
            net_format_ipv4(all[i].ip, ip);
            return;
        }
    }
    memcpy(ip, "-", 2);
}

static void print_owner(void *ctx, uint64_t owner, uint32_t pages)
{
    char ip[NET_IPV4_STR_MAX];
    owner_ip(owner, ip);
    kprintf("owner=0x%llx pages=%u ip=%s\n", (unsigned long long)owner, pages, ip);
}

static void print_store(void)
{
    struct store_stats s;
    store_get_stats(&s);
    kprintf("capacity_bytes=%llu\ncapacity_pages=%llu\nused_pages=%llu\nfree_pages=%llu\n"
            "owners=%llu\n",
            (unsigned long long)(s.capacity_pages * PAGE_STORE_PAGE_SIZE),
            (unsigned long long)s.capacity_pages, (unsigned long long)s.used_pages,
            (unsigned long long)(s.capacity_pages - s.used_pages), (unsigned long long)s.owners);
    kprintf("puts=%llu\nput_refused_full=%llu\nput_refused_corrupt=%llu\nput_refused_stale=%llu\n"
            "gets=%llu\nget_absent=%llu\nget_corrupt=%llu\nfrees=%llu\nreplies_deferred=%llu\n"
            "deferred_now=%llu\nrequests_dropped=%llu\n",
            (unsigned long long)s.puts, (unsigned long long)s.put_refused_full,
            (unsigned long long)s.put_refused_corrupt, (unsigned long long)s.put_refused_stale,
            (unsigned long long)s.gets, (unsigned long long)s.get_absent,
            (unsigned long long)s.get_corrupt, (unsigned long long)s.frees,
            (unsigned long long)s.replies_deferred, (unsigned long long)s.deferred_now,
            (unsigned long long)s.requests_dropped);
    store_for_each_owner(print_owner, NULL);
}

static civic_err store_cmd_size(const char *arg)
{
    uint64_t bytes;
    civic_err e = shell_parse_size(arg, &bytes);
    if (e == CIVIC_ERANGE || (e == CIVIC_OK && bytes / PAGE_STORE_PAGE_SIZE > PAGE_STORE_MAX_PAGES))
        return shell_usage_error("store", "'%.24s': the store holds at most 1T", arg);
    if (e != CIVIC_OK)
        return shell_usage_error("store", "'%.24s' is not a size (e.g. 64M, 1G, 4096K)", arg);
    if (bytes % PAGE_STORE_PAGE_SIZE)
        return shell_usage_error("store", "'%.24s': the size must be a multiple of 4K", arg);
    e = store_set_capacity(bytes);
    if (e == CIVIC_EBUSY) {
        struct store_stats s;
        store_get_stats(&s);
        return shell_error(e,
                           "the store holds %llu pages from %llu owner(s): the capacity changes "
                           "only when it is empty (the owners free their pages first)",
                           (unsigned long long)s.used_pages, (unsigned long long)s.owners);
    }
    if (e == CIVIC_ENOMEM)
        return shell_error(e, "no memory for the index of a %.24s store; capacity unchanged", arg);
    if (e != CIVIC_OK)
        return shell_error(e, "cannot set the capacity: %s", civic_strerror(e));
    print_store();
    return CIVIC_OK;
}

static civic_err store_cmd_corrupt(const char *arg)
{
    uint64_t n;
    if (shell_parse_u64(arg, &n) != CIVIC_OK || n == 0)
        return shell_usage_error("store", "corrupt wants a page count N >= 1, not '%.24s'", arg);
    if (n > UINT32_MAX)
        n = UINT32_MAX;
    kprintf("corrupted=%u\n", store_corrupt((uint32_t)n));
    return CIVIC_OK;
}

static civic_err cmd_store(int argc, char **argv)
{
    if (argc == 1) {
        print_store();
        return CIVIC_OK;
    }
    if (argc == 2 && strcmp(argv[1], "check") == 0) {
        civic_err e = store_check();
        if (e != CIVIC_OK)
            return shell_error(e, "check failed: the store's index is inconsistent (%s)",
                               civic_strerror(e));
        kprintf("check=ok\n");
        return CIVIC_OK;
    }
    if (argc == 3 && strcmp(argv[1], "corrupt") == 0)
        return store_cmd_corrupt(argv[2]);
    if (argc == 2 && argv[1][0] >= '0' && argv[1][0] <= '9')
        return store_cmd_size(argv[1]);
    if (argc == 2 && strcmp(argv[1], "corrupt") == 0)
        return shell_usage_error("store", "corrupt wants a page count N");
    return shell_usage_error("store", "unknown or incomplete subcommand");
}
SHELL_COMMAND(store, "store", CMD_USAGE,
              "memory lent to peers' pages: state and owners, set the capacity (SIZE, e.g. 64M), "
              "check the index, corrupt N pages (fault injection for tests)",
              cmd_store);
