// unit-sources: net/net_config.c kernel/shell_parse.c kernel/format.c
/* The network configuration's textual forms: GRUB words, `net set`, `ping` arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_config.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static char err[128];

static void test_ipv4_valid(void **state)
{
    uint32_t ip = 1;
    assert_int_equal(net_parse_ipv4("10.0.2.15", &ip), CIVIC_OK);
    assert_int_equal(ip, 0x0a00020f);
    assert_int_equal(net_parse_ipv4("0.0.0.0", &ip), CIVIC_OK);
    assert_int_equal(ip, 0);
    assert_int_equal(net_parse_ipv4("255.255.255.255", &ip), CIVIC_OK);
    assert_int_equal(ip, 0xffffffff);
    assert_int_equal(net_parse_ipv4("192.168.100.1", &ip), CIVIC_OK);
    assert_int_equal(ip, IP(192, 168, 100, 1));
}

static void test_ipv4_invalid(void **state)
{
    static const char *bad[] = {"",           "1",          "1.2.3",    "1.2.3.4.5", "256.0.0.1",
                                "1.2.3.256",  "01.2.3.4",   "1.2.3.04", "1..3.4",    ".1.2.3",
                                "1.2.3.4.",   "a.b.c.d",    "1.2.3.4 ", " 1.2.3.4",  "1.2.3.-4",
                                "1000.1.1.1", "1.2.3.4/24", "0x1.2.3.4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t ip = 0x12345678;
        assert_int_equal(net_parse_ipv4(bad[i], &ip), CIVIC_EINVAL);
        assert_int_equal(ip, 0x12345678); /* untouched on failure */
    }
}

static void test_format(void **state)
{
    char buf[NET_IPV4_STR_MAX];
    net_format_ipv4(IP(255, 255, 255, 255), buf);
    assert_string_equal(buf, "255.255.255.255");
    net_format_ipv4(IP(10, 0, 2, 15), buf);
    assert_string_equal(buf, "10.0.2.15");
    net_format_ipv4(0, buf);
    assert_string_equal(buf, "0.0.0.0");
}

static void test_masks(void **state)
{
    assert_int_equal(net_prefix_mask(24), 0xffffff00);
    assert_int_equal(net_prefix_mask(1), 0x80000000);
    assert_int_equal(net_prefix_mask(32), 0xffffffff);
    assert_int_equal(net_prefix_mask(0), 0);
    assert_int_equal(net_mask_prefix(0xffffff00), 24);
    assert_int_equal(net_mask_prefix(0xffffffff), 32);
    assert_int_equal(net_mask_prefix(0), 0);
    assert_int_equal(net_mask_prefix(0xff00ff00), -1);
    assert_int_equal(net_mask_prefix(0x00ffffff), -1);
}

static void test_cidr(void **state)
{
    uint32_t ip, mask;
    assert_int_equal(net_parse_cidr("10.0.2.15/24", &ip, &mask), CIVIC_OK);
    assert_int_equal(ip, IP(10, 0, 2, 15));
    assert_int_equal(mask, 0xffffff00);
    assert_int_equal(net_parse_cidr("10.0.2.15/32", &ip, &mask), CIVIC_OK);
    assert_int_equal(mask, 0xffffffff);
    assert_int_equal(net_parse_cidr("10.0.2.15/1", &ip, &mask), CIVIC_OK);
    assert_int_equal(mask, 0x80000000);
    static const char *bad[] = {"10.0.2.15",
                                "10.0.2.15/",
                                "10.0.2.15/0",
                                "10.0.2.15/33",
                                "10.0.2.15/024",
                                "10.0.2.15/2x",
                                "10.0.2/24",
                                "/24",
                                "10.0.2.15/24/1",
                                "10.0.2.15/-1",
                                "1234567890123456789/8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(net_parse_cidr(bad[i], &ip, &mask), CIVIC_EINVAL);
}

static void test_default_is_dhcp(void **state)
{
    struct net_config c;
    memset(&c, 0xa5, sizeof c);
    net_config_default(&c);
    assert_int_equal(c.mode, NET_MODE_DHCP);
    assert_false(c.mode_given);
    assert_int_equal(c.ip, 0);
    assert_int_equal(c.gw, 0);
    assert_int_equal(net_config_check(&c, err, sizeof err), CIVIC_OK);
}

static void test_words_static(void **state)
{
    struct net_config c;
    net_config_default(&c);
    assert_int_equal(net_config_word(&c, "gw=192.168.1.1", err, sizeof err), CIVIC_OK);
    assert_int_equal(net_config_word(&c, "ip=192.168.1.20/24", err, sizeof err), CIVIC_OK);
    assert_int_equal(c.mode, NET_MODE_STATIC);
    assert_int_equal(c.ip, IP(192, 168, 1, 20));
    assert_int_equal(c.mask, 0xffffff00);
    assert_int_equal(c.gw, IP(192, 168, 1, 1));
    assert_int_equal(net_config_check(&c, err, sizeof err), CIVIC_OK);
}

static void test_words_mode(void **state)
{
    struct net_config c;
    net_config_default(&c);
    assert_int_equal(net_config_word(&c, "net=off", err, sizeof err), CIVIC_OK);
    assert_int_equal(c.mode, NET_MODE_OFF);
    assert_int_equal(net_config_word(&c, "net=dhcp", err, sizeof err), CIVIC_OK);
    assert_int_equal(c.mode, NET_MODE_DHCP);
    assert_true(c.mode_given);
    assert_int_equal(net_config_word(&c, "net=static", err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "net=static: expected dhcp or off");
    assert_int_equal(net_config_word(&c, "net=", err, sizeof err), CIVIC_EINVAL);
    assert_int_equal(c.mode, NET_MODE_DHCP);
}

static void test_words_not_ours(void **state)
{
    struct net_config c, before;
    net_config_default(&c);
    before = c;
    strcpy(err, "untouched");
    assert_int_equal(net_config_word(&c, "log=debug", err, sizeof err), CIVIC_ENOENT);
    assert_int_equal(net_config_word(&c, "ipaddr=1.2.3.4/8", err, sizeof err), CIVIC_ENOENT);
    assert_int_equal(net_config_word(&c, "net", err, sizeof err), CIVIC_ENOENT);
    assert_int_equal(net_config_word(&c, "", err, sizeof err), CIVIC_ENOENT);
    assert_string_equal(err, "untouched");
    assert_memory_equal(&c, &before, sizeof c);
}

static void test_words_conflict(void **state)
{
    struct net_config c;
    net_config_default(&c);
    assert_int_equal(net_config_word(&c, "net=dhcp", err, sizeof err), CIVIC_OK);
    assert_int_equal(net_config_word(&c, "ip=10.0.0.2/8", err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "ip=10.0.0.2/8 conflicts with net=");
    assert_int_equal(c.mode, NET_MODE_DHCP);
    assert_int_equal(c.ip, 0);

    net_config_default(&c);
    assert_int_equal(net_config_word(&c, "ip=10.0.0.2/8", err, sizeof err), CIVIC_OK);
    assert_int_equal(net_config_word(&c, "net=off", err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "net=off conflicts with ip=");
    assert_int_equal(c.mode, NET_MODE_STATIC);
}

static void test_words_bad_addresses(void **state)
{
    static const char *bad[] = {
        "ip=0.0.0.1/8",   "ip=127.0.0.1/8",   "ip=224.0.0.1/4", "ip=255.255.255.255/32",
        "ip=10.0.2.0/24", "ip=10.0.2.255/24", "ip=10.0.2.15",   "ip=10.0.2.15/0",
        "gw=0.0.0.0",     "gw=10.0.2",        "gw=239.1.1.1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct net_config c;
        net_config_default(&c);
        err[0] = 0;
        assert_int_equal(net_config_word(&c, bad[i], err, sizeof err), CIVIC_EINVAL);
        assert_true(strlen(err) > 0);
        assert_int_equal(c.mode, NET_MODE_DHCP);
        assert_int_equal(c.gw, 0);
    }
    /* /31 and /32 have no network or broadcast address. */
    struct net_config c;
    net_config_default(&c);
    assert_int_equal(net_config_word(&c, "ip=10.0.2.0/31", err, sizeof err), CIVIC_OK);
    assert_int_equal(net_config_word(&c, "ip=10.0.2.255/32", err, sizeof err), CIVIC_OK);
}

static void test_check(void **state)
{
    struct net_config c;
    net_config_default(&c);
    assert_int_equal(net_config_word(&c, "gw=10.0.2.2", err, sizeof err), CIVIC_OK);
    assert_int_equal(net_config_check(&c, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "gw=10.0.2.2 needs ip=");

    assert_int_equal(net_config_word(&c, "ip=10.0.3.15/24", err, sizeof err), CIVIC_OK);
    assert_int_equal(net_config_check(&c, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "gw=10.0.2.2 is not a host on ip='s subnet");

    assert_int_equal(net_config_word(&c, "ip=10.0.2.2/24", err, sizeof err), CIVIC_OK);
    assert_int_equal(net_config_check(&c, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "gw=10.0.2.2 is this host's own address");

    assert_int_equal(net_config_word(&c, "gw=10.0.2.255", err, sizeof err), CIVIC_OK);
    assert_int_equal(net_config_check(&c, err, sizeof err), CIVIC_EINVAL);

    assert_int_equal(net_config_word(&c, "ip=10.0.2.15/16", err, sizeof err), CIVIC_OK);
    assert_int_equal(net_config_check(&c, err, sizeof err), CIVIC_OK); /* 10.0.2.255 is a host */
}

static void test_parse_set(void **state)
{
    struct net_config c;
    char a0[] = "ip=10.0.2.16/24", a1[] = "gw=10.0.2.2";
    char *argv[] = {a0, a1};
    assert_int_equal(net_config_parse_set(2, argv, &c, err, sizeof err), CIVIC_OK);
    assert_int_equal(c.mode, NET_MODE_STATIC);
    assert_int_equal(c.ip, IP(10, 0, 2, 16));
    assert_int_equal(c.mask, 0xffffff00);
    assert_int_equal(c.gw, IP(10, 0, 2, 2));

    assert_int_equal(net_config_parse_set(1, argv, &c, err, sizeof err), CIVIC_OK);
    assert_int_equal(c.gw, 0);

    struct net_config keep = c;
    assert_int_equal(net_config_parse_set(0, argv, &c, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "ip=A.B.C.D/N is required");
    assert_int_equal(net_config_parse_set(1, argv + 1, &c, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "ip=A.B.C.D/N is required");
    char b0[] = "net=dhcp";
    char *argv2[] = {a0, b0};
    assert_int_equal(net_config_parse_set(2, argv2, &c, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "unexpected 'net=dhcp': expected ip=A.B.C.D/N [gw=A.B.C.D]");
    char g[] = "gw=192.168.0.1";
    char *argv3[] = {a0, g};
    assert_int_equal(net_config_parse_set(2, argv3, &c, err, sizeof err), CIVIC_EINVAL);
    assert_memory_equal(&c, &keep, sizeof c); /* untouched on failure */
}

static void test_parse_ping(void **state)
{
    uint32_t host = 0;
    unsigned count = 0;
    char h[] = "10.0.2.2", n[] = "count=3", big[] = "count=100001", zero[] = "count=0";
    char name[] = "example.org";
    char *a[] = {h, n};
    assert_int_equal(net_parse_ping(2, a, &host, &count, err, sizeof err), CIVIC_OK);
    assert_int_equal(host, IP(10, 0, 2, 2));
    assert_int_equal(count, 3);
    char *b[] = {n, h}; /* order does not matter */
    assert_int_equal(net_parse_ping(2, b, &host, &count, err, sizeof err), CIVIC_OK);
    assert_int_equal(count, 3);
    assert_int_equal(net_parse_ping(1, a, &host, &count, err, sizeof err), CIVIC_OK);
    assert_int_equal(count, NET_PING_COUNT_DEFAULT);

    assert_int_equal(net_parse_ping(0, a, &host, &count, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "HOST is required");
    char *c[] = {h, big};
    assert_int_equal(net_parse_ping(2, c, &host, &count, err, sizeof err), CIVIC_EINVAL);
    char *d[] = {h, zero};
    assert_int_equal(net_parse_ping(2, d, &host, &count, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "count=0: expected 1 to 100000");
    char *e[] = {name};
    assert_int_equal(net_parse_ping(1, e, &host, &count, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "'example.org' is not an IPv4 address A.B.C.D");
    char *f[] = {h, h};
    assert_int_equal(net_parse_ping(2, f, &host, &count, err, sizeof err), CIVIC_EINVAL);
    assert_string_equal(err, "unexpected '10.0.2.2'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_valid),
        cmocka_unit_test(test_ipv4_invalid),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_default_is_dhcp),
        cmocka_unit_test(test_words_static),
        cmocka_unit_test(test_words_mode),
        cmocka_unit_test(test_words_not_ours),
        cmocka_unit_test(test_words_conflict),
        cmocka_unit_test(test_words_bad_addresses),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_parse_set),
        cmocka_unit_test(test_parse_ping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
