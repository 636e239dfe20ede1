// unit-sources: kernel/vdev_fwcfg.c kernel/string.c
/* fw_cfg traditional interface: signature, ID, RAM size, CPU counts, reading past the end,
 * unknown keys, reselecting rewinds, foreign ports and sizes, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vdev_fwcfg.h"

static void select_key(struct vdev_fwcfg *f, uint16_t key)
{
    uint32_t v = key;
    assert_true(vdev_fwcfg_io(f, 0x510, 2, true, &v));
}

static uint8_t data(struct vdev_fwcfg *f)
{
    uint32_t v = 0x5a5a5a5a;
    assert_true(vdev_fwcfg_io(f, 0x511, 1, false, &v));
    assert_true(v <= 0xff);
    return (uint8_t)v;
}

static void read_bytes(struct vdev_fwcfg *f, uint16_t key, uint8_t *buf, unsigned n)
{
    select_key(f, key);
    for (unsigned i = 0; i < n; i++)
        buf[i] = data(f);
}

static void test_signature_and_id(void **state)
{
    struct vdev_fwcfg f;
    uint8_t b[8];
    vdev_fwcfg_reset(&f, 256u << 20, 1);
    read_bytes(&f, 0x0000, b, 6);
    assert_memory_equal(b, "QEMU\0\0", 6);
    read_bytes(&f, 0x0001, b, 5);
    assert_memory_equal(b, "\x01\0\0\0\0", 5); /* traditional only, no DMA */
    (void)state;
}

static void test_ram_size_and_cpus(void **state)
{
    struct vdev_fwcfg f;
    uint8_t b[10];
    vdev_fwcfg_reset(&f, 256u << 20, 3);
    read_bytes(&f, 0x0003, b, 10);
    assert_memory_equal(b, "\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00", 10);
    read_bytes(&f, 0x0005, b, 3);
    assert_memory_equal(b, "\x03\x00\x00", 3);
    read_bytes(&f, 0x000f, b, 3);
    assert_memory_equal(b, "\x03\x00\x00", 3);
    vdev_fwcfg_reset(&f, 0x123456789abcdef0ull, 0x0102);
    read_bytes(&f, 0x0003, b, 8);
    assert_memory_equal(b, "\xf0\xde\xbc\x9a\x78\x56\x34\x12", 8);
    read_bytes(&f, 0x0005, b, 2);
    assert_memory_equal(b, "\x02\x01", 2);
    (void)state;
}

static void test_unknown_and_rewind(void **state)
{
    struct vdev_fwcfg f;
    uint8_t b[4];
    vdev_fwcfg_reset(&f, 256u << 20, 1);
    const uint16_t unknown[] = {0x0002, 0x0004, 0x0019, 0x8000, 0x4000, 0xffff};
    for (unsigned i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        read_bytes(&f, unknown[i], b, 4);
        assert_memory_equal(b, "\0\0\0\0", 4);
    }
    /* Reselecting rewinds; a partial read does not carry over. */
    read_bytes(&f, 0x0000, b, 2);
    assert_memory_equal(b, "QE", 2);
    read_bytes(&f, 0x0000, b, 4);
    assert_memory_equal(b, "QEMU", 4);
    /* Data writes are ignored and do not advance. */
    read_bytes(&f, 0x0000, b, 1);
    uint32_t v = 0x41;
    assert_true(vdev_fwcfg_io(&f, 0x511, 1, true, &v));
    assert_int_equal(data(&f), 'E');
    /* The selector reads 0. */
    v = 0x1234;
    assert_true(vdev_fwcfg_io(&f, 0x510, 2, false, &v));
    assert_int_equal(v, 0);
    (void)state;
}

static void test_foreign(void **state)
{
    struct vdev_fwcfg f;
    vdev_fwcfg_reset(&f, 256u << 20, 1);
    uint32_t v = 5;
    assert_false(vdev_fwcfg_io(&f, 0x510, 1, true, &v));
    assert_false(vdev_fwcfg_io(&f, 0x510, 4, true, &v));
    assert_false(vdev_fwcfg_io(&f, 0x511, 2, false, &v));
    assert_false(vdev_fwcfg_io(&f, 0x512, 1, false, &v));
    assert_false(vdev_fwcfg_io(&f, 0x50f, 1, false, &v));
    assert_int_equal(data(&f), 'Q'); /* still the signature, from the start */
    (void)state;
}

static void test_save_restore(void **state)
{
    struct vdev_fwcfg f, g;
    struct vdev_fwcfg_state s, bad;
    uint8_t b[2];
    vdev_fwcfg_reset(&f, 256u << 20, 2);
    read_bytes(&f, 0x0000, b, 2);
    vdev_fwcfg_save(&f, &s);
    vdev_fwcfg_reset(&g, 1u << 20, 1);
    assert_int_equal(vdev_fwcfg_restore(&g, &s), 0);
    assert_int_equal(data(&g), 'M');
    assert_int_equal(data(&g), 'U');
    assert_int_equal(data(&g), 0);
    read_bytes(&g, 0x0005, b, 2);
    assert_memory_equal(b, "\x02\x00", 2);

    vdev_fwcfg_reset(&g, 1u << 20, 1);
    bad = s;
    bad.version = 0;
    assert_int_equal(vdev_fwcfg_restore(&g, &bad), -1);
    bad = s;
    bad.reserved = 7;
    assert_int_equal(vdev_fwcfg_restore(&g, &bad), -1);
    bad = s;
    bad.fwcfg.cpus = 0;
    assert_int_equal(vdev_fwcfg_restore(&g, &bad), -1);
    bad = s;
    bad.fwcfg.offset = 5; /* past the 4-byte signature */
    assert_int_equal(vdev_fwcfg_restore(&g, &bad), -1);
    bad = s;
    bad.fwcfg.selector = 0x1234;
    bad.fwcfg.offset = 1; /* an unknown item has no bytes */
    assert_int_equal(vdev_fwcfg_restore(&g, &bad), -1);
    bad.fwcfg.offset = 0;
    assert_int_equal(vdev_fwcfg_restore(&g, &bad), 0);
    assert_int_equal(data(&g), 0);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_and_id),   cmocka_unit_test(test_ram_size_and_cpus),
        cmocka_unit_test(test_unknown_and_rewind), cmocka_unit_test(test_foreign),
        cmocka_unit_test(test_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
