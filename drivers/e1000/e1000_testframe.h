/*
 * The raw test frames of `nic tx`: broadcast Ethernet frames with EtherType 0x88B5 (IEEE 802
 * "local experimental") carrying a magic, a sequence number, the frame length and an Internet
 * checksum (RFC 1071) over the payload, so the receiver can tell intact frames from damaged
 * ones without any protocol stack. Pure, host-tested.
 *
 *   0  dst ff:ff:ff:ff:ff:ff   6 src   12 type 88b5
 *   14 magic "CVNT"   18 seq (big endian)   22 length of the frame   24 checksum   26 filler
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NIC_TEST_ETHERTYPE 0x88b5
#define NIC_TEST_MIN 60u   /* the Ethernet minimum without FCS */
#define NIC_TEST_MAX 1514u

enum nic_test_verdict { NIC_TEST_GOOD, NIC_TEST_NOT_TEST, NIC_TEST_BAD };

/* Writes a test frame of len bytes (NIC_TEST_MIN..NIC_TEST_MAX) into buf. */
void nic_testframe_build(uint8_t *buf, size_t len, const uint8_t src[6], uint32_t seq);
/* NIC_TEST_NOT_TEST for any frame that is not 0x88B5 with our magic; NIC_TEST_BAD when the
 * length or checksum is wrong; else NIC_TEST_GOOD with *seq. */
enum nic_test_verdict nic_testframe_check(const void *frame, size_t len, uint32_t *seq);
/* The EtherType of a frame of at least 14 bytes. */
uint16_t nic_frame_ethertype(const void *frame);

/* What a receiver counted. Sequence numbers are expected to rise by one; a 0 starts a new run
 * (each `nic tx` starts at 0). */
struct nic_test_rx {
    uint64_t frames, bytes; /* good test frames */
    uint64_t bad;           /* test frames with a wrong length or checksum */
    uint64_t lost;          /* gaps in the sequence */
    uint64_t out_of_order;  /* a sequence number at or below the previous one (not 0) */
    uint64_t other;         /* frames that were not test frames */
    uint32_t last_seq;
    bool have_last;
};

void nic_test_rx_account(struct nic_test_rx *st, const void *frame, size_t len);
