// unit-sources: net/peer_csum.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/peer_csum.h"

/* The definition, one bit at a time: what the table must reproduce. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1) ? 0x82f63b78u : 0);
    }
    return ~c;
}

static void test_check_value(void **state)
{
    assert_int_equal(peer_csum("123456789", 9), 0xe3069283u);
    assert_int_equal(peer_csum("", 0), 0);
    assert_int_equal(peer_csum("a", 1), 0xc1d04330u);
}

/* RFC 3720 (iSCSI) appendix B.4. */
static void test_rfc3720_vectors(void **state)
{
    uint8_t b[48];

    memset(b, 0, 32);
    assert_int_equal(peer_csum(b, 32), 0x8a9136aau);
    memset(b, 0xff, 32);
    assert_int_equal(peer_csum(b, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    assert_int_equal(peer_csum(b, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(31 - i);
    assert_int_equal(peer_csum(b, 32), 0x113fdb5cu);
    static const uint8_t read_pdu[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    assert_int_equal(peer_csum(read_pdu, sizeof(read_pdu)), 0xd9963a56u);
}

/* Every table entry: a one-byte message's CRC depends on exactly one entry. */
static void test_table_matches_definition(void **state)
{
    for (int v = 0; v < 256; v++) {
        uint8_t b = (uint8_t)v;
        assert_int_equal(peer_csum(&b, 1), crc32c_bitwise(&b, 1));
    }
    uint8_t buf[1000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t n = 0; n <= sizeof(buf); n += 37)
        assert_int_equal(peer_csum(buf, n), crc32c_bitwise(buf, n));
}

static void test_streaming_equals_whole(void **state)
{
    uint8_t page[4096];
    for (size_t i = 0; i < sizeof(page); i++)
        page[i] = (uint8_t)(i * 7 + (i >> 8));
    uint32_t whole = peer_csum(page, sizeof(page));
    for (size_t split = 0; split <= sizeof(page); split += 511) {
        uint32_t c = peer_csum_update(PEER_CSUM_INIT, page, split);
        c = peer_csum_update(c, page + split, sizeof(page) - split);
        assert_int_equal(c, whole);
    }
    /* Byte at a time too. */
    uint32_t c = PEER_CSUM_INIT;
    for (size_t i = 0; i < sizeof(page); i++)
        c = peer_csum_update(c, page + i, 1);
    assert_int_equal(c, whole);
}

/* The property pages will rely on: any single flipped bit in a page changes the CRC. */
static void test_detects_every_single_bit_flip(void **state)
{
    uint8_t page[4096];
    memset(page, 0x5a, sizeof(page));
    uint32_t good = peer_csum(page, sizeof(page));
    for (size_t bit = 0; bit < sizeof(page) * 8; bit += 3) {
        page[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(peer_csum(page, sizeof(page)), good);
        page[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(peer_csum(page, sizeof(page)), good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_rfc3720_vectors),
        cmocka_unit_test(test_table_matches_definition),
        cmocka_unit_test(test_streaming_equals_whole),
        cmocka_unit_test(test_detects_every_single_bit_flip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
