/*
 * The peer protocol's checksum: CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected, initial
 * value and final xor 0xffffffff), the CRC of iSCSI (RFC 3720), ext4 and SCTP. Chosen over a
 * 64-bit FNV-1a because a CRC detects every burst error up to 32 bits and every odd number of bit
 * flips in a page-sized block, which a multiplicative hash does not promise, and x86 computes it in
 * hardware (SSE4.2 CRC32, a general-purpose-register instruction) should software ever be too slow.
 * It guards `net bench` streams now and remote pages later; docs/protocol.md names it.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define PEER_CSUM_INIT 0u /* the CRC of nothing: the starting value for peer_csum_update */

/* Continues a CRC over more bytes: crc(a || b) == peer_csum_update(peer_csum_update(0, a), b). */
uint32_t peer_csum_update(uint32_t crc, const void *data, size_t len);

/* The CRC-32C of one buffer: peer_csum("123456789", 9) == 0xe3069283. */
static inline uint32_t peer_csum(const void *data, size_t len)
{
    return peer_csum_update(PEER_CSUM_INIT, data, len);
}
