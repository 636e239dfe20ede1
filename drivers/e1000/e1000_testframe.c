/* Test frames for `nic tx` (see e1000_testframe.h). */
#include "drivers/e1000/e1000_testframe.h"

#include "kernel/string.h"

#define OFF_TYPE 12
#define OFF_MAGIC 14
#define OFF_SEQ 18
#define OFF_LEN 22
#define OFF_CSUM 24
#define OFF_FILL 26
static const uint8_t magic[4] = {'C', 'V', 'N', 'T'};

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 1071 over frame[14, len), the checksum field counted as zero. */
static uint16_t payload_csum(const uint8_t *f, size_t len)
{
    uint32_t sum = 0;
    size_t i = OFF_MAGIC;
    for (; i + 1 < len; i += 2)
        if (i != OFF_CSUM)
            sum += get_be16(f + i);
    if (i < len)
        sum += (uint32_t)f[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t nic_frame_ethertype(const void *frame)
{
    return get_be16((const uint8_t *)frame + OFF_TYPE);
}

void nic_testframe_build(uint8_t *f, size_t len, const uint8_t src[6], uint32_t seq)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, src, 6);
    put_be16(f + OFF_TYPE, NIC_TEST_ETHERTYPE);
    memcpy(f + OFF_MAGIC, magic, 4);
    f[OFF_SEQ] = (uint8_t)(seq >> 24);
    f[OFF_SEQ + 1] = (uint8_t)(seq >> 16);
    f[OFF_SEQ + 2] = (uint8_t)(seq >> 8);
    f[OFF_SEQ + 3] = (uint8_t)seq;
    put_be16(f + OFF_LEN, (uint16_t)len);
    for (size_t i = OFF_FILL; i < len; i++)
        f[i] = (uint8_t)(seq + i);
    put_be16(f + OFF_CSUM, payload_csum(f, len));
}

enum nic_test_verdict nic_testframe_check(const void *frame, size_t len, uint32_t *seq)
{
    const uint8_t *f = frame;
    if (len < OFF_FILL || get_be16(f + OFF_TYPE) != NIC_TEST_ETHERTYPE ||
        memcmp(f + OFF_MAGIC, magic, 4) != 0)
        return NIC_TEST_NOT_TEST;
    if (get_be16(f + OFF_LEN) != len || get_be16(f + OFF_CSUM) != payload_csum(f, len))
        return NIC_TEST_BAD;
    *seq = get_be32(f + OFF_SEQ);
    return NIC_TEST_GOOD;
}

void nic_test_rx_account(struct nic_test_rx *st, const void *frame, size_t len)
{
    uint32_t seq;
    switch (nic_testframe_check(frame, len, &seq)) {
    case NIC_TEST_NOT_TEST:
        st->other++;
        return;
    case NIC_TEST_BAD:
        st->bad++;
        return;
    case NIC_TEST_GOOD:
        break;
    }
    st->frames++;
    st->bytes += len;
    if (st->have_last && seq != 0) {
        if (seq > st->last_seq)
            st->lost += seq - st->last_seq - 1;
        else
            st->out_of_order++;
    } else if (!st->have_last && seq != 0) {
        st->lost += seq; /* the run's first frames never came */
    }
    st->last_seq = seq;
    st->have_last = true;
}
