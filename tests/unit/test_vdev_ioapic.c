// unit-sources: kernel/vdev_ioapic.c kernel/string.c
/* The guest IOAPIC: registers through IOREGSEL/IOWIN, read-only bits, edge and level delivery,
 * Remote IRR and both EOI paths, masking, polarity, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/ioapic_regs.h"
#include "kernel/vdev_ioapic.h"

/* Records every message delivered. */
struct sink {
    unsigned count;
    struct vdev_ioapic_msg last;
};

static void deliver(void *ctx, const struct vdev_ioapic_msg *m)
{
    struct sink *s = ctx;
    s->count++;
    s->last = *m;
}

static void reg_write(struct vdev_ioapic *io, struct sink *s, uint8_t reg, uint32_t v)
{
    vdev_ioapic_mmio_write(io, IOAPIC_IOREGSEL, reg, deliver, s);
    vdev_ioapic_mmio_write(io, IOAPIC_IOWIN, v, deliver, s);
}

static uint32_t reg_read(struct vdev_ioapic *io, uint8_t reg)
{
    struct sink none = {0};
    vdev_ioapic_mmio_write(io, IOAPIC_IOREGSEL, reg, deliver, &none);
    assert_int_equal(none.count, 0);
    return vdev_ioapic_mmio_read(io, IOAPIC_IOWIN);
}

static void set_entry(struct vdev_ioapic *io, struct sink *s, unsigned pin, uint64_t e)
{
    reg_write(io, s, (uint8_t)(IOAPIC_REDTBL(pin) + 1), (uint32_t)(e >> 32));
    reg_write(io, s, (uint8_t)IOAPIC_REDTBL(pin), (uint32_t)e);
}

static uint64_t get_entry(struct vdev_ioapic *io, unsigned pin)
{
    return reg_read(io, (uint8_t)IOAPIC_REDTBL(pin)) |
           (uint64_t)reg_read(io, (uint8_t)(IOAPIC_REDTBL(pin) + 1)) << 32;
}

static void irq(struct vdev_ioapic *io, struct sink *s, unsigned pin, bool level)
{
    vdev_ioapic_set_irq(io, pin, level, deliver, s);
}

#define LEVEL IOAPIC_REDIR_LEVEL
#define MASKED IOAPIC_REDIR_MASKED
#define RIRR IOAPIC_REDIR_REMOTE_IRR

static void test_reset_and_id_ver_arb(void **state)
{
    struct vdev_ioapic io;
    struct sink s = {0};
    vdev_ioapic_reset(&io, 4);
    assert_int_equal(vdev_ioapic_mmio_read(&io, IOAPIC_IOREGSEL), 0);
    assert_int_equal(reg_read(&io, IOAPIC_ID), 0x04000000);
    assert_int_equal(reg_read(&io, IOAPIC_VER), 0x00170020);
    assert_int_equal(IOAPIC_VER_MAX_REDIR(reg_read(&io, IOAPIC_VER)), 23);
    assert_int_equal(reg_read(&io, IOAPIC_ARB), 0x04000000);
    for (unsigned pin = 0; pin < VDEV_IOAPIC_PINS; pin++)
        assert_int_equal(get_entry(&io, pin), MASKED);

    /* ID is writable (bits 31:24), ARB follows it, VER and ARB ignore writes. */
    reg_write(&io, &s, IOAPIC_ID, 0x21ffffff);
    assert_int_equal(reg_read(&io, IOAPIC_ID), 0x21000000);
    assert_int_equal(reg_read(&io, IOAPIC_ARB), 0x21000000);
    reg_write(&io, &s, IOAPIC_VER, 0xffffffff);
    reg_write(&io, &s, IOAPIC_ARB, 0x05000000);
    assert_int_equal(reg_read(&io, IOAPIC_VER), 0x00170020);
    assert_int_equal(reg_read(&io, IOAPIC_ARB), 0x21000000);
    assert_int_equal(s.count, 0);
}

static void test_ioregsel_and_unimplemented(void **state)
{
    struct vdev_ioapic io;
    struct sink s = {0};
    vdev_ioapic_reset(&io, 0);
    vdev_ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 0xabcd12, deliver, &s);
    assert_int_equal(vdev_ioapic_mmio_read(&io, IOAPIC_IOREGSEL), 0x12); /* 8 bits */
    /* Registers 0x03-0x0f and past the table (0x40 = REDTBL(24)) read 0 and take no writes. */
    struct vdev_ioapic before = io;
    reg_write(&io, &s, 0x03, 0xffffffff);
    reg_write(&io, &s, 0x0f, 0xffffffff);
    reg_write(&io, &s, 0x40, 0xffffffff);
    reg_write(&io, &s, 0xff, 0xffffffff);
    before.ioregsel = 0xff;
    assert_memory_equal(&before, &io, sizeof io);
    assert_int_equal(reg_read(&io, 0x03), 0);
    assert_int_equal(reg_read(&io, 0x40), 0);
    assert_int_equal(reg_read(&io, 0xff), 0);
    /* Other MMIO offsets read 0 and ignore writes; EOI is write-only. */
    vdev_ioapic_mmio_write(&io, IOAPIC_IOREGSEL, IOAPIC_VER, deliver, &s);
    assert_int_equal(vdev_ioapic_mmio_read(&io, 0x04), 0);
    assert_int_equal(vdev_ioapic_mmio_read(&io, 0x20), 0);
    assert_int_equal(vdev_ioapic_mmio_read(&io, IOAPIC_EOI), 0);
    vdev_ioapic_mmio_write(&io, 0x04, 0x55, deliver, &s);
    vdev_ioapic_mmio_write(&io, 0x20, 0x55, deliver, &s);
    assert_int_equal(vdev_ioapic_mmio_read(&io, IOAPIC_IOREGSEL), IOAPIC_VER);
    assert_int_equal(s.count, 0);
}

static void test_redirection_entries(void **state)
{
    struct vdev_ioapic io;
    struct sink s = {0};
    vdev_ioapic_reset(&io, 0);
    /* Low dword: all writable bits, and the read-only/reserved ones ignored. */
    reg_write(&io, &s, (uint8_t)IOAPIC_REDTBL(3), 0xffffffff);
    assert_int_equal(reg_read(&io, (uint8_t)IOAPIC_REDTBL(3)), 0x0001afff);
    reg_write(&io, &s, (uint8_t)IOAPIC_REDTBL(3), 0x00000931);
    assert_int_equal(reg_read(&io, (uint8_t)IOAPIC_REDTBL(3)), 0x00000931);
    /* High dword: destination only. */
    reg_write(&io, &s, (uint8_t)(IOAPIC_REDTBL(3) + 1), 0xffffffff);
    assert_int_equal(reg_read(&io, (uint8_t)(IOAPIC_REDTBL(3) + 1)), 0xff000000);
    reg_write(&io, &s, (uint8_t)(IOAPIC_REDTBL(3) + 1), 0x03000000);
    assert_int_equal(get_entry(&io, 3), 0x0300000000000931ull);
    /* Neighbours untouched; the last entry is at 0x3e/0x3f. */
    assert_int_equal(get_entry(&io, 2), MASKED);
    assert_int_equal(get_entry(&io, 4), MASKED);
    set_entry(&io, &s, 23, 0x0f000000000000efull | MASKED);
    assert_int_equal(reg_read(&io, 0x3e), 0x000100ef);
    assert_int_equal(reg_read(&io, 0x3f), 0x0f000000);
    assert_int_equal(s.count, 0);

    /* Remote IRR (a level delivery sets it) survives writes that try to clear it. */
    set_entry(&io, &s, 5, LEVEL | 0x45);
    irq(&io, &s, 5, true);
    assert_int_equal(s.count, 1);
    assert_int_equal(get_entry(&io, 5), LEVEL | RIRR | 0x45);
    reg_write(&io, &s, (uint8_t)IOAPIC_REDTBL(5), (uint32_t)(LEVEL | 0x46));
    assert_int_equal(get_entry(&io, 5), LEVEL | RIRR | 0x46);
    /* Delivery status can't be set by a write either. */
    reg_write(&io, &s, (uint8_t)IOAPIC_REDTBL(6), (uint32_t)(IOAPIC_REDIR_DELIVS | MASKED));
    assert_int_equal(get_entry(&io, 6), MASKED);
}

static void test_edge_delivery(void **state)
{
    struct vdev_ioapic io;
    struct sink s = {0};
    vdev_ioapic_reset(&io, 0);
    set_entry(&io, &s, 2, 0x0100000000000830ull); /* logical, dest 1, vector 0x30 */
    assert_int_equal(s.count, 0);
    irq(&io, &s, 2, true);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.last.vector, 0x30);
    assert_int_equal(s.last.delivery_mode, 0);
    assert_true(s.last.logical);
    assert_int_equal(s.last.dest, 1);
    assert_false(s.last.level);
    assert_int_equal(get_entry(&io, 2) & RIRR, 0);
    irq(&io, &s, 2, true); /* no edge */
    assert_int_equal(s.count, 1);
    irq(&io, &s, 2, false);
    assert_int_equal(s.count, 1);
    irq(&io, &s, 2, true);
    assert_int_equal(s.count, 2);
    /* Edge entries need no EOI: every rising edge delivers. */
    irq(&io, &s, 2, false);
    irq(&io, &s, 2, true);
    assert_int_equal(s.count, 3);

    /* An edge on a masked entry is lost, not held until unmask. */
    irq(&io, &s, 2, false);
    set_entry(&io, &s, 2, MASKED | 0x30);
    irq(&io, &s, 2, true);
    set_entry(&io, &s, 2, 0x30);
    assert_int_equal(s.count, 3);

    /* Delivery modes and destination mode go into the message. */
    set_entry(&io, &s, 7, 0xff00000000000000ull | (IOAPIC_DELIVERY_LOWEST << 8) | 0x41);
    irq(&io, &s, 7, true);
    assert_int_equal(s.last.delivery_mode, 1);
    assert_int_equal(s.last.dest, 0xff);
    assert_false(s.last.logical);
    /* Pins past 23 are ignored. */
    irq(&io, &s, 24, true);
    irq(&io, &s, 1000, true);
    assert_int_equal(s.count, 4);
    assert_int_equal(io.lines, (1u << 2) | (1u << 7));
}

static void test_level_remote_irr_and_eoi(void **state)
{
    struct vdev_ioapic io;
    struct sink s = {0};
    vdev_ioapic_reset(&io, 0);
    set_entry(&io, &s, 9, LEVEL | 0x39);
    set_entry(&io, &s, 10, LEVEL | 0x3a);
    irq(&io, &s, 9, true);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.last.vector, 0x39);
    assert_true(s.last.level);
    assert_true(get_entry(&io, 9) & RIRR);
    /* Still asserted, Remote IRR set: nothing more. */
    irq(&io, &s, 9, true);
    assert_int_equal(s.count, 1);
    /* EOI of another vector changes nothing. */
    vdev_ioapic_eoi(&io, 0x3a, deliver, &s);
    assert_int_equal(s.count, 1);
    assert_true(get_entry(&io, 9) & RIRR);
    /* EOI while still asserted: delivered again, Remote IRR set again. */
    vdev_ioapic_eoi(&io, 0x39, deliver, &s);
    assert_int_equal(s.count, 2);
    assert_true(get_entry(&io, 9) & RIRR);
    /* The line drops; the EOI register clears Remote IRR without delivery. */
    irq(&io, &s, 9, false);
    vdev_ioapic_mmio_write(&io, IOAPIC_EOI, 0x39, deliver, &s);
    assert_int_equal(s.count, 2);
    assert_false(get_entry(&io, 9) & RIRR);
    /* The EOI register also redelivers a still-asserted line. */
    irq(&io, &s, 9, true);
    assert_int_equal(s.count, 3);
    vdev_ioapic_mmio_write(&io, IOAPIC_EOI, 0xffffff39, deliver, &s); /* vector = bits 7:0 */
    assert_int_equal(s.count, 4);

    /* Two level entries sharing a vector both get their Remote IRR cleared. */
    set_entry(&io, &s, 10, LEVEL | 0x39);
    irq(&io, &s, 10, true);
    assert_int_equal(s.count, 5);
    irq(&io, &s, 9, false);
    irq(&io, &s, 10, false);
    vdev_ioapic_eoi(&io, 0x39, deliver, &s);
    assert_false(get_entry(&io, 9) & RIRR);
    assert_false(get_entry(&io, 10) & RIRR);
    assert_int_equal(s.count, 5);

    /* Rewriting as edge clears a stuck Remote IRR (Linux's recovery trick). */
    irq(&io, &s, 9, true);
    assert_true(get_entry(&io, 9) & RIRR);
    set_entry(&io, &s, 9, MASKED | 0x39);
    assert_false(get_entry(&io, 9) & RIRR);
}

static void test_masking_while_asserted(void **state)
{
    struct vdev_ioapic io;
    struct sink s = {0};
    vdev_ioapic_reset(&io, 0);
    set_entry(&io, &s, 11, MASKED | LEVEL | 0x3b);
    irq(&io, &s, 11, true);
    assert_int_equal(s.count, 0);
    assert_false(get_entry(&io, 11) & RIRR);
    /* Unmasking the asserted line delivers at once. */
    set_entry(&io, &s, 11, LEVEL | 0x3b);
    assert_int_equal(s.count, 1);
    assert_true(get_entry(&io, 11) & RIRR);
    /* Mask, EOI, unmask: redelivered on the unmask, not at the EOI. */
    set_entry(&io, &s, 11, MASKED | LEVEL | 0x3b);
    vdev_ioapic_eoi(&io, 0x3b, deliver, &s);
    assert_int_equal(s.count, 1);
    assert_false(get_entry(&io, 11) & RIRR);
    set_entry(&io, &s, 11, LEVEL | 0x3b);
    assert_int_equal(s.count, 2);
    /* A line that fell while masked does not deliver on unmask. */
    set_entry(&io, &s, 11, MASKED | LEVEL | 0x3b);
    vdev_ioapic_eoi(&io, 0x3b, deliver, &s);
    irq(&io, &s, 11, false);
    set_entry(&io, &s, 11, LEVEL | 0x3b);
    assert_int_equal(s.count, 2);
    /* Switching an asserted pin's entry from edge to level delivers (level is a state). */
    set_entry(&io, &s, 12, 0x3c);
    irq(&io, &s, 12, true);
    assert_int_equal(s.count, 3);
    set_entry(&io, &s, 12, LEVEL | 0x3c);
    assert_int_equal(s.count, 4);
    assert_true(s.last.level);
}

static void test_polarity(void **state)
{
    struct vdev_ioapic io;
    struct sink s = {0};
    vdev_ioapic_reset(&io, 0);
    /* Active-low level entry: a high pin is idle, a low one asserted. */
    irq(&io, &s, 16, true);
    set_entry(&io, &s, 16, IOAPIC_REDIR_ACTIVE_LOW | LEVEL | 0x50);
    assert_int_equal(s.count, 0);
    irq(&io, &s, 16, false);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.last.vector, 0x50);
    irq(&io, &s, 16, true);
    vdev_ioapic_eoi(&io, 0x50, deliver, &s);
    assert_int_equal(s.count, 1);
    /* Programmed active-low while the pin is low (idle PC state): asserted at once. */
    set_entry(&io, &s, 17, IOAPIC_REDIR_ACTIVE_LOW | LEVEL | 0x51);
    assert_int_equal(s.count, 2);
    /* Active-low edge: the falling edge delivers, the rising one does not. */
    set_entry(&io, &s, 18, IOAPIC_REDIR_ACTIVE_LOW | 0x52);
    irq(&io, &s, 18, true);
    assert_int_equal(s.count, 2);
    irq(&io, &s, 18, false);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.last.vector, 0x52);
}

static void test_edge_only_delivery_modes(void **state)
{
    struct vdev_ioapic io;
    struct sink s = {0};
    vdev_ioapic_reset(&io, 0);
    /* NMI with the trigger bit set still behaves as edge: no Remote IRR, message edge. */
    set_entry(&io, &s, 1, LEVEL | (IOAPIC_DELIVERY_NMI << 8));
    irq(&io, &s, 1, true);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.last.delivery_mode, 4);
    assert_false(s.last.level);
    assert_false(get_entry(&io, 1) & RIRR);
    irq(&io, &s, 1, true);
    assert_int_equal(s.count, 1);
    /* ExtINT, INIT, SMI go out with their mode. */
    set_entry(&io, &s, 0, IOAPIC_DELIVERY_EXTINT << 8);
    irq(&io, &s, 0, true);
    assert_int_equal(s.last.delivery_mode, 7);
    set_entry(&io, &s, 3, IOAPIC_DELIVERY_INIT << 8);
    irq(&io, &s, 3, true);
    assert_int_equal(s.last.delivery_mode, 5);
    set_entry(&io, &s, 4, IOAPIC_DELIVERY_SMI << 8);
    irq(&io, &s, 4, true);
    assert_int_equal(s.last.delivery_mode, 2);
    assert_int_equal(s.count, 4);
    /* Reserved modes are not delivered. */
    set_entry(&io, &s, 5, 3u << 8);
    set_entry(&io, &s, 6, 6u << 8);
    irq(&io, &s, 5, true);
    irq(&io, &s, 6, true);
    assert_int_equal(s.count, 4);
}

static void test_save_restore(void **state)
{
    struct vdev_ioapic io, q;
    struct sink s = {0};
    struct vdev_ioapic_state st;
    vdev_ioapic_reset(&io, 2);
    set_entry(&io, &s, 9, 0x0100000000000000ull | LEVEL | 0x39);
    set_entry(&io, &s, 4, 0x34);
    irq(&io, &s, 9, true);
    irq(&io, &s, 4, true);
    vdev_ioapic_mmio_write(&io, IOAPIC_IOREGSEL, 0x22, deliver, &s);
    assert_int_equal(s.count, 2);

    vdev_ioapic_save(&io, &st);
    vdev_ioapic_reset(&q, 0);
    assert_int_equal(vdev_ioapic_restore(&q, &st), 0);
    assert_memory_equal(&io, &q, sizeof q);
    /* The restored model carries on: EOI redelivers the asserted level line. */
    vdev_ioapic_eoi(&q, 0x39, deliver, &s);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.last.dest, 1);

    struct vdev_ioapic before = q;
    struct vdev_ioapic_state bad = st;
    bad.version = 2;
    assert_int_equal(vdev_ioapic_restore(&q, &bad), -1);
    bad = st;
    bad.reserved = 1;
    assert_int_equal(vdev_ioapic_restore(&q, &bad), -1);
    bad = st;
    bad.io.lines |= 1u << 24; /* no pin 24 */
    assert_int_equal(vdev_ioapic_restore(&q, &bad), -1);
    bad = st;
    bad.io.redir[3] |= 1ull << 17; /* reserved bit */
    assert_int_equal(vdev_ioapic_restore(&q, &bad), -1);
    bad = st;
    bad.io.redir[3] |= 1ull << 40; /* reserved bit in the high dword */
    assert_int_equal(vdev_ioapic_restore(&q, &bad), -1);
    bad = st;
    bad.io.redir[3] |= IOAPIC_REDIR_DELIVS;
    assert_int_equal(vdev_ioapic_restore(&q, &bad), -1);
    bad = st;
    bad.io.redir[4] |= RIRR; /* Remote IRR on an edge entry */
    assert_int_equal(vdev_ioapic_restore(&q, &bad), -1);
    bad = st;
    bad.io.redir[9] &= ~RIRR; /* asserted, unmasked level entry that never delivered */
    assert_int_equal(vdev_ioapic_restore(&q, &bad), -1);
    bad = st;
    bad.io.reserved[1] = 1;
    assert_int_equal(vdev_ioapic_restore(&q, &bad), -1);
    assert_memory_equal(&before, &q, sizeof q);
    /* ...but the same entry masked is a fine state. */
    bad = st;
    bad.io.redir[9] = (bad.io.redir[9] & ~RIRR) | MASKED;
    assert_int_equal(vdev_ioapic_restore(&q, &bad), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_and_id_ver_arb),
        cmocka_unit_test(test_ioregsel_and_unimplemented),
        cmocka_unit_test(test_redirection_entries),
        cmocka_unit_test(test_edge_delivery),
        cmocka_unit_test(test_level_remote_irr_and_eoi),
        cmocka_unit_test(test_masking_while_asserted),
        cmocka_unit_test(test_polarity),
        cmocka_unit_test(test_edge_only_delivery_modes),
        cmocka_unit_test(test_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
