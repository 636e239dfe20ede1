/*
 * lwIP's port header for civic: freestanding x86-64, little endian, GCC/clang. Diagnostics go to
 * civic's log; a failed lwIP assertion is logged loudly and stops the network, never the
 * hypervisor (net/sys_arch.c).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_UNISTD_H 1
#define LWIP_NO_CTYPE_H 1
/* No <limits.h> either (the host's would leak in through the compiler's): lwIP then makes
 * ssize_t an int, the same in lwIP's files and civic's. */
#define LWIP_NO_LIMITS_H 1
#ifndef INT_MAX
#define INT_MAX __INT_MAX__
#endif

#define X8_F "02hhx"
#define U16_F "hu"
#define S16_F "hd"
#define X16_F "hx"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

#define PACK_STRUCT_STRUCT __attribute__((packed))
#define PACK_STRUCT_BEGIN
#define PACK_STRUCT_END
#define PACK_STRUCT_FIELD(x) x

void civic_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void civic_lwip_assert(const char *msg, const char *file, int line);
uint32_t civic_lwip_rand(void);

/* LWIP_PLATFORM_DIAG((fmt, args...)): the double parentheses are lwIP's convention. */
#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
        civic_lwip_diag x;                                                                         \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x) civic_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() civic_lwip_rand()
