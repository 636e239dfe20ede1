// unit-sources: kernel/vdev_pic.c kernel/string.c
/* The guest 8259A pair: initialisation as Linux and a simple guest write it, masking,
 * priority, cascade, EOI kinds, edge/level, spurious 7/15, AEOI, OCW3 reads, poll mode,
 * save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vdev_pic.h"

static void out(struct vdev_pic *p, uint16_t port, uint8_t v)
{
    assert_true(vdev_pic_io(p, port, true, &v));
}

static uint8_t in(struct vdev_pic *p, uint16_t port)
{
    uint8_t v = 0x5a;
    assert_true(vdev_pic_io(p, port, false, &v));
    return v;
}

/* arch/x86/kernel/i8259.c init_8259A order: mask, ICW1-4 master, ICW1-4 slave, unmask. */
static void linux_init(struct vdev_pic *p, bool aeoi)
{
    vdev_pic_reset(p);
    out(p, 0x21, 0xff);
    out(p, 0xa1, 0xff);
    out(p, 0x20, 0x11);
    out(p, 0x21, 0x30);
    out(p, 0x21, 1u << 2);
    out(p, 0x21, aeoi ? 0x03 : 0x01);
    out(p, 0xa0, 0x11);
    out(p, 0xa1, 0x38);
    out(p, 0xa1, 2);
    out(p, 0xa1, 0x01);
    out(p, 0x21, 0x00);
    out(p, 0xa1, 0x00);
}

static void pulse(struct vdev_pic *p, unsigned irq)
{
    vdev_pic_set_irq(p, irq, true);
    vdev_pic_set_irq(p, irq, false);
}

static void test_linux_init_and_delivery(void **state)
{
    struct vdev_pic p;
    linux_init(&p, false);
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
    pulse(&p, 0);
    assert_int_equal(vdev_pic_pending_vector(&p), 0x30);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x30);
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
    out(&p, 0x20, 0x0b); /* OCW3: read ISR */
    assert_int_equal(in(&p, 0x20), 0x01);
    out(&p, 0x20, 0x20); /* non-specific EOI */
    assert_int_equal(in(&p, 0x20), 0x00);
    assert_int_equal(in(&p, 0x21), 0x00);
}

static void test_simple_guest_init_without_icw4(void **state)
{
    struct vdev_pic p;
    vdev_pic_reset(&p);
    out(&p, 0x20, 0x12); /* ICW1: single, no ICW4 */
    out(&p, 0x21, 0x47); /* ICW2: low bits ignored */
    out(&p, 0x21, 0xfe); /* now OCW1 */
    assert_int_equal(in(&p, 0x21), 0xfe);
    vdev_pic_set_irq(&p, 1, true);
    assert_int_equal(vdev_pic_pending_vector(&p), -1); /* masked */
    out(&p, 0x21, 0xfc);
    assert_int_equal(vdev_pic_pending_vector(&p), 0x41);
    /* Single mode: line 2 is an ordinary input. */
    out(&p, 0x21, 0xf8);
    vdev_pic_set_irq(&p, 2, true);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x41);
    out(&p, 0x20, 0x20);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x42);
}

static void test_reset_state_and_foreign_ports(void **state)
{
    struct vdev_pic p;
    vdev_pic_reset(&p);
    assert_int_equal(in(&p, 0x21), 0xff);
    assert_int_equal(in(&p, 0xa1), 0xff);
    out(&p, 0x21, 0x00);
    pulse(&p, 1);
    assert_int_equal(vdev_pic_pending_vector(&p), 0x09);
    uint8_t v = 0;
    assert_false(vdev_pic_io(&p, 0x22, true, &v));
    assert_false(vdev_pic_io(&p, 0x4d2, false, &v));
    assert_false(vdev_pic_io(&p, 0x40, false, &v));
    vdev_pic_set_irq(&p, 16, true); /* ignored */
    vdev_pic_set_irq(&p, 2, true);  /* the cascade owns line 2 */
    assert_int_equal(in(&p, 0x20), 0x02);
}

static void test_masking_and_priority(void **state)
{
    struct vdev_pic p;
    linux_init(&p, false);
    out(&p, 0x21, 0x08);
    pulse(&p, 3);
    pulse(&p, 5);
    pulse(&p, 4);
    assert_int_equal(in(&p, 0x20), 0x38); /* IRR holds masked requests too */
    assert_int_equal(vdev_pic_acknowledge(&p), 0x34);
    /* IRQ 5 is lower than 4 in service: nothing until EOI. */
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
    pulse(&p, 1); /* higher priority nests */
    assert_int_equal(vdev_pic_acknowledge(&p), 0x31);
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x12);
    out(&p, 0x20, 0x20); /* EOI clears the highest: IRQ 1 */
    assert_int_equal(in(&p, 0x20), 0x10);
    out(&p, 0x20, 0x20);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x35);
    out(&p, 0x21, 0x00);
    out(&p, 0x20, 0x20);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x33);
}

static void test_cascade(void **state)
{
    struct vdev_pic p;
    linux_init(&p, false);
    pulse(&p, 12);
    out(&p, 0x20, 0x0a); /* read IRR */
    assert_int_equal(in(&p, 0x20), 0x04);
    assert_int_equal(in(&p, 0xa0), 0x10);
    pulse(&p, 3); /* lower priority than the cascade */
    assert_int_equal(vdev_pic_pending_vector(&p), 0x3c);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x3c);
    out(&p, 0xa0, 0x0b);
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0xa0), 0x10);
    assert_int_equal(in(&p, 0x20), 0x04);
    /* Slave IRQ 9 is higher than 12 on the slave, but the master's IR2 is in service. */
    pulse(&p, 9);
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
    out(&p, 0xa0, 0x20);
    out(&p, 0x20, 0x20);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x39);
    out(&p, 0xa0, 0x20);
    out(&p, 0x20, 0x20);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x33);
    /* Masking line 2 on the master masks the whole slave. */
    out(&p, 0x20, 0x20);
    out(&p, 0x21, 0x04);
    pulse(&p, 8);
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
    out(&p, 0x21, 0x00);
    assert_int_equal(vdev_pic_pending_vector(&p), 0x38);
}

static void test_specific_eoi_and_rotation(void **state)
{
    struct vdev_pic p;
    linux_init(&p, false);
    pulse(&p, 6);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x36);
    pulse(&p, 1);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x31);
    out(&p, 0x20, 0x66); /* specific EOI for 6: 1 stays in service */
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x02);
    out(&p, 0x20, 0xa0); /* rotate on non-specific EOI: IRQ 1 becomes lowest */
    assert_int_equal(in(&p, 0x20), 0x00);
    pulse(&p, 1);
    pulse(&p, 7);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x37); /* 2..7 now above 0, 1 */
    out(&p, 0x20, 0xc7);                              /* set priority: IR7 lowest again */
    out(&p, 0x20, 0x67);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x31);
}

static void test_level_and_spurious_irq7(void **state)
{
    struct vdev_pic p;
    linux_init(&p, false);
    out(&p, 0x4d0, 0xff); /* IRQ 0-2 cannot be level */
    assert_int_equal(in(&p, 0x4d0), 0xf8);
    out(&p, 0x4d1, 0xff);
    assert_int_equal(in(&p, 0x4d1), 0xde);
    vdev_pic_set_irq(&p, 5, true);
    assert_int_equal(vdev_pic_pending_vector(&p), 0x35);
    vdev_pic_set_irq(&p, 5, false); /* level request goes away before INTA */
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x37);
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x00); /* no ISR bit for a spurious IRQ 7 */
    /* A level line still high after EOI interrupts again; an edge line does not. */
    vdev_pic_set_irq(&p, 5, true);
    vdev_pic_set_irq(&p, 1, true);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x31);
    out(&p, 0x20, 0x20);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x35);
    out(&p, 0x20, 0x20);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x35);
    out(&p, 0x20, 0x20);
    vdev_pic_set_irq(&p, 5, false);
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
}

static void test_ltim_makes_all_level(void **state)
{
    struct vdev_pic p;
    vdev_pic_reset(&p);
    out(&p, 0x20, 0x1b); /* ICW1: LTIM, single, ICW4 */
    out(&p, 0x21, 0x20);
    out(&p, 0x21, 0x01);
    out(&p, 0x21, 0x00);
    vdev_pic_set_irq(&p, 0, true);
    assert_int_equal(vdev_pic_pending_vector(&p), 0x20);
    vdev_pic_set_irq(&p, 0, false);
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
}

static void test_spurious_irq15(void **state)
{
    struct vdev_pic p;
    linux_init(&p, false);
    out(&p, 0x4d1, 0x02); /* IRQ 9 level */
    vdev_pic_set_irq(&p, 9, true);
    vdev_pic_set_irq(&p, 9, false);
    /* The master latched the slave's INT on its edge line 2; the slave has nothing. */
    assert_int_equal(vdev_pic_pending_vector(&p), 0x3f);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x3f);
    out(&p, 0x20, 0x0b);
    out(&p, 0xa0, 0x0b);
    assert_int_equal(in(&p, 0xa0), 0x00);
    assert_int_equal(in(&p, 0x20), 0x04); /* the master did acknowledge line 2 */
    out(&p, 0x20, 0x20);
    assert_int_equal(in(&p, 0x20), 0x00);
}

static void test_aeoi(void **state)
{
    struct vdev_pic p;
    linux_init(&p, true);
    pulse(&p, 3);
    pulse(&p, 4);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x33);
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x00);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x34); /* no EOI needed */
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
}

static void test_slave_aeoi_cascade_relatches(void **state)
{
    struct vdev_pic p;
    linux_init(&p, true); /* master AEOI */
    out(&p, 0xa0, 0x11);
    out(&p, 0xa1, 0x38);
    out(&p, 0xa1, 2);
    out(&p, 0xa1, 0x03); /* slave AEOI too */
    out(&p, 0xa1, 0x00);
    pulse(&p, 9);
    pulse(&p, 10);
    /* The slave still asserts INT for 10 after 9's INTA: the master must see it again. */
    assert_int_equal(vdev_pic_acknowledge(&p), 0x39);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x3a);
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
}

static void test_ocw3_and_poll(void **state)
{
    struct vdev_pic p;
    linux_init(&p, false);
    out(&p, 0x21, 0xff);
    pulse(&p, 6);
    pulse(&p, 4);
    out(&p, 0x20, 0x0c); /* poll honours IMR */
    assert_int_equal(in(&p, 0x20), 0x00);
    out(&p, 0x21, 0x00);
    out(&p, 0x20, 0x0c);
    assert_int_equal(in(&p, 0x20), 0x84);
    out(&p, 0x20, 0x0a);
    assert_int_equal(in(&p, 0x20), 0x40); /* IRR after the poll's acknowledge; not a poll */
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x10);
    out(&p, 0x20, 0x08); /* OCW3 without RR keeps the ISR selection */
    assert_int_equal(in(&p, 0x20), 0x10);
    /* Poll on the master reports the cascade line; the slave is then polled itself. */
    out(&p, 0x20, 0x20);
    out(&p, 0x20, 0x20);
    pulse(&p, 11);
    out(&p, 0x20, 0x0c);
    assert_int_equal(in(&p, 0x20), 0x82);
    out(&p, 0xa0, 0x0c);
    assert_int_equal(in(&p, 0xa0), 0x83);
}

static void test_special_mask_mode(void **state)
{
    struct vdev_pic p;
    linux_init(&p, false);
    pulse(&p, 3);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x33);
    pulse(&p, 5);
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
    out(&p, 0x21, 0x08); /* mask the in-service level */
    out(&p, 0x20, 0x68); /* OCW3: set SMM */
    assert_int_equal(vdev_pic_pending_vector(&p), 0x35);
    out(&p, 0x20, 0x48); /* reset SMM */
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
}

static void test_init_in_progress_and_icw1_clears(void **state)
{
    struct vdev_pic p;
    linux_init(&p, false);
    pulse(&p, 4);
    out(&p, 0x20, 0x11);
    assert_int_equal(vdev_pic_pending_vector(&p), -1);
    out(&p, 0x21, 0x50);
    out(&p, 0x21, 4);
    assert_int_equal(vdev_pic_pending_vector(&p), -1); /* waiting for ICW4 */
    out(&p, 0x21, 0x01);
    assert_int_equal(in(&p, 0x21), 0x00);
    assert_int_equal(vdev_pic_pending_vector(&p), -1); /* ICW1 cleared the latched edge */
    pulse(&p, 4);
    assert_int_equal(vdev_pic_pending_vector(&p), 0x54);
}

static void test_save_restore(void **state)
{
    struct vdev_pic p, q;
    struct vdev_pic_state st;
    linux_init(&p, false);
    pulse(&p, 12);
    pulse(&p, 4);
    out(&p, 0x4d0, 0x20);
    vdev_pic_set_irq(&p, 5, true);
    assert_int_equal(vdev_pic_acknowledge(&p), 0x3c);
    vdev_pic_save(&p, &st);
    vdev_pic_reset(&q);
    assert_int_equal(vdev_pic_restore(&q, &st), 0);
    assert_memory_equal(&p, &q, sizeof p);
    out(&q, 0xa0, 0x20);
    out(&q, 0x20, 0x20);
    assert_int_equal(vdev_pic_acknowledge(&q), 0x34);

    struct vdev_pic before = q;
    struct vdev_pic_state bad = st;
    bad.version = 2;
    assert_int_equal(vdev_pic_restore(&q, &bad), -1);
    bad = st;
    bad.pic.chip[0].icw_step = 1;
    assert_int_equal(vdev_pic_restore(&q, &bad), -1);
    bad = st;
    bad.pic.chip[1].priority_add = 8;
    assert_int_equal(vdev_pic_restore(&q, &bad), -1);
    bad = st;
    bad.pic.chip[0].aeoi = 2;
    assert_int_equal(vdev_pic_restore(&q, &bad), -1);
    bad = st;
    bad.pic.chip[0].elcr = 0x01; /* IRQ 0 cannot be level */
    assert_int_equal(vdev_pic_restore(&q, &bad), -1);
    bad = st;
    bad.pic.chip[0].vector_base = 0x31;
    assert_int_equal(vdev_pic_restore(&q, &bad), -1);
    bad = st;
    bad.pic.chip[0].lines &= (uint8_t)~0x20; /* level IRR without its line */
    assert_int_equal(vdev_pic_restore(&q, &bad), -1);
    assert_memory_equal(&before, &q, sizeof q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_init_and_delivery),
        cmocka_unit_test(test_simple_guest_init_without_icw4),
        cmocka_unit_test(test_reset_state_and_foreign_ports),
        cmocka_unit_test(test_masking_and_priority),
        cmocka_unit_test(test_cascade),
        cmocka_unit_test(test_specific_eoi_and_rotation),
        cmocka_unit_test(test_level_and_spurious_irq7),
        cmocka_unit_test(test_ltim_makes_all_level),
        cmocka_unit_test(test_spurious_irq15),
        cmocka_unit_test(test_aeoi),
        cmocka_unit_test(test_slave_aeoi_cascade_relatches),
        cmocka_unit_test(test_ocw3_and_poll),
        cmocka_unit_test(test_special_mask_mode),
        cmocka_unit_test(test_init_in_progress_and_icw1_clears),
        cmocka_unit_test(test_save_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
