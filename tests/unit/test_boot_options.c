// unit-sources: kernel/boot_options.c kernel/shell_parse.c kernel/format.c kernel/log_level.c net/net_config.c
/* Boot command-line options: known options applied, bad ones reported and ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/boot_options.h"
#include "kernel/log.h"

static char warnings[8][160];
static unsigned nwarn;

static void warn(void *ctx, const char *msg)
{
    if (nwarn < 8)
        snprintf(warnings[nwarn], sizeof warnings[nwarn], "%s", msg);
    nwarn++;
}

static int setup(void **state)
{
    nwarn = 0;
    memset(warnings, 0, sizeof warnings);
    return 0;
}

static void test_empty(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("", &o, warn, NULL), 0);
    assert_int_equal(o.console_log_level, -1);
    assert_int_equal(nwarn, 0);
}

static void test_log_levels(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("log=debug", &o, warn, NULL), 0);
    assert_int_equal(o.console_log_level, LOG_DEBUG);
    assert_int_equal(boot_options_parse("  log=err  ", &o, warn, NULL), 0);
    assert_int_equal(o.console_log_level, LOG_ERR);
    /* the last one wins */
    assert_int_equal(boot_options_parse("log=warn log=info", &o, warn, NULL), 0);
    assert_int_equal(o.console_log_level, LOG_INFO);
}

static void test_bad_level_reported(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("log=loud", &o, warn, NULL), 1);
    assert_int_equal(o.console_log_level, -1);
    assert_string_equal(warnings[0], "log=loud: expected err, warn, info or debug");
}

static void test_unknown_options_reported_rest_applied(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("foo=1 log=debug bar", &o, warn, NULL), 2);
    assert_int_equal(o.console_log_level, LOG_DEBUG);
    assert_string_equal(warnings[0], "unknown option 'foo=1' ignored");
    assert_string_equal(warnings[1], "unknown option 'bar' ignored");
}

static void test_unterminated_quote(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("log=debug x=\"abc", &o, warn, NULL), 1);
    assert_int_equal(o.console_log_level, -1);
    assert_string_equal(warnings[0], "command line: unterminated quote; options ignored");
}

static void test_overlong_line(void **state)
{
    static char line[2000];
    memset(line, 'a', sizeof line - 1);
    struct boot_options o;
    assert_int_equal(boot_options_parse(line, &o, warn, NULL), 1);
    assert_int_equal(o.console_log_level, -1);
    assert_non_null(strstr(warnings[0], "longer than"));
}

static void test_vm_options(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("vm=a,hello vm=b,memtest,mem=16M", &o, warn, NULL), 0);
    assert_int_equal(o.vm_count, 2);
    assert_string_equal(o.vms[0].name, "a");
    assert_string_equal(o.vms[0].module, "hello");
    assert_int_equal(o.vms[0].mem_bytes, 0);
    assert_string_equal(o.vms[1].module, "memtest");
    assert_int_equal(o.vms[1].mem_bytes, 16 << 20);
    assert_int_equal(o.vms[1].cpus, 0);

    assert_int_equal(boot_options_parse("vm=c,smp,cpus=4,mem=8M vm=d,smp,cpus=8", &o, warn, NULL),
                     0);
    assert_int_equal(o.vm_count, 2);
    assert_int_equal(o.vms[0].cpus, 4);
    assert_int_equal(o.vms[0].mem_bytes, 8 << 20);
    assert_int_equal(o.vms[1].cpus, 8);
    assert_int_equal(o.vms[1].mem_bytes, 0);
}

static void test_bad_vm_options(void **state)
{
    struct boot_options o;
    const char *bad[] = { "vm=", "vm=a", "vm=,m", "vm=a,", "vm=a,m,mem=", "vm=a,m,mem=12Q",
                          "vm=a,m,size=1M", "vm=a,m,mem=1M,x", "vm=a,m,cpus=0",
                          "vm=a,m,cpus=9", "vm=a,m,cpus=", "vm=a,m,cpus=2,mem=1M,x",
                          "vm=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,m" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nwarn = 0;
        assert_int_equal(boot_options_parse(bad[i], &o, warn, NULL), 1);
        assert_int_equal(o.vm_count, 0);
        assert_non_null(strstr(warnings[0], "vm="));
    }
    nwarn = 0;
    assert_int_equal(boot_options_parse("vm=a,m vm=b,m vm=c,m vm=d,m vm=e,m vm=f,m vm=g,m "
                                        "vm=h,m vm=i,m", &o, warn, NULL), 1);
    assert_int_equal(o.vm_count, BOOT_VMS_MAX);
    assert_non_null(strstr(warnings[0], "too many"));
}

static void test_vm_local_and_replicas(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("vm=a,m,mem=64M,local=16M,replicas=2 vm=b,m,local=4096 "
                                        "vm=c,m,replicas=1,cpus=2,local=8K,mem=1M", &o, warn, NULL),
                     0);
    assert_int_equal(nwarn, 0);
    assert_int_equal(o.vm_count, 3);
    assert_int_equal(o.vms[0].mem_bytes, 64 << 20);
    assert_int_equal(o.vms[0].local_bytes, 16 << 20);
    assert_int_equal(o.vms[0].replicas, 2);
    assert_int_equal(o.vms[1].local_bytes, 4096);
    assert_int_equal(o.vms[1].replicas, 0); /* default */
    assert_int_equal(o.vms[1].mem_bytes, 0);
    assert_int_equal(o.vms[2].local_bytes, 8192);
    assert_int_equal(o.vms[2].replicas, 1);
    assert_int_equal(o.vms[2].cpus, 2);
    assert_int_equal(o.vms[2].mem_bytes, 1 << 20);
    /* no local=: no limit */
    assert_int_equal(boot_options_parse("vm=a,m", &o, warn, NULL), 0);
    assert_int_equal(o.vms[0].local_bytes, 0);
    assert_int_equal(o.vms[0].replicas, 0);
}

static void test_vm_bad_local_and_replicas(void **state)
{
    struct boot_options o;
    const struct {
        const char *line, *why;
    } bad[] = {
        {"vm=a,m,local=0", "bad local="},     {"vm=a,m,local=", "expected NAME"},
        {"vm=a,m,local=1000", "bad local="},  {"vm=a,m,local=4097", "bad local="},
        {"vm=a,m,local=12Q", "bad local="},   {"vm=a,m,local=-4K", "bad local="},
        {"vm=a,m,replicas=0", "want 1 or 2"}, {"vm=a,m,replicas=3", "want 1 or 2"},
        {"vm=a,m,replicas=x", "want 1 or 2"}, {"vm=a,m,replicas=", "expected NAME"},
        {"vm=a,m,locals=4K", "expected NAME"},
        {"vm=a,m,mem=1M,cpus=1,local=4K,replicas=1,x=1", "expected NAME"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nwarn = 0;
        assert_int_equal(boot_options_parse(bad[i].line, &o, warn, NULL), 1);
        assert_int_equal(o.vm_count, 0);
        if (!strstr(warnings[0], bad[i].why))
            fail_msg("%s: warning '%s' lacks '%s'", bad[i].line, warnings[0], bad[i].why);
    }
    nwarn = 0;
    assert_int_equal(boot_options_parse("vm=a,m,local=4K,x=1", &o, warn, NULL), 1);
    assert_string_equal(warnings[0], "vm=a,m,local=4K,x=1: expected "
                                     "NAME,MODULE[,mem=SIZE][,cpus=N][,local=SIZE][,replicas=N]");
    nwarn = 0;
    assert_int_equal(boot_options_parse("vm=a,m,replicas=3", &o, warn, NULL), 1);
    assert_string_equal(warnings[0], "vm=a,m,replicas=3: bad replicas=: want 1 or 2");
}

static void test_store_option(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("", &o, warn, NULL), 0);
    assert_false(o.has_store);
    assert_int_equal(o.store_bytes, 0);
    assert_int_equal(boot_options_parse("store=64M", &o, warn, NULL), 0);
    assert_true(o.has_store);
    assert_int_equal(o.store_bytes, 64ull << 20);
    assert_int_equal(boot_options_parse("store=0", &o, warn, NULL), 0);
    assert_true(o.has_store);
    assert_int_equal(o.store_bytes, 0);
    assert_int_equal(boot_options_parse("store=1T", &o, warn, NULL), 0);
    assert_int_equal(o.store_bytes, 1ull << 40);
    /* the last one wins */
    assert_int_equal(boot_options_parse("store=1G store=4096K", &o, warn, NULL), 0);
    assert_int_equal(o.store_bytes, 4ull << 20);
    assert_int_equal(nwarn, 0);
}

static void test_bad_store_option(void **state)
{
    struct boot_options o;
    const char *bad[] = {"store=", "store=12Q", "store=4097", "store=1000", "store=x",
                         "store=-1M"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nwarn = 0;
        assert_int_equal(boot_options_parse(bad[i], &o, warn, NULL), 1);
        assert_false(o.has_store);
        if (!strstr(warnings[0], "want a size in whole 4K pages"))
            fail_msg("%s: warning '%s'", bad[i], warnings[0]);
    }
    nwarn = 0;
    assert_int_equal(boot_options_parse("store=2T vm=a,m", &o, warn, NULL), 1);
    assert_false(o.has_store);
    assert_int_equal(o.vm_count, 1); /* the rest still applies */
    assert_string_equal(warnings[0], "store=2T: more than the page store's 1T");
    /* a bad store= keeps an earlier good one */
    nwarn = 0;
    assert_int_equal(boot_options_parse("store=8M store=9", &o, warn, NULL), 1);
    assert_true(o.has_store);
    assert_int_equal(o.store_bytes, 8 << 20);
}

static void test_net_default_dhcp(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("log=info", &o, warn, NULL), 0);
    assert_int_equal(o.net.mode, NET_MODE_DHCP);
    assert_int_equal(boot_options_parse("net=dhcp", &o, warn, NULL), 0);
    assert_int_equal(o.net.mode, NET_MODE_DHCP);
    assert_int_equal(boot_options_parse("net=off", &o, warn, NULL), 0);
    assert_int_equal(o.net.mode, NET_MODE_OFF);
    assert_int_equal(nwarn, 0);
}

static void test_net_static(void **state)
{
    struct boot_options o;
    const char *line = "ip=192.168.7.3/24 log=debug gw=192.168.7.1";
    assert_int_equal(boot_options_parse(line, &o, warn, NULL), 0);
    assert_int_equal(o.net.mode, NET_MODE_STATIC);
    assert_int_equal(o.net.ip, 0xc0a80703);
    assert_int_equal(o.net.mask, 0xffffff00);
    assert_int_equal(o.net.gw, 0xc0a80701);
    assert_int_equal(o.console_log_level, LOG_DEBUG);
    assert_int_equal(nwarn, 0);
}

static void test_net_bad_options(void **state)
{
    struct boot_options o;
    /* A malformed ip= is ignored: DHCP stays. */
    assert_int_equal(boot_options_parse("ip=10.0.0.300/8 log=warn", &o, warn, NULL), 1);
    assert_string_equal(warnings[0],
                        "ip=10.0.0.300/8: expected A.B.C.D/N with N from 1 to 32; option ignored");
    assert_int_equal(o.net.mode, NET_MODE_DHCP);
    assert_int_equal(o.console_log_level, LOG_WARN);
    /* A gateway off the subnet voids the static configuration. */
    nwarn = 0;
    assert_int_equal(boot_options_parse("ip=10.0.0.2/24 gw=10.0.1.1", &o, warn, NULL), 1);
    assert_string_equal(warnings[0], "gw=10.0.1.1 is not a host on ip='s subnet; network options "
                                     "ignored, using DHCP");
    assert_int_equal(o.net.mode, NET_MODE_DHCP);
    assert_int_equal(o.net.ip, 0);
    nwarn = 0;
    assert_int_equal(boot_options_parse("net=dhcp ip=10.0.0.2/24 net=bogus", &o, warn, NULL), 2);
    assert_string_equal(warnings[0], "ip=10.0.0.2/24 conflicts with net=; option ignored");
    assert_string_equal(warnings[1], "net=bogus: expected dhcp or off; option ignored");
    assert_int_equal(o.net.mode, NET_MODE_DHCP);
    nwarn = 0;
    assert_int_equal(boot_options_parse("gw=10.0.0.1", &o, warn, NULL), 1);
    assert_string_equal(warnings[0], "gw=10.0.0.1 needs ip=; network options ignored, using DHCP");
    assert_int_equal(o.net.gw, 0);
}

static void test_null_warn_is_allowed(void **state)
{
    struct boot_options o;
    assert_int_equal(boot_options_parse("nonsense", &o, NULL, NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_empty, setup),
        cmocka_unit_test_setup(test_log_levels, setup),
        cmocka_unit_test_setup(test_bad_level_reported, setup),
        cmocka_unit_test_setup(test_unknown_options_reported_rest_applied, setup),
        cmocka_unit_test_setup(test_unterminated_quote, setup),
        cmocka_unit_test_setup(test_overlong_line, setup),
        cmocka_unit_test_setup(test_vm_options, setup),
        cmocka_unit_test_setup(test_bad_vm_options, setup),
        cmocka_unit_test_setup(test_vm_local_and_replicas, setup),
        cmocka_unit_test_setup(test_vm_bad_local_and_replicas, setup),
        cmocka_unit_test_setup(test_store_option, setup),
        cmocka_unit_test_setup(test_bad_store_option, setup),
        cmocka_unit_test_setup(test_net_default_dhcp, setup),
        cmocka_unit_test_setup(test_net_static, setup),
        cmocka_unit_test_setup(test_net_bad_options, setup),
        cmocka_unit_test_setup(test_null_warn_is_allowed, setup),
    };
    return cmocka_run_group_tests_name("boot_options", tests, NULL, NULL);
}
