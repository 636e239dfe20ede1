// unit-sources: kernel/vdev_pci.c kernel/string.c
/* PCI configuration mechanism 1: the host bridge at every width and offset, absent functions,
 * the enable bit, read-only registers, CONFIG_ADDRESS read-back, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vdev_pci.h"

#define ADDR(bus, dev, fn, reg) (0x80000000u | (bus) << 16 | (dev) << 11 | (fn) << 8 | (reg))

static void out(struct vdev_pci *p, uint16_t port, unsigned size, uint32_t v)
{
    assert_true(vdev_pci_io(p, port, size, true, &v));
}

static uint32_t in(struct vdev_pci *p, uint16_t port, unsigned size)
{
    uint32_t v = 0x5a5a5a5a;
    assert_true(vdev_pci_io(p, port, size, false, &v));
    return v;
}

/* dword reg of 00:00.0 seen through every width and offset must agree with expect. */
static void check_all_widths(struct vdev_pci *p, uint32_t address, uint32_t expect)
{
    out(p, 0xcf8, 4, address);
    assert_int_equal(in(p, 0xcfc, 4), expect);
    for (unsigned b = 0; b < 4; b++)
        assert_int_equal(in(p, (uint16_t)(0xcfc + b), 1), (expect >> (b * 8)) & 0xff);
    for (unsigned b = 0; b < 3; b++)
        assert_int_equal(in(p, (uint16_t)(0xcfc + b), 2), (expect >> (b * 8)) & 0xffff);
}

static void test_host_bridge_ids(void **state)
{
    struct vdev_pci p;
    vdev_pci_reset(&p);
    check_all_widths(&p, ADDR(0, 0, 0, 0x00), 0x12378086);
    check_all_widths(&p, ADDR(0, 0, 0, 0x04), 0x02800006);
    check_all_widths(&p, ADDR(0, 0, 0, 0x08), 0x06000000);
    check_all_widths(&p, ADDR(0, 0, 0, 0x0c), 0); /* header type 0, single function */
    for (unsigned reg = 0x10; reg < 0x100; reg += 4)
        check_all_widths(&p, ADDR(0, 0, 0, reg), 0);
    /* An access straddling 0xcff is no configuration access. */
    out(&p, 0xcf8, 4, ADDR(0, 0, 0, 0));
    assert_int_equal(in(&p, 0xcfd, 4), 0xffffffff);
    assert_int_equal(in(&p, 0xcff, 2), 0xffff);
    (void)state;
}

static void test_absent_devices(void **state)
{
    struct vdev_pci p;
    vdev_pci_reset(&p);
    const uint32_t addrs[] = {ADDR(0, 1, 0, 0), ADDR(0, 0, 1, 0), ADDR(1, 0, 0, 0),
                              ADDR(255, 31, 7, 0), ADDR(0, 31, 0, 0x08)};
    for (unsigned i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        out(&p, 0xcf8, 4, addrs[i]);
        assert_int_equal(in(&p, 0xcfc, 4), 0xffffffff);
        assert_int_equal(in(&p, 0xcfe, 2), 0xffff);
        assert_int_equal(in(&p, 0xcfd, 1), 0xff);
        out(&p, 0xcfc, 4, 0); /* ignored, no crash */
    }
    (void)state;
}

static void test_enable_bit_clear(void **state)
{
    struct vdev_pci p;
    vdev_pci_reset(&p);
    out(&p, 0xcf8, 4, 0x00000000); /* 00:00.0 reg 0 but disabled */
    assert_int_equal(in(&p, 0xcfc, 4), 0xffffffff);
    assert_int_equal(in(&p, 0xcfc, 1), 0xff);
    out(&p, 0xcf8, 4, 0x00000004);
    out(&p, 0xcfc, 2, 0);
    out(&p, 0xcf8, 4, ADDR(0, 0, 0, 4));
    assert_int_equal(in(&p, 0xcfc, 2), 0x0006); /* the disabled write went nowhere */
    (void)state;
}

static void test_writes(void **state)
{
    struct vdev_pci p;
    vdev_pci_reset(&p);
    /* Read-only: IDs, class, status, BARs. */
    out(&p, 0xcf8, 4, ADDR(0, 0, 0, 0));
    out(&p, 0xcfc, 4, 0);
    out(&p, 0xcfe, 1, 0x55);
    assert_int_equal(in(&p, 0xcfc, 4), 0x12378086);
    out(&p, 0xcf8, 4, ADDR(0, 0, 0, 8));
    out(&p, 0xcfc, 4, 0xffffffff);
    assert_int_equal(in(&p, 0xcfc, 4), 0x06000000);
    out(&p, 0xcf8, 4, ADDR(0, 0, 0, 0x10));
    out(&p, 0xcfc, 4, 0xffffffff);
    assert_int_equal(in(&p, 0xcfc, 4), 0);
    /* Command: memory and bus master writable, the rest and status fixed. */
    out(&p, 0xcf8, 4, ADDR(0, 0, 0, 4));
    out(&p, 0xcfc, 4, 0xffff0000);
    assert_int_equal(in(&p, 0xcfc, 4), 0x02800000);
    out(&p, 0xcfc, 2, 0xffff);
    assert_int_equal(in(&p, 0xcfc, 4), 0x02800006);
    out(&p, 0xcfc, 1, 0x02);
    assert_int_equal(in(&p, 0xcfc, 2), 0x0002);
    out(&p, 0xcfd, 1, 0xff); /* high command byte: nothing writable */
    out(&p, 0xcfe, 2, 0x0000);
    assert_int_equal(in(&p, 0xcfc, 4), 0x02800002);
    (void)state;
}

static void test_address_register(void **state)
{
    struct vdev_pci p;
    vdev_pci_reset(&p);
    assert_int_equal(in(&p, 0xcf8, 4), 0);
    out(&p, 0xcf8, 4, 0x8012345f);
    assert_int_equal(in(&p, 0xcf8, 4), 0x8012345c);
    /* Non-dword CONFIG_ADDRESS accesses are not mechanism 1's. */
    uint32_t v = 0;
    assert_false(vdev_pci_io(&p, 0xcf8, 1, true, &v));
    assert_false(vdev_pci_io(&p, 0xcf9, 1, false, &v));
    assert_false(vdev_pci_io(&p, 0xcf8, 2, false, &v));
    assert_false(vdev_pci_io(&p, 0xcfc, 3, false, &v));
    assert_false(vdev_pci_io(&p, 0xcf7, 1, false, &v));
    assert_false(vdev_pci_io(&p, 0xd00, 1, false, &v));
    assert_int_equal(in(&p, 0xcf8, 4), 0x8012345c);
    (void)state;
}

static void test_save_restore(void **state)
{
    struct vdev_pci p, q;
    struct vdev_pci_state s, bad;
    vdev_pci_reset(&p);
    out(&p, 0xcf8, 4, ADDR(0, 0, 0, 4));
    out(&p, 0xcfc, 2, 0x0004);
    vdev_pci_save(&p, &s);
    vdev_pci_reset(&q);
    assert_int_equal(vdev_pci_restore(&q, &s), 0);
    assert_int_equal(in(&q, 0xcf8, 4), ADDR(0, 0, 0, 4));
    assert_int_equal(in(&q, 0xcfc, 4), 0x02800004);

    vdev_pci_reset(&q);
    bad = s;
    bad.version = 99;
    assert_int_equal(vdev_pci_restore(&q, &bad), -1);
    bad = s;
    bad.pci.config_address |= 1;
    assert_int_equal(vdev_pci_restore(&q, &bad), -1);
    bad = s;
    bad.pci.host_command = 0x0400;
    assert_int_equal(vdev_pci_restore(&q, &bad), -1);
    bad = s;
    bad.pci.reserved = 1;
    assert_int_equal(vdev_pci_restore(&q, &bad), -1);
    assert_int_equal(in(&q, 0xcf8, 4), 0); /* unchanged */
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_bridge_ids),  cmocka_unit_test(test_absent_devices),
        cmocka_unit_test(test_enable_bit_clear), cmocka_unit_test(test_writes),
        cmocka_unit_test(test_address_register), cmocka_unit_test(test_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
