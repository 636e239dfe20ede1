// unit-sources: net/cmd_store.c kernel/shell.c kernel/shell_parse.c kernel/line_editor.c kernel/format.c net/net_config.c kernel/error.c
/* The `store` command: its output lines, the owners' addresses, size parsing and the usage
 * errors. The store and the peer layer are test doubles; the shell is the real one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/console.h"
#include "kernel/console_attach.h"
#include "kernel/format.h"
#include "kernel/shell.h"
#include "net/peer.h"
#include "net/store.h"

#include "console_double.h"

/* ---- store and peer doubles ---- */
static struct store_stats fake_stats;
static civic_err set_result, check_result;
static uint64_t set_bytes;
static int set_calls;
static uint32_t corrupt_asked;
static struct {
    uint64_t id;
    uint32_t pages;
} owners[3];
static unsigned nowners;
static struct peer_info peers[PEER_MAX];
static size_t npeers;

civic_err store_set_capacity(uint64_t bytes)
{
    set_calls++;
    set_bytes = bytes;
    if (set_result == CIVIC_OK)
        fake_stats.capacity_pages = bytes / 4096;
    return set_result;
}
void store_get_stats(struct store_stats *st)
{
    *st = fake_stats;
}
void store_for_each_owner(page_store_owner_fn fn, void *ctx)
{
    for (unsigned i = 0; i < nowners; i++)
        fn(ctx, owners[i].id, owners[i].pages);
}
civic_err store_check(void)
{
    return check_result;
}
uint32_t store_corrupt(uint32_t n)
{
    corrupt_asked = n;
    return n < fake_stats.used_pages ? n : (uint32_t)fake_stats.used_pages;
}
size_t peer_list(struct peer_info *o, size_t max)
{
    size_t n = npeers < max ? npeers : max;
    memcpy(o, peers, n * sizeof *o);
    return n;
}

static int setup(void **state)
{
    memset(&fake_stats, 0, sizeof fake_stats);
    set_result = check_result = CIVIC_OK;
    set_bytes = 0;
    set_calls = 0;
    corrupt_asked = 0;
    nowners = 0;
    npeers = 0;
    shell_init();
    out_len = 0;
    out[0] = 0;
    return 0;
}

/* Runs one line and returns the output before the next prompt. */
static const char *run(const char *line)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", line);
    out_len = 0;
    out[0] = 0;
    shell_run_line(buf);
    return out;
}

static void test_facts(void **state)
{
    fake_stats = (struct store_stats){.capacity_pages = 2048,
                                      .used_pages = 5,
                                      .owners = 2,
                                      .puts = 9,
                                      .put_refused_full = 1,
                                      .put_refused_corrupt = 2,
                                      .put_refused_stale = 3,
                                      .gets = 4,
                                      .get_absent = 5,
                                      .get_corrupt = 6,
                                      .frees = 7,
                                      .replies_deferred = 8,
                                      .deferred_now = 1,
                                      .requests_dropped = 2};
    owners[0].id = 0x525400123456ull;
    owners[0].pages = 3;
    owners[1].id = 0x525400abcdefull;
    owners[1].pages = 2;
    nowners = 2;
    /* owner 0 connected (and a closing connection of owner 1 that does not count) */
    peers[0] = (struct peer_info){
        .serial = 4, .ip = 0x0a00020f, .id = 0x525400123456ull, .state = PEER_CONN_ESTABLISHED};
    peers[1] = (struct peer_info){
        .serial = 5, .ip = 0x0a000210, .id = 0x525400abcdefull, .state = PEER_CONN_CLOSING};
    npeers = 2;
    assert_string_equal(run("store"), "capacity_bytes=8388608\ncapacity_pages=2048\n"
                                      "used_pages=5\nfree_pages=2043\nowners=2\nputs=9\n"
                                      "put_refused_full=1\nput_refused_corrupt=2\n"
                                      "put_refused_stale=3\ngets=4\nget_absent=5\n"
                                      "get_corrupt=6\nfrees=7\nreplies_deferred=8\n"
                                      "deferred_now=1\nrequests_dropped=2\n"
                                      "owner=0x525400123456 pages=3 ip=10.0.2.15\n"
                                      "owner=0x525400abcdef pages=2 ip=-\n");
}

static void test_set_size(void **state)
{
    const char *o = run("store 8M");
    assert_int_equal(set_calls, 1);
    assert_int_equal(set_bytes, 8 << 20);
    assert_non_null(strstr(o, "capacity_bytes=8388608\ncapacity_pages=2048\n"));
    assert_non_null(strstr(o, "free_pages=2048\n"));
    run("store 4096K");
    assert_int_equal(set_bytes, 4 << 20);
    run("store 1G");
    assert_int_equal(set_bytes, 1ull << 30);
    run("store 0");
    assert_int_equal(set_bytes, 0);
    run("store 1T");
    assert_int_equal(set_bytes, 1ull << 40);
    assert_int_equal(set_calls, 5);
}

static void test_set_size_refused(void **state)
{
    assert_non_null(strstr(run("store 4097"), "error: '4097': the size must be a multiple of 4K"));
    assert_non_null(strstr(run("store 12Q"), "error: '12Q' is not a size"));
    assert_non_null(strstr(run("store 2T"), "error: '2T': the store holds at most 1T"));
    assert_non_null(strstr(run("store 99999999999999999999999"), "at most 1T"));
    assert_non_null(strstr(run("store 12Q"), "usage: store [SIZE | check | corrupt N]"));
    assert_int_equal(set_calls, 0);

    fake_stats.used_pages = 7;
    fake_stats.owners = 2;
    set_result = CIVIC_EBUSY;
    const char *o = run("store 16M");
    assert_string_equal(o,
                        "error: the store holds 7 pages from 2 owner(s): the capacity changes only "
                        "when it is empty (the owners free their pages first)\n");
    set_result = CIVIC_ENOMEM;
    assert_string_equal(run("store 512G"),
                        "error: no memory for the index of a 512G store; capacity unchanged\n");
}

static void test_check(void **state)
{
    assert_string_equal(run("store check"), "check=ok\n");
    check_result = CIVIC_ECORRUPT;
    assert_non_null(strstr(run("store check"), "error: check failed"));
}

static void test_corrupt(void **state)
{
    fake_stats.used_pages = 2;
    assert_string_equal(run("store corrupt 3"), "corrupted=2\n");
    assert_int_equal(corrupt_asked, 3);
    assert_string_equal(run("store corrupt 1"), "corrupted=1\n");
    run("store corrupt 99999999999");
    assert_int_equal(corrupt_asked, UINT32_MAX);
    corrupt_asked = 0;
    assert_non_null(strstr(run("store corrupt 0"), "error: corrupt wants a page count N >= 1"));
    assert_non_null(strstr(run("store corrupt x"), "error: corrupt wants a page count N >= 1"));
    assert_non_null(strstr(run("store corrupt"), "error: corrupt wants a page count N"));
    assert_int_equal(corrupt_asked, 0);
}

static void test_unknown_subcommands(void **state)
{
    const char *bad[] = {"store bogus", "store check now", "store 8M 16M", "store -1",
                         "store corrupt 1 2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *o = run(bad[i]);
        if (!strstr(o, "error: unknown or incomplete subcommand") || !strstr(o, "usage: store"))
            fail_msg("'%s' gave '%s'", bad[i], o);
    }
    assert_int_equal(set_calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_facts, setup),
        cmocka_unit_test_setup(test_set_size, setup),
        cmocka_unit_test_setup(test_set_size_refused, setup),
        cmocka_unit_test_setup(test_check, setup),
        cmocka_unit_test_setup(test_corrupt, setup),
        cmocka_unit_test_setup(test_unknown_subcommands, setup),
    };
    return cmocka_run_group_tests_name("cmd_store", tests, NULL, NULL);
}
