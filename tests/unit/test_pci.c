// unit-sources: kernel/pci.c kernel/format.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/pci.h"

/* A fake bus: a few functions with their configuration space and BAR size masks. */
struct fake_fn {
    uint8_t bus, dev, fn;
    uint8_t cfg[256];
    uint32_t bar_mask[6]; /* writable address bits of each BAR dword (0: unimplemented) */
    uint32_t bar_ro[6];   /* read-only type bits (none in the upper half of a 64-bit BAR) */
    unsigned cmd_writes_with_decode; /* BAR writes while I/O or memory decode was on */
};

struct fake_bus {
    struct fake_fn fns[8];
    unsigned n;
    unsigned reads;
};

static struct fake_fn *find(struct fake_bus *b, uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->fns[i].bus == bus && b->fns[i].dev == dev && b->fns[i].fn == fn)
            return &b->fns[i];
    return NULL;
}

static uint32_t fake_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    struct fake_bus *b = ctx;
    b->reads++;
    assert_int_equal(off & 3, 0);
    struct fake_fn *f = find(b, bus, dev, fn);
    if (!f)
        return 0xffffffffu;
    uint32_t v;
    memcpy(&v, f->cfg + off, 4);
    return v;
}

static void fake_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
    struct fake_fn *f = find(ctx, bus, dev, fn);
    assert_non_null(f);
    if (off >= 0x10 && off < 0x28) {
        unsigned i = (off - 0x10) / 4;
        if (f->cfg[PCI_COMMAND] & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
            f->cmd_writes_with_decode++;
        v = (v & f->bar_mask[i]) | f->bar_ro[i];
    } else if (off == PCI_COMMAND) {
        v &= 0xffff; /* status is read-only here (RW1C bits: writing zeros changes nothing) */
        uint32_t old;
        memcpy(&old, f->cfg + off, 4);
        v |= old & 0xffff0000u;
    }
    memcpy(f->cfg + off, &v, 4);
}

static void put16(struct fake_fn *f, unsigned off, uint16_t v) { memcpy(f->cfg + off, &v, 2); }
static void put32(struct fake_fn *f, unsigned off, uint32_t v) { memcpy(f->cfg + off, &v, 4); }

static struct fake_fn *add(struct fake_bus *b, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor,
                           uint16_t device, uint32_t class_rev, uint8_t htype)
{
    struct fake_fn *f = &b->fns[b->n++];
    memset(f, 0, sizeof(*f));
    f->bus = bus, f->dev = dev, f->fn = fn;
    put16(f, 0, vendor);
    put16(f, 2, device);
    put32(f, 8, class_rev);
    f->cfg[PCI_HEADER_TYPE] = htype;
    return f;
}

static struct pci_config_access acc_for(struct fake_bus *b)
{
    return (struct pci_config_access){.read32 = fake_read, .write32 = fake_write, .ctx = b};
}

/* The e1000 as QEMU shows it: 128 KiB memory BAR0, 64-byte I/O BAR1, INTA on IRQ 11. */
static struct fake_fn *add_e1000(struct fake_bus *b)
{
    struct fake_fn *f = add(b, 0, 3, 0, 0x8086, 0x100e, 0x02000003, 0);
    put32(f, 0x10, 0xfebc0000);
    f->bar_mask[0] = ~(128u * 1024 - 1) & ~0xfu;
    put32(f, 0x14, 0xc001);
    f->bar_mask[1] = ~(64u - 1) & ~3u;
    f->bar_ro[1] = PCI_BAR_IO;
    put16(f, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    f->cfg[PCI_INTERRUPT_LINE] = 11;
    f->cfg[PCI_INTERRUPT_PIN] = 1;
    put16(f, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    put16(f, PCI_SUBSYSTEM_ID, 0x1100);
    return f;
}

static void test_e1000_function(void **state)
{
    struct fake_bus b = {0};
    struct fake_fn *f = add_e1000(&b);
    struct pci_config_access acc = acc_for(&b);
    struct pci_device d;
    assert_true(pci_probe_function(&acc, 0, 3, 0, &d));
    assert_int_equal(d.vendor, 0x8086);
    assert_int_equal(d.device, 0x100e);
    assert_int_equal(d.class_code, 0x020000);
    assert_int_equal(d.revision, 3);
    assert_int_equal(d.header_type, 0);
    assert_false(d.multifunction);
    assert_int_equal(d.subsys_vendor, 0x1af4);
    assert_int_equal(d.irq_line, 11);
    assert_int_equal(d.irq_pin, 1);
    assert_int_equal(d.bars[0].kind, PCI_BAR_KIND_MEM32);
    assert_int_equal(d.bars[0].addr, 0xfebc0000);
    assert_int_equal(d.bars[0].size, 128 * 1024);
    assert_false(d.bars[0].prefetchable);
    assert_int_equal(d.bars[1].kind, PCI_BAR_KIND_IO);
    assert_int_equal(d.bars[1].addr, 0xc000);
    assert_int_equal(d.bars[1].size, 64);
    for (int i = 2; i < 6; i++)
        assert_int_equal(d.bars[i].kind, PCI_BAR_NONE);
    /* Sizing restored the BARs and the command register, and never ran with decode on. */
    uint32_t v;
    memcpy(&v, f->cfg + 0x10, 4);
    assert_int_equal(v, 0xfebc0000);
    memcpy(&v, f->cfg + 0x14, 4);
    assert_int_equal(v, 0xc001);
    assert_int_equal(f->cfg[PCI_COMMAND], PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(f->cmd_writes_with_decode, 0);
    assert_int_equal(d.cap_count, 0);
}

static void test_64bit_prefetchable_bar(void **state)
{
    struct fake_bus b = {0};
    struct fake_fn *f = add(&b, 0, 4, 0, 0x1b36, 0x0010, 0x01080200, 0);
    put32(f, 0x10, 0x0000000c | 0xe0000000); /* 64-bit, prefetchable */
    put32(f, 0x14, 0x00000008);              /* at 0x8_e0000000 */
    f->bar_mask[0] = ~(16u * 1024 * 1024 - 1) & ~0xfu;
    f->bar_mask[1] = 0xffffffffu;
    f->bar_ro[0] = 0xc;
    struct pci_config_access acc = acc_for(&b);
    struct pci_device d;
    assert_true(pci_probe_function(&acc, 0, 4, 0, &d));
    assert_int_equal(d.bars[0].kind, PCI_BAR_KIND_MEM64);
    assert_true(d.bars[0].prefetchable);
    assert_int_equal(d.bars[0].addr, 0x8e0000000ull);
    assert_int_equal(d.bars[0].size, 16 * 1024 * 1024);
    assert_int_equal(d.bars[1].kind, PCI_BAR_NONE); /* the upper half */
    uint32_t v;
    memcpy(&v, f->cfg + 0x14, 4);
    assert_int_equal(v, 8);
}

static void test_capability_list_and_loop(void **state)
{
    struct fake_bus b = {0};
    struct fake_fn *f = add(&b, 0, 5, 0, 0x8086, 0x10d3, 0x02000000, 0);
    put16(f, PCI_STATUS, PCI_STATUS_CAP_LIST);
    f->cfg[PCI_CAPABILITIES_PTR] = 0x40;
    f->cfg[0x40] = PCI_CAP_ID_PM, f->cfg[0x41] = 0x50;
    f->cfg[0x50] = PCI_CAP_ID_MSI, f->cfg[0x51] = 0xa0;
    f->cfg[0xa0] = PCI_CAP_ID_EXP, f->cfg[0xa1] = 0x00;
    struct pci_config_access acc = acc_for(&b);
    struct pci_device d;
    assert_true(pci_probe_function(&acc, 0, 5, 0, &d));
    assert_int_equal(d.cap_count, 3);
    assert_false(d.cap_list_broken);
    assert_int_equal(pci_find_cap(&d, PCI_CAP_ID_MSI), 0x50);
    assert_int_equal(pci_find_cap(&d, PCI_CAP_ID_EXP), 0xa0);
    assert_int_equal(pci_find_cap(&d, PCI_CAP_ID_MSIX), 0);

    /* A loop back to 0x50 ends the walk, marked broken, with each capability once. */
    f->cfg[0xa1] = 0x50;
    assert_true(pci_probe_function(&acc, 0, 5, 0, &d));
    assert_int_equal(d.cap_count, 3);
    assert_true(d.cap_list_broken);
    /* A pointer into the header is refused. */
    f->cfg[0xa1] = 0x10;
    assert_true(pci_probe_function(&acc, 0, 5, 0, &d));
    assert_int_equal(d.cap_count, 3);
    assert_true(d.cap_list_broken);
    /* Without the status bit the pointer is not followed. */
    put16(f, PCI_STATUS, 0);
    assert_true(pci_probe_function(&acc, 0, 5, 0, &d));
    assert_int_equal(d.cap_count, 0);
}

static void test_enumerate_multifunction_and_buses(void **state)
{
    struct fake_bus b = {0};
    add(&b, 0, 0, 0, 0x8086, 0x1237, 0x06000002, 0);
    add(&b, 0, 1, 0, 0x8086, 0x7000, 0x06010000, 0x80); /* multi-function */
    add(&b, 0, 1, 1, 0x8086, 0x7010, 0x01018000, 0);
    add(&b, 0, 1, 3, 0x8086, 0x7113, 0x06800003, 0);
    add(&b, 0, 2, 0, 0x1234, 0x1111, 0x03000002, 0);
    add(&b, 0, 2, 1, 0x1234, 0x2222, 0x03000002, 0);      /* single-function: not probed */
    struct fake_fn *br = add(&b, 0, 6, 0, 0x1b36, 0x0001, 0x06040000, 1);
    br->cfg[PCI_SECONDARY_BUS] = 7, br->cfg[PCI_SUBORDINATE_BUS] = 7;
    add(&b, 7, 0, 0, 0x8086, 0x100e, 0x02000003, 0);      /* behind the bridge */
    struct pci_config_access acc = acc_for(&b);
    struct pci_device devs[16];
    size_t n;
    pci_enumerate(&acc, devs, 16, &n);
    assert_int_equal(n, 7);
    assert_int_equal(devs[1].dev, 1);
    assert_true(devs[1].multifunction);
    assert_int_equal(devs[2].fn, 1);
    assert_int_equal(devs[3].fn, 3);
    assert_int_equal(devs[4].device, 0x1111);
    assert_int_equal(devs[5].header_type, PCI_HEADER_TYPE_BRIDGE);
    assert_int_equal(devs[5].secondary_bus, 7);
    assert_int_equal(devs[5].bar_count, 2);
    assert_int_equal(devs[6].bus, 7);
    /* Brute force over every bus: 256 x 32 function-0 probes plus the functions of dev 0:1. */
    assert_true(b.reads >= 256 * 32);

    /* More functions than room: the count is still right. */
    pci_enumerate(&acc, devs, 3, &n);
    assert_int_equal(n, 7);
    assert_int_equal(devs[2].fn, 1);
}

static void test_command_write_keeps_status(void **state)
{
    struct fake_bus b = {0};
    struct fake_fn *f = add_e1000(&b);
    put16(f, PCI_STATUS, 0x0290);
    struct pci_config_access acc = acc_for(&b);
    pci_write16(&acc, 0, 3, 0, PCI_COMMAND, 0x0406);
    assert_int_equal(pci_read16(&acc, 0, 3, 0, PCI_COMMAND), 0x0406);
    assert_int_equal(pci_read16(&acc, 0, 3, 0, PCI_STATUS), 0x0290);
    assert_int_equal(pci_read8(&acc, 0, 3, 0, PCI_INTERRUPT_PIN), 1);
    pci_write16(&acc, 0, 3, 0, 0x3e, 0x1234); /* upper half of a dword: lower kept */
    assert_int_equal(pci_read8(&acc, 0, 3, 0, PCI_INTERRUPT_LINE), 11);
    assert_int_equal(pci_read16(&acc, 0, 3, 0, 0x3e), 0x1234);
}

static void test_absent_and_unsized(void **state)
{
    struct fake_bus b = {0};
    struct pci_config_access acc = acc_for(&b);
    struct pci_device d;
    assert_false(pci_probe_function(&acc, 0, 9, 0, &d));
    struct fake_fn *f = add(&b, 0, 9, 0, 0x8086, 0x1234, 0, 2); /* CardBus: no BARs walked */
    (void)f;
    assert_true(pci_probe_function(&acc, 0, 9, 0, &d));
    assert_int_equal(d.bar_count, 0);
}

static void test_format_size(void **state)
{
    char buf[16];
    pci_format_size(128 * 1024, buf, sizeof(buf));
    assert_string_equal(buf, "128K");
    pci_format_size(16ull << 20, buf, sizeof(buf));
    assert_string_equal(buf, "16M");
    pci_format_size(64, buf, sizeof(buf));
    assert_string_equal(buf, "64");
    pci_format_size(4ull << 30, buf, sizeof(buf));
    assert_string_equal(buf, "4G");
    pci_format_size(1536, buf, sizeof(buf));
    assert_string_equal(buf, "1536");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e1000_function),
        cmocka_unit_test(test_64bit_prefetchable_bar),
        cmocka_unit_test(test_capability_list_and_loop),
        cmocka_unit_test(test_enumerate_multifunction_and_buses),
        cmocka_unit_test(test_command_write_keeps_status),
        cmocka_unit_test(test_absent_and_unsized),
        cmocka_unit_test(test_format_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
