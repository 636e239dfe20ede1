#include "net/net_config.h"

#include "kernel/format.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"

void net_config_default(struct net_config *c)
{
    memset(c, 0, sizeof *c);
    c->mode = NET_MODE_DHCP;
}

static civic_err fail(char *err, size_t errlen, const char *fmt, const char *arg)
{
    if (errlen)
        ksnprintf(err, errlen, fmt, arg);
    return CIVIC_EINVAL;
}

civic_err net_parse_ipv4(const char *s, uint32_t *out)
{
    uint32_t ip = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0 && *s++ != '.')
            return CIVIC_EINVAL;
        if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
            return CIVIC_EINVAL;
        unsigned v = 0;
        for (int digits = 0; *s >= '0' && *s <= '9'; digits++) {
            if (digits == 3)
                return CIVIC_EINVAL;
            v = v * 10 + (unsigned)(*s++ - '0');
        }
        if (v > 255)
            return CIVIC_EINVAL;
        ip = ip << 8 | v;
    }
    if (*s)
        return CIVIC_EINVAL;
    *out = ip;
    return CIVIC_OK;
}

uint32_t net_prefix_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

int net_mask_prefix(uint32_t mask)
{
    int n = 0;
    while (n < 32 && (mask & (0x80000000u >> n)))
        n++;
    return net_prefix_mask((unsigned)n) == mask ? n : -1;
}

civic_err net_parse_cidr(const char *s, uint32_t *ip, uint32_t *mask)
{
    char addr[NET_IPV4_STR_MAX];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof addr)
        return CIVIC_EINVAL;
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = 0;
    uint64_t prefix;
    const char *p = slash + 1;
    if (*p < '1' || *p > '9' || strlen(p) > 2 || shell_parse_u64(p, &prefix) != CIVIC_OK ||
        prefix > 32)
        return CIVIC_EINVAL;
    if (net_parse_ipv4(addr, ip) != CIVIC_OK)
        return CIVIC_EINVAL;
    *mask = net_prefix_mask((unsigned)prefix);
    return CIVIC_OK;
}

void net_format_ipv4(uint32_t ip, char buf[NET_IPV4_STR_MAX])
{
    ksnprintf(buf, NET_IPV4_STR_MAX, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
              ip & 0xff);
}

/* An address a host may have: not 0.0.0.0/8, loopback, multicast or reserved. */
static bool unicast(uint32_t ip)
{
    uint32_t first = ip >> 24;
    return first != 0 && first != 127 && first < 224;
}

/* On a subnet of at least 4 addresses, the all-zeros and all-ones hosts are not hosts. */
static bool host_on(uint32_t ip, uint32_t mask)
{
    if ((mask & 3) != 0)
        return true; /* /31 and /32: every address is a host (RFC 3021) */
    return (ip & ~mask) != 0 && (ip & ~mask) != ~mask;
}

civic_err net_config_word(struct net_config *c, const char *word, char *err, size_t errlen)
{
    const char *v;
    if ((v = shell_kv(word, "net"))) {
        enum net_mode mode;
        if (strcmp(v, "dhcp") == 0)
            mode = NET_MODE_DHCP;
        else if (strcmp(v, "off") == 0)
            mode = NET_MODE_OFF;
        else
            return fail(err, errlen, "net=%.20s: expected dhcp or off", v);
        if (c->mode == NET_MODE_STATIC)
            return fail(err, errlen, "net=%.20s conflicts with ip=", v);
        c->mode = mode;
        c->mode_given = true;
        return CIVIC_OK;
    }
    if ((v = shell_kv(word, "ip"))) {
        uint32_t ip, mask;
        if (net_parse_cidr(v, &ip, &mask) != CIVIC_OK)
            return fail(err, errlen, "ip=%.24s: expected A.B.C.D/N with N from 1 to 32", v);
        if (!unicast(ip) || !host_on(ip, mask))
            return fail(err, errlen, "ip=%.24s: not a host address", v);
        if (c->mode_given)
            return fail(err, errlen, "ip=%.24s conflicts with net=", v);
        c->mode = NET_MODE_STATIC;
        c->ip = ip;
        c->mask = mask;
        return CIVIC_OK;
    }
    if ((v = shell_kv(word, "gw"))) {
        uint32_t gw;
        if (net_parse_ipv4(v, &gw) != CIVIC_OK || !unicast(gw))
            return fail(err, errlen, "gw=%.24s: expected a unicast address A.B.C.D", v);
        c->gw = gw;
        return CIVIC_OK;
    }
    return CIVIC_ENOENT;
}

civic_err net_config_check(const struct net_config *c, char *err, size_t errlen)
{
    if (c->gw == 0)
        return CIVIC_OK;
    char gw[NET_IPV4_STR_MAX];
    net_format_ipv4(c->gw, gw);
    if (c->mode != NET_MODE_STATIC)
        return fail(err, errlen, "gw=%s needs ip=", gw);
    if ((c->gw & c->mask) != (c->ip & c->mask) || !host_on(c->gw, c->mask))
        return fail(err, errlen, "gw=%s is not a host on ip='s subnet", gw);
    if (c->gw == c->ip)
        return fail(err, errlen, "gw=%s is this host's own address", gw);
    return CIVIC_OK;
}

civic_err net_config_parse_set(int argc, char **argv, struct net_config *out, char *err,
                               size_t errlen)
{
    struct net_config c;
    net_config_default(&c);
    for (int i = 0; i < argc; i++) {
        if (!shell_kv(argv[i], "ip") && !shell_kv(argv[i], "gw"))
            return fail(err, errlen, "unexpected '%.24s': expected ip=A.B.C.D/N [gw=A.B.C.D]",
                        argv[i]);
        if (net_config_word(&c, argv[i], err, errlen) != CIVIC_OK)
            return CIVIC_EINVAL;
    }
    if (c.mode != NET_MODE_STATIC)
        return fail(err, errlen, "%sip=A.B.C.D/N is required", "");
    if (net_config_check(&c, err, errlen) != CIVIC_OK)
        return CIVIC_EINVAL;
    *out = c;
    return CIVIC_OK;
}

civic_err net_parse_ping(int argc, char **argv, uint32_t *host, unsigned *count, char *err,
                         size_t errlen)
{
    uint32_t h = 0;
    unsigned n = NET_PING_COUNT_DEFAULT;
    bool have_host = false;
    for (int i = 0; i < argc; i++) {
        const char *v;
        if ((v = shell_kv(argv[i], "count"))) {
            uint64_t c;
            if (shell_parse_u64(v, &c) != CIVIC_OK || c == 0 || c > NET_PING_COUNT_MAX)
                return fail(err, errlen, "count=%.24s: expected 1 to 100000", v);
            n = (unsigned)c;
        } else if (!have_host) {
            if (net_parse_ipv4(argv[i], &h) != CIVIC_OK)
                return fail(err, errlen, "'%.24s' is not an IPv4 address A.B.C.D", argv[i]);
            have_host = true;
        } else {
            return fail(err, errlen, "unexpected '%.24s'", argv[i]);
        }
    }
    if (!have_host)
        return fail(err, errlen, "%sHOST is required", "");
    *host = h;
    *count = n;
    return CIVIC_OK;
}
