/* lwIP's platform functions for civic (NO_SYS): time, diagnostics, assertions, random numbers. */
#include <stdarg.h>

#include "lwip/arch.h"
#include "lwip/sys.h"

#include "kernel/arch.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "net/include/stdlib.h"
#include "net/net_int.h"

bool net_stopped;
static uint64_t rand_state;

u32_t sys_now(void)
{
    return (u32_t)(arch_time_ns() / 1000000u);
}

void civic_lwip_diag(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    log_debug("lwip: %s", line);
}

/* lwIP carries on after an assertion as it does when built with LWIP_NOASSERT; civic stops
 * calling into it, so one bad state cannot snowball, and the hypervisor and its guests go on. */
void civic_lwip_assert(const char *msg, const char *file, int line)
{
    log_err("net: lwIP assertion failed at %s:%d: %s; the network is stopped", file, line, msg);
    net_stopped = true;
}

void net_rand_seed(uint64_t entropy)
{
    rand_state ^= entropy * 0x9e3779b97f4a7c15ull;
}

/* xorshift64*: not for cryptography, only ports, ISNs and DHCP transaction ids. Seeded from the
 * clock on first use and from the MAC by net_rand_seed. */
uint32_t civic_lwip_rand(void)
{
    if (rand_state == 0)
        rand_state = arch_time_ns() | 1;
    rand_state ^= rand_state >> 12;
    rand_state ^= rand_state << 25;
    rand_state ^= rand_state >> 27;
    return (uint32_t)((rand_state * 0x2545f4914f6cdd1dull) >> 32);
}

int atoi(const char *s)
{
    int v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return v;
}
