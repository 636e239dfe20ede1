// unit-sources: kernel/vdev_lapic.c kernel/vdev_lapic_timer.c kernel/string.c
/* The guest local APIC's register file, register by register: reset values BSP vs AP, TPR/PPR
 * and delivery, accept/INTA/EOI nesting, level EOI, SVR masking, ESR, the ICR in both modes,
 * x2APIC #GP cases, IA32_APIC_BASE transitions, destination matching, save/restore. The timer
 * is in test_vdev_lapic_timer.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/lapic_regs.h"
#include "kernel/vdev_lapic.h"

#define BASE_EN 0x800ull
#define BASE_EXTD 0x400ull
#define BASE_BSP 0x100ull

static struct vdev_lapic_effects fx;

static uint32_t rd(struct vdev_lapic *l, unsigned off)
{
    return vdev_lapic_read(l, off, 0, 0);
}

static void wr(struct vdev_lapic *l, unsigned off, uint32_t v)
{
    vdev_lapic_write(l, off, v, 0, 0, &fx);
}

static uint64_t mrd(struct vdev_lapic *l, uint32_t msr)
{
    uint64_t v = 0xdeadbeef;
    assert_int_equal(vdev_lapic_msr_read(l, msr, &v, 0, 0), 0);
    return v;
}

static int mwr(struct vdev_lapic *l, uint32_t msr, uint64_t v)
{
    return vdev_lapic_msr_write(l, msr, v, 0, 0, &fx);
}

/* Reads ESR the way a guest must: write, then read (11.5.3). */
static uint32_t esr(struct vdev_lapic *l)
{
    wr(l, LAPIC_ESR, 0);
    return rd(l, LAPIC_ESR);
}

static void bsp(struct vdev_lapic *l)
{
    vdev_lapic_reset(l, 0, true, 1000000000);
}

static void to_x2apic(struct vdev_lapic *l)
{
    assert_int_equal(vdev_lapic_set_base(l, 0xfee00000 | BASE_EN | BASE_EXTD), 0);
}

static void test_reset_bsp(void **state)
{
    struct vdev_lapic l;
    vdev_lapic_reset(&l, 3, true, 1000000000);
    assert_int_equal(vdev_lapic_get_base(&l), 0xfee00900);
    assert_int_equal(rd(&l, LAPIC_ID), 0x03000000);
    assert_int_equal(rd(&l, LAPIC_VERSION), 0x00050014);
    assert_int_equal(rd(&l, LAPIC_SVR), 0x1ff);
    assert_int_equal(rd(&l, LAPIC_LVT_LINT0), 0x700);
    assert_int_equal(rd(&l, LAPIC_LVT_LINT1), 0x400);
    const unsigned masked[] = {LAPIC_LVT_TIMER, LAPIC_LVT_THERMAL, LAPIC_LVT_PERF, LAPIC_LVT_ERROR};
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(rd(&l, masked[i]), 0x10000);
    assert_int_equal(rd(&l, LAPIC_DFR), 0xffffffff);
    const unsigned zero[] = {LAPIC_TPR,
                             LAPIC_APR,
                             LAPIC_PPR,
                             LAPIC_EOI,
                             LAPIC_LDR,
                             LAPIC_ESR,
                             LAPIC_ICR_LOW,
                             LAPIC_ICR_HIGH,
                             LAPIC_TIMER_INITIAL_COUNT,
                             LAPIC_TIMER_CURRENT_COUNT,
                             LAPIC_TIMER_DIVIDE_CONFIG};
    for (unsigned i = 0; i < sizeof zero / sizeof zero[0]; i++)
        assert_int_equal(rd(&l, zero[i]), 0);
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(rd(&l, LAPIC_ISR0 + 16 * i), 0);
        assert_int_equal(rd(&l, LAPIC_TMR0 + 16 * i), 0);
        assert_int_equal(rd(&l, LAPIC_IRR0 + 16 * i), 0);
    }
    assert_true(vdev_lapic_extint_enabled(&l));
    assert_true(vdev_lapic_mmio_enabled(&l));
    assert_false(vdev_lapic_x2apic_mode(&l));
    assert_int_equal(esr(&l), 0); /* none of those reads was illegal */
}

static void test_reset_ap(void **state)
{
    struct vdev_lapic l;
    vdev_lapic_reset(&l, 0x1234, false, 2000000000);
    assert_int_equal(vdev_lapic_get_base(&l), 0xfee00800);
    assert_int_equal(rd(&l, LAPIC_ID), 0x34000000);
    assert_int_equal(vdev_lapic_id(&l), 0x34);
    assert_int_equal(rd(&l, LAPIC_SVR), 0xff);
    for (unsigned off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 16)
        assert_int_equal(rd(&l, off), 0x10000);
    assert_false(vdev_lapic_extint_enabled(&l));
    /* Software-disabled: fixed interrupts are not accepted. */
    assert_false(vdev_lapic_accept(&l, 0x40, false));
    assert_int_equal(rd(&l, LAPIC_IRR0 + 0x20), 0);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    /* x2APIC mode shows the whole hardware ID. */
    to_x2apic(&l);
    assert_int_equal(mrd(&l, 0x802), 0x1234);
}

static void test_id_ldr_dfr_writes(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_ID, 0x05123456);
    assert_int_equal(rd(&l, LAPIC_ID), 0x05000000);
    assert_true(vdev_lapic_matches(&l, false, 5, false));
    assert_false(vdev_lapic_matches(&l, false, 0, false));
    wr(&l, LAPIC_LDR, 0x12345678);
    assert_int_equal(rd(&l, LAPIC_LDR), 0x12000000);
    wr(&l, LAPIC_DFR, 0);
    assert_int_equal(rd(&l, LAPIC_DFR), 0x0fffffff);
    wr(&l, LAPIC_DFR, 0x12345678);
    assert_int_equal(rd(&l, LAPIC_DFR), 0x1fffffff);
    /* Read-only registers ignore writes, without an error. */
    wr(&l, LAPIC_VERSION, 0);
    wr(&l, LAPIC_PPR, 0xff);
    wr(&l, LAPIC_APR, 0xff);
    wr(&l, LAPIC_IRR0, 0xffffffff);
    wr(&l, LAPIC_ISR0 + 0x70, 0xffffffff);
    wr(&l, LAPIC_TMR0 + 0x10, 0xffffffff);
    wr(&l, LAPIC_TIMER_CURRENT_COUNT, 5);
    assert_int_equal(rd(&l, LAPIC_VERSION), 0x00050014);
    assert_int_equal(rd(&l, LAPIC_PPR), 0);
    assert_int_equal(rd(&l, LAPIC_APR), 0);
    assert_int_equal(rd(&l, LAPIC_IRR0), 0);
    assert_int_equal(rd(&l, LAPIC_ISR0 + 0x70), 0);
    assert_int_equal(rd(&l, LAPIC_TMR0 + 0x10), 0);
    assert_int_equal(rd(&l, LAPIC_TIMER_CURRENT_COUNT), 0);
    assert_int_equal(esr(&l), 0);
}

static void test_tpr_ppr(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_TPR, 0x1ff);
    assert_int_equal(rd(&l, LAPIC_TPR), 0xff);
    wr(&l, LAPIC_TPR, 0x35);
    assert_int_equal(rd(&l, LAPIC_PPR), 0x35); /* no ISR: PPR = TPR */
    assert_true(vdev_lapic_accept(&l, 0x51, false));
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x51);
    assert_int_equal(rd(&l, LAPIC_PPR), 0x50); /* ISRV class wins, sub-class 0 */
    wr(&l, LAPIC_TPR, 0x50);
    assert_int_equal(rd(&l, LAPIC_PPR), 0x50); /* equal class: TPR */
    wr(&l, LAPIC_TPR, 0x5a);
    assert_int_equal(rd(&l, LAPIC_PPR), 0x5a);
    wr(&l, LAPIC_TPR, 0x65);
    assert_int_equal(rd(&l, LAPIC_PPR), 0x65);
    wr(&l, LAPIC_TPR, 0x4f);
    assert_int_equal(rd(&l, LAPIC_PPR), 0x50);
    wr(&l, LAPIC_EOI, 0);
    assert_int_equal(rd(&l, LAPIC_PPR), 0x4f);
}

static void test_pending_honours_ppr(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    assert_int_equal(vdev_lapic_acknowledge(&l), -1);
    assert_true(vdev_lapic_accept(&l, 0x45, false));
    assert_int_equal(rd(&l, LAPIC_IRR0 + 0x20), 1u << 5);
    wr(&l, LAPIC_TPR, 0x40); /* same class does not beat PPR */
    assert_int_equal(vdev_lapic_pending(&l), -1);
    assert_int_equal(vdev_lapic_acknowledge(&l), -1);
    assert_int_equal(rd(&l, LAPIC_IRR0 + 0x20), 1u << 5);
    wr(&l, LAPIC_TPR, 0x3f);
    assert_int_equal(vdev_lapic_pending(&l), 0x45);
    wr(&l, LAPIC_TPR, 0xf0);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    assert_true(vdev_lapic_accept(&l, 0xff, false)); /* class 15 never beats TPR 0xf0 */
    assert_int_equal(vdev_lapic_pending(&l), -1);
    wr(&l, LAPIC_TPR, 0);
    assert_int_equal(vdev_lapic_pending(&l), 0xff);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0xff);
    assert_int_equal(rd(&l, LAPIC_ISR0 + 0x70), 0x80000000);
    assert_int_equal(rd(&l, LAPIC_IRR0 + 0x70), 0);
}

static void test_nested_priorities(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    assert_true(vdev_lapic_accept(&l, 0x30, false));
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x30);
    assert_true(vdev_lapic_accept(&l, 0x50, false));
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x50); /* higher class nests */
    assert_true(vdev_lapic_accept(&l, 0x40, false));
    assert_true(vdev_lapic_accept(&l, 0x31, false));
    assert_int_equal(vdev_lapic_pending(&l), -1);
    assert_int_equal(rd(&l, LAPIC_ISR0 + 0x10), 1u << 16);
    assert_int_equal(rd(&l, LAPIC_ISR0 + 0x20), 1u << 16);
    assert_int_equal(rd(&l, LAPIC_IRR0 + 0x10), 1u << 17);
    assert_int_equal(rd(&l, LAPIC_IRR0 + 0x20), 1u << 0);
    wr(&l, LAPIC_EOI, 0); /* ends 0x50 */
    assert_int_equal(fx.eoi_vector, -1);
    assert_int_equal(rd(&l, LAPIC_ISR0 + 0x20), 0);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x40);
    assert_int_equal(vdev_lapic_pending(&l), -1);
    wr(&l, LAPIC_EOI, 0);                         /* ends 0x40 */
    assert_int_equal(vdev_lapic_pending(&l), -1); /* 0x31: same class as 0x30 in service */
    wr(&l, LAPIC_EOI, 0x1234);                    /* any value in xAPIC mode; ends 0x30 */
    assert_int_equal(rd(&l, LAPIC_ISR0 + 0x10), 0);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x31);
    wr(&l, LAPIC_EOI, 0);
    wr(&l, LAPIC_EOI, 0); /* nothing in service: harmless */
    assert_int_equal(fx.eoi_vector, -1);
    assert_int_equal(vdev_lapic_pending(&l), -1);
}

static void test_level_eoi(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    assert_true(vdev_lapic_accept(&l, 0x61, true));
    assert_int_equal(rd(&l, LAPIC_TMR0 + 0x30), 1u << 1);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x61);
    assert_true(vdev_lapic_accept(&l, 0x62, false));
    assert_int_equal(vdev_lapic_pending(&l), -1); /* same class as 0x61 in service */
    assert_true(vdev_lapic_accept(&l, 0x72, false));
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x72);
    wr(&l, LAPIC_EOI, 0);
    assert_int_equal(fx.eoi_vector, -1); /* 0x72 was edge */
    wr(&l, LAPIC_EOI, 0);
    assert_int_equal(fx.eoi_vector, 0x61);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x62);
    wr(&l, LAPIC_EOI, 0);
    assert_int_equal(fx.eoi_vector, -1);
    /* An edge acceptance of the same vector clears its TMR bit. */
    assert_true(vdev_lapic_accept(&l, 0x61, false));
    assert_int_equal(rd(&l, LAPIC_TMR0 + 0x30), 0);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x61);
    wr(&l, LAPIC_EOI, 0);
    assert_int_equal(fx.eoi_vector, -1);
}

static void test_illegal_vectors_and_esr(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    assert_false(vdev_lapic_accept(&l, 15, false));
    assert_int_equal(rd(&l, LAPIC_IRR0), 0);
    assert_int_equal(rd(&l, LAPIC_ESR), 0); /* not visible before the ESR write */
    wr(&l, LAPIC_ESR, 0xffffffff);
    assert_int_equal(rd(&l, LAPIC_ESR), 0x40);
    assert_int_equal(rd(&l, LAPIC_ESR), 0x40); /* reads do not clear */
    wr(&l, LAPIC_ESR, 0);
    assert_int_equal(rd(&l, LAPIC_ESR), 0);
    assert_true(vdev_lapic_accept(&l, 16, false)); /* 16 is the first legal one */
    /* Reserved offsets: read 0, write ignored, illegal register address. */
    const unsigned bad[] = {0x000, 0x010, 0x040, 0x070, 0x0c0, 0x290,
                            0x2f0, 0x3a0, 0x3f0, 0x400, 0xff0, 0x024};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(rd(&l, bad[i]), 0);
        assert_int_equal(esr(&l), 0x80);
        wr(&l, bad[i], 0xffffffff);
        assert_int_equal(esr(&l), 0x80);
        assert_int_equal(esr(&l), 0);
    }
    /* Send illegal vector: a fixed IPI with vector 15 is not sent. */
    wr(&l, LAPIC_ICR_LOW, 0x0000400f);
    assert_false(fx.ipi.valid);
    assert_int_equal(esr(&l), 0x20);
    /* Errors accumulate between ESR writes. */
    assert_false(vdev_lapic_accept(&l, 0, true));
    rd(&l, 0x3a0);
    assert_int_equal(esr(&l), 0xc0);
}

static void test_error_lvt(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_LVT_ERROR, 0xe3);
    assert_int_equal(rd(&l, LAPIC_LVT_ERROR), 0xe3);
    rd(&l, 0x3a0);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0xe3);
    wr(&l, LAPIC_EOI, 0);
    rd(&l, 0x3a0); /* the same error again, not yet cleared: no new interrupt */
    assert_int_equal(vdev_lapic_pending(&l), -1);
    assert_false(vdev_lapic_accept(&l, 1, false)); /* a different error bit: interrupt */
    assert_int_equal(vdev_lapic_acknowledge(&l), 0xe3);
    wr(&l, LAPIC_EOI, 0);
    wr(&l, LAPIC_ESR, 0);
    rd(&l, 0x3a0);
    assert_int_equal(vdev_lapic_acknowledge(&l), 0xe3);
    /* An illegal error vector records "received illegal vector" once, no loop. */
    wr(&l, LAPIC_ESR, 0);
    wr(&l, LAPIC_LVT_ERROR, 0x05);
    rd(&l, 0x3a0);
    assert_int_equal(esr(&l), 0xc0);
    assert_int_equal(rd(&l, LAPIC_IRR0), 0);
}

static void test_svr_disable_masks_lvts(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_LVT_TIMER, 0x20);
    wr(&l, LAPIC_LVT_ERROR, 0xee);
    assert_true(vdev_lapic_accept(&l, 0x70, false));
    wr(&l, LAPIC_SVR, 0xff);
    assert_int_equal(rd(&l, LAPIC_SVR), 0xff);
    assert_int_equal(rd(&l, LAPIC_LVT_TIMER), 0x10020);
    assert_int_equal(rd(&l, LAPIC_LVT_LINT0), 0x10700);
    assert_int_equal(rd(&l, LAPIC_LVT_LINT1), 0x10400);
    assert_int_equal(rd(&l, LAPIC_LVT_ERROR), 0x100ee);
    assert_false(vdev_lapic_extint_enabled(&l));
    assert_int_equal(vdev_lapic_pending(&l), -1); /* held in IRR */
    assert_false(vdev_lapic_accept(&l, 0x71, false));
    /* The mask cannot be cleared while disabled. */
    wr(&l, LAPIC_LVT_LINT0, 0x700);
    assert_int_equal(rd(&l, LAPIC_LVT_LINT0), 0x10700);
    wr(&l, LAPIC_SVR, 0xffffffff);
    assert_int_equal(rd(&l, LAPIC_SVR), 0x3ff);         /* bits 31-10 (EOI suppression) reserved */
    assert_int_equal(rd(&l, LAPIC_LVT_LINT0), 0x10700); /* still masked after enabling */
    assert_int_equal(vdev_lapic_pending(&l), 0x70);
    assert_int_equal(rd(&l, LAPIC_IRR0 + 0x30), 1u << 16); /* 0x71 was dropped */
    wr(&l, LAPIC_LVT_LINT0, 0x700);
    assert_int_equal(rd(&l, LAPIC_LVT_LINT0), 0x700);
    assert_true(vdev_lapic_extint_enabled(&l));
}

static void test_lvt_writable_bits(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_LVT_TIMER, 0xffffffff); /* mode 11b reserved: taken as periodic */
    assert_int_equal(rd(&l, LAPIC_LVT_TIMER), 0x300ff);
    wr(&l, LAPIC_LVT_THERMAL, 0xffffffff);
    assert_int_equal(rd(&l, LAPIC_LVT_THERMAL), 0x107ff);
    wr(&l, LAPIC_LVT_PERF, 0xffffffff);
    assert_int_equal(rd(&l, LAPIC_LVT_PERF), 0x107ff);
    wr(&l, LAPIC_LVT_LINT0, 0xffffffff);
    assert_int_equal(rd(&l, LAPIC_LVT_LINT0), 0x1a7ff);
    wr(&l, LAPIC_LVT_LINT1, 0xffffffff);
    assert_int_equal(rd(&l, LAPIC_LVT_LINT1), 0x1a7ff);
    wr(&l, LAPIC_LVT_ERROR, 0xffffffff);
    assert_int_equal(rd(&l, LAPIC_LVT_ERROR), 0x100ff);
    assert_false(vdev_lapic_extint_enabled(&l));
    wr(&l, LAPIC_LVT_LINT0, 0x000);
    assert_false(vdev_lapic_extint_enabled(&l)); /* unmasked but fixed */
}

static void test_icr_xapic(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    wr(&l, LAPIC_ICR_HIGH, 0xffffffff);
    assert_int_equal(rd(&l, LAPIC_ICR_HIGH), 0xff000000);
    assert_false(fx.ipi.valid); /* ICR high alone sends nothing */
    wr(&l, LAPIC_ICR_HIGH, 0x03000000);
    wr(&l, LAPIC_ICR_LOW, 0x000040f1); /* fixed, physical, assert, edge */
    assert_true(fx.ipi.valid);
    assert_int_equal(fx.ipi.vector, 0xf1);
    assert_int_equal(fx.ipi.delivery_mode, 0);
    assert_true(fx.ipi.level_assert);
    assert_false(fx.ipi.trigger_level);
    assert_int_equal(fx.ipi.shorthand, 0);
    assert_false(fx.ipi.logical);
    assert_int_equal(fx.ipi.dest, 3);
    assert_int_equal(rd(&l, LAPIC_ICR_LOW), 0x40f1); /* delivery status idle */
    wr(&l, LAPIC_ICR_LOW, 0x00044040);               /* self */
    assert_true(fx.ipi.valid);
    assert_int_equal(fx.ipi.shorthand, 1);
    assert_int_equal(fx.ipi.vector, 0x40);
    wr(&l, LAPIC_ICR_LOW, 0x000c4941); /* all excluding self, logical, lowest priority */
    assert_int_equal(fx.ipi.shorthand, 3);
    assert_true(fx.ipi.logical);
    assert_int_equal(fx.ipi.delivery_mode, 1);
    wr(&l, LAPIC_ICR_LOW, 0x00084400); /* NMI to all including self */
    assert_int_equal(fx.ipi.delivery_mode, 4);
    assert_int_equal(fx.ipi.shorthand, 2);
    wr(&l, LAPIC_ICR_LOW, 0x0000c500); /* INIT level assert */
    assert_true(fx.ipi.valid);
    assert_int_equal(fx.ipi.delivery_mode, 5);
    assert_true(fx.ipi.level_assert);
    assert_true(fx.ipi.trigger_level);
    wr(&l, LAPIC_ICR_LOW, 0x00008500); /* INIT level de-assert: reported too */
    assert_true(fx.ipi.valid);
    assert_int_equal(fx.ipi.delivery_mode, 5);
    assert_false(fx.ipi.level_assert);
    assert_true(fx.ipi.trigger_level);
    wr(&l, LAPIC_ICR_LOW, 0x00004608); /* STARTUP, vector = page 8 (no legality check) */
    assert_true(fx.ipi.valid);
    assert_int_equal(fx.ipi.delivery_mode, 6);
    assert_int_equal(fx.ipi.vector, 0x08);
    assert_int_equal(fx.ipi.dest, 3);
    wr(&l, LAPIC_ICR_LOW, 0x00004200); /* SMI */
    assert_int_equal(fx.ipi.delivery_mode, 2);
    wr(&l, LAPIC_ICR_LOW, 0xffffffff); /* delivery mode 111b reserved: nothing sent */
    assert_false(fx.ipi.valid);
    assert_int_equal(rd(&l, LAPIC_ICR_LOW), 0x000ccfff);
    wr(&l, LAPIC_ICR_LOW, 0x00004330); /* 011b reserved */
    assert_false(fx.ipi.valid);
    assert_int_equal(esr(&l), 0);
}

static void test_icr_and_self_ipi_x2apic(void **state)
{
    struct vdev_lapic l;
    bsp(&l);
    to_x2apic(&l);
    assert_int_equal(mwr(&l, 0x830, 0x12345678000040f1ull), 0);
    assert_true(fx.ipi.valid);
    assert_int_equal(fx.ipi.vector, 0xf1);
    assert_int_equal(fx.ipi.dest, 0x12345678);
    assert_false(fx.ipi.logical);
    assert_int_equal(mrd(&l, 0x830), 0x12345678000040f1ull);
    assert_int_equal(mwr(&l, 0x830, 0xffffffff0000c500ull), 0); /* INIT assert broadcast */
    assert_int_equal(fx.ipi.dest, 0xffffffff);
    assert_int_equal(fx.ipi.delivery_mode, 5);
    assert_int_equal(mwr(&l, 0x830, 0x0000000100008500ull), 0); /* INIT de-assert */
    assert_true(fx.ipi.valid);
    assert_false(fx.ipi.level_assert);
    assert_int_equal(mwr(&l, 0x830, 0x000000020000469aull), 0); /* STARTUP */
    assert_int_equal(fx.ipi.delivery_mode, 6);
    assert_int_equal(fx.ipi.vector, 0x9a);
    assert_int_equal(fx.ipi.dest, 2);
    assert_int_equal(mwr(&l, 0x830, 0x0000000300004830ull), 0); /* logical fixed */
    assert_true(fx.ipi.logical);
    assert_int_equal(fx.ipi.dest, 3);
    /* Reserved ICR bits: delivery status 12, 13, 17-16, 31-20. */
    const uint64_t bad[] = {1u << 12, 1u << 13, 1u << 16, 1u << 17, 1u << 20, 1u << 31};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mwr(&l, 0x830, 0x4040 | bad[i]), -1);
        assert_false(fx.ipi.valid);
    }
    assert_int_equal(mrd(&l, 0x830), 0x0000000300004830ull); /* unchanged */
    assert_int_equal(mwr(&l, 0x831, 0), -1);                 /* no ICR high */
    /* SELF IPI: write-only, vector in 7-0. */
    assert_int_equal(mwr(&l, 0x83f, 0x55), 0);
    assert_true(fx.ipi.valid);
    assert_int_equal(fx.ipi.vector, 0x55);
    assert_int_equal(fx.ipi.delivery_mode, 0);
    assert_int_equal(fx.ipi.shorthand, 1);
    assert_false(fx.ipi.trigger_level);
    assert_int_equal(mwr(&l, 0x83f, 0x155), -1);
    assert_false(fx.ipi.valid);
    uint64_t v;
    assert_int_equal(vdev_lapic_msr_read(&l, 0x83f, &v, 0, 0), -1);
    /* Fixed vector below 16: send illegal vector, nothing sent. */
    assert_int_equal(mwr(&l, 0x830, 0x4005), 0);
    assert_false(fx.ipi.valid);
    assert_int_equal(mwr(&l, 0x828, 0), 0);
    assert_int_equal(mrd(&l, 0x828), 0x20);
}

static void test_x2apic_gp(void **state)
{
    struct vdev_lapic l;
    uint64_t v;
    vdev_lapic_reset(&l, 0x123, true, 1000000000);
    /* Not in x2APIC mode: every x2APIC MSR #GPs. */
    assert_int_equal(vdev_lapic_msr_read(&l, 0x802, &v, 0, 0), -1);
    assert_int_equal(mwr(&l, 0x808, 0), -1);
    to_x2apic(&l);
    assert_int_equal(rd(&l, LAPIC_SVR), 0); /* the MMIO page no longer decodes */
    wr(&l, LAPIC_TPR, 0x20);
    assert_int_equal(mrd(&l, 0x802), 0x123);
    assert_int_equal(mrd(&l, 0x803), 0x00050014);
    assert_int_equal(mrd(&l, 0x80d), 0x00120008); /* cluster 0x12, member bit 3 */
    assert_int_equal(mrd(&l, 0x80f), 0x1ff);      /* state kept across xAPIC -> x2APIC */
    assert_int_equal(mrd(&l, 0x808), 0);
    assert_int_equal(mrd(&l, 0x835), 0x700);
    /* Registers that do not exist in x2APIC mode, and write-only ones. */
    const uint32_t no_read[] = {0x800, 0x801, 0x809, 0x80b, 0x80c, 0x80e,
                                0x82f, 0x831, 0x83a, 0x83f, 0x840, 0x8ff};
    for (unsigned i = 0; i < sizeof no_read / sizeof no_read[0]; i++)
        assert_int_equal(vdev_lapic_msr_read(&l, no_read[i], &v, 0, 0), -1);
    assert_int_equal(vdev_lapic_msr_read(&l, 0x7ff, &v, 0, 0), -1);
    assert_int_equal(vdev_lapic_msr_read(&l, 0x900, &v, 0, 0), -1);
    /* Read-only registers #GP on write. */
    const uint32_t ro[] = {0x802, 0x803, 0x80a, 0x80d, 0x810, 0x817, 0x818,
                           0x820, 0x827, 0x839, 0x80e, 0x809, 0x82f};
    for (unsigned i = 0; i < sizeof ro / sizeof ro[0]; i++)
        assert_int_equal(mwr(&l, ro[i], 0), -1);
    assert_int_equal(mrd(&l, 0x802), 0x123);
    /* Reserved bits. */
    assert_int_equal(mwr(&l, 0x80b, 1), -1); /* EOI: non-zero */
    assert_int_equal(mwr(&l, 0x80b, 0), 0);
    assert_int_equal(mwr(&l, 0x828, 1), -1); /* ESR: non-zero */
    assert_int_equal(mwr(&l, 0x808, 0x100), -1);
    assert_int_equal(mwr(&l, 0x808, 1ull << 32), -1);
    assert_int_equal(mwr(&l, 0x808, 0xff), 0);
    assert_int_equal(mrd(&l, 0x808), 0xff);
    assert_int_equal(mrd(&l, 0x80a), 0xff);
    assert_int_equal(mwr(&l, 0x80f, 0x11ff), -1); /* EOI-broadcast suppression unsupported */
    assert_int_equal(mwr(&l, 0x80f, 0x3ff), 0);   /* focus disable is accepted */
    assert_int_equal(mwr(&l, 0x83e, 0x4), -1);
    assert_int_equal(mwr(&l, 0x83e, 0xb), 0);
    assert_int_equal(mrd(&l, 0x83e), 0xb);
    assert_int_equal(mwr(&l, 0x838, 1ull << 32), -1);
    assert_int_equal(mwr(&l, 0x832, 0x60000), -1); /* timer mode 11b */
    assert_int_equal(mwr(&l, 0x832, 0x4000), -1);  /* bit 14 reserved in LVT timer */
    assert_int_equal(mwr(&l, 0x832, 0x11030), 0);  /* delivery status is read-only: ignored */
    assert_int_equal(mrd(&l, 0x832), 0x10030);
    assert_int_equal(mwr(&l, 0x837, 0x100), -1);  /* no delivery mode in LVT error */
    assert_int_equal(mwr(&l, 0x835, 0x1e7ff), 0); /* remote IRR read-only in LINT0 */
    assert_int_equal(mrd(&l, 0x835), 0x1a7ff);
    assert_int_equal(mwr(&l, 0x833, 0x2000), -1); /* no polarity in LVT thermal */
    /* ESR in x2APIC: a zero write latches. */
    assert_false(vdev_lapic_accept(&l, 3, false));
    assert_int_equal(mrd(&l, 0x828), 0);
    assert_int_equal(mwr(&l, 0x828, 0), 0);
    assert_int_equal(mrd(&l, 0x828), 0x40);
}

static void test_apic_base_transitions(void **state)
{
    struct vdev_lapic l;
    vdev_lapic_reset(&l, 0x41, true, 1000000000);
    const uint64_t x = 0xfee00000 | BASE_EN;
    /* Reserved bits and the physical-address width (39 bits). */
    assert_int_equal(vdev_lapic_set_base(&l, x | 1), -1);
    assert_int_equal(vdev_lapic_set_base(&l, x | 0x80), -1);
    assert_int_equal(vdev_lapic_set_base(&l, x | 0x200), -1);
    assert_int_equal(vdev_lapic_set_base(&l, x | 0x010), -1);
    assert_int_equal(vdev_lapic_set_base(&l, x | (1ull << 39)), -1);
    assert_int_equal(vdev_lapic_set_base(&l, x | (1ull << 63)), -1);
    assert_int_equal(vdev_lapic_get_base(&l), 0xfee00900);
    assert_int_equal(vdev_lapic_set_base(&l, (1ull << 38) | 0xfec00000 | BASE_EN), 0);
    assert_int_equal(vdev_lapic_get_base(&l), (1ull << 38) | 0xfec00900); /* BSP kept */
    assert_int_equal(vdev_lapic_set_base(&l, x), 0);
    assert_int_equal(vdev_lapic_set_base(&l, 0xfee00000 | BASE_EXTD), -1); /* invalid state */
    /* Program some state, then x2APIC -> xAPIC directly is #GP. */
    wr(&l, LAPIC_ID, 0x07000000);
    wr(&l, LAPIC_TPR, 0x20);
    assert_true(vdev_lapic_accept(&l, 0x80, true));
    to_x2apic(&l);
    assert_int_equal(vdev_lapic_id(&l), 0x41);
    assert_int_equal(vdev_lapic_set_base(&l, x), -1);
    assert_true(vdev_lapic_x2apic_mode(&l));
    assert_int_equal(vdev_lapic_set_base(&l, 0xfee00000 | BASE_EXTD), -1);
    /* x2APIC -> disabled: power-on state, IDs kept, the 8259 reaches the CPU. */
    assert_int_equal(vdev_lapic_set_base(&l, 0xfee00000), 0);
    assert_int_equal(vdev_lapic_get_base(&l), 0xfee00100);
    assert_false(vdev_lapic_hw_enabled(&l));
    assert_true(vdev_lapic_extint_enabled(&l));
    assert_false(vdev_lapic_accept(&l, 0x81, false));
    assert_int_equal(vdev_lapic_pending(&l), -1);
    assert_int_equal(rd(&l, LAPIC_SVR), 0); /* MMIO not decoded while disabled */
    wr(&l, LAPIC_SVR, 0x1ff);
    assert_false(vdev_lapic_matches(&l, false, 7, false));
    /* Disabled -> x2APIC directly is #GP; -> xAPIC is fine. */
    assert_int_equal(vdev_lapic_set_base(&l, 0xfee00000 | BASE_EN | BASE_EXTD), -1);
    assert_int_equal(vdev_lapic_set_base(&l, x), 0);
    assert_int_equal(rd(&l, LAPIC_ID), 0x07000000);
    assert_int_equal(rd(&l, LAPIC_TPR), 0);
    assert_int_equal(rd(&l, LAPIC_SVR), 0xff);
    assert_int_equal(rd(&l, LAPIC_DFR), 0xffffffff);
    assert_int_equal(rd(&l, LAPIC_LDR), 0);
    assert_int_equal(rd(&l, LAPIC_LVT_LINT0), 0x10000);
    assert_int_equal(rd(&l, LAPIC_IRR0 + 0x40), 0);
    assert_int_equal(rd(&l, LAPIC_TMR0 + 0x40), 0);
    assert_false(vdev_lapic_extint_enabled(&l));
    /* xAPIC -> disabled directly keeps the (software-written) xAPIC ID as well. */
    assert_int_equal(vdev_lapic_set_base(&l, 0xfee00000), 0);
    assert_int_equal(vdev_lapic_set_base(&l, x), 0);
    assert_int_equal(rd(&l, LAPIC_ID), 0x07000000);
    to_x2apic(&l);
    assert_int_equal(mrd(&l, 0x802), 0x41);
}

static void test_init_signal(void **state)
{
    struct vdev_lapic l;
    vdev_lapic_reset(&l, 0x25, false, 1000000000);
    to_x2apic(&l);
    assert_int_equal(mwr(&l, 0x80f, 0x1ff), 0);
    assert_int_equal(mwr(&l, 0x808, 0x30), 0);
    assert_true(vdev_lapic_accept(&l, 0x99, false));
    vdev_lapic_init_signal(&l);
    assert_true(vdev_lapic_x2apic_mode(&l));
    assert_int_equal(vdev_lapic_get_base(&l), 0xfee00c00);
    assert_int_equal(mrd(&l, 0x802), 0x25);
    assert_int_equal(mrd(&l, 0x80d), 0x00020020);
    assert_int_equal(mrd(&l, 0x808), 0);
    assert_int_equal(mrd(&l, 0x80f), 0xff);
    assert_int_equal(mrd(&l, 0x824), 0);
    assert_int_equal(mrd(&l, 0x837), 0x10000);
}

static void test_matches(void **state)
{
    struct vdev_lapic l;
    vdev_lapic_reset(&l, 3, false, 1000000000);
    assert_true(vdev_lapic_matches(&l, false, 3, false));
    assert_false(vdev_lapic_matches(&l, false, 4, false));
    assert_true(vdev_lapic_matches(&l, false, 0xff, false));
    assert_true(vdev_lapic_matches(&l, false, 3, true));
    assert_true(vdev_lapic_matches(&l, false, 0xffffffff, true));
    assert_false(vdev_lapic_matches(&l, false, 0xff, true));
    assert_false(vdev_lapic_matches(&l, false, 0x103, true));
    /* Flat model (11.6.2.2): any common bit. LDR 0 matches nothing. */
    assert_false(vdev_lapic_matches(&l, true, 0x04, false));
    wr(&l, LAPIC_LDR, 0x04000000);
    assert_true(vdev_lapic_matches(&l, true, 0x04, false));
    assert_true(vdev_lapic_matches(&l, true, 0x06, false));
    assert_false(vdev_lapic_matches(&l, true, 0x01, false));
    assert_false(vdev_lapic_matches(&l, true, 0x00, false));
    assert_true(vdev_lapic_matches(&l, true, 0xff, false));
    /* Cluster model: cluster in 7-4 equal, a member bit in 3-0 in common. */
    wr(&l, LAPIC_DFR, 0x0fffffff);
    wr(&l, LAPIC_LDR, 0x21000000);
    assert_true(vdev_lapic_matches(&l, true, 0x21, false));
    assert_true(vdev_lapic_matches(&l, true, 0x23, false));
    assert_true(vdev_lapic_matches(&l, true, 0x2f, false));
    assert_false(vdev_lapic_matches(&l, true, 0x22, false));
    assert_false(vdev_lapic_matches(&l, true, 0x31, false));
    assert_false(vdev_lapic_matches(&l, true, 0x01, false));
    assert_true(vdev_lapic_matches(&l, true, 0xff, false));
    /* x2APIC (11.12.10.2): ID 0x23 -> cluster 2, member bit 3. */
    vdev_lapic_reset(&l, 0x23, false, 1000000000);
    to_x2apic(&l);
    assert_true(vdev_lapic_matches(&l, false, 0x23, true));
    assert_false(vdev_lapic_matches(&l, false, 0x24, true));
    assert_true(vdev_lapic_matches(&l, false, 0x23, false));
    assert_true(vdev_lapic_matches(&l, true, 0x00020008, true));
    assert_true(vdev_lapic_matches(&l, true, 0x0002000c, true));
    assert_false(vdev_lapic_matches(&l, true, 0x00020004, true));
    assert_false(vdev_lapic_matches(&l, true, 0x00030008, true));
    assert_false(vdev_lapic_matches(&l, true, 0x00000008, true));
    assert_true(vdev_lapic_matches(&l, true, 0xffffffff, true));
    /* A hardware-disabled APIC is nobody's destination. */
    assert_int_equal(vdev_lapic_set_base(&l, 0xfee00000), 0);
    assert_false(vdev_lapic_matches(&l, false, 0x23, true));
    assert_false(vdev_lapic_matches(&l, false, 0xffffffff, true));
}

static void test_save_restore(void **state)
{
    struct vdev_lapic l, r;
    struct vdev_lapic_state st;
    bsp(&l);
    wr(&l, LAPIC_TPR, 0x21);
    wr(&l, LAPIC_LDR, 0x08000000);
    assert_true(vdev_lapic_accept(&l, 0x91, true));
    assert_int_equal(vdev_lapic_acknowledge(&l), 0x91);
    assert_true(vdev_lapic_accept(&l, 0x42, false));
    rd(&l, 0x3a0);
    wr(&l, LAPIC_LVT_TIMER, 0x20031); /* periodic */
    wr(&l, LAPIC_TIMER_DIVIDE_CONFIG, 0xb);
    vdev_lapic_write(&l, LAPIC_TIMER_INITIAL_COUNT, 1000, 5000, 0, &fx);
    vdev_lapic_save(&l, &st, 5250);
    assert_int_equal(st.version, 1);
    assert_int_equal(st.timer_elapsed_ns, 250);
    assert_int_equal(st.lapic.timer_start_ns, 0);
    memset(&r, 0x5a, sizeof r);
    const uint64_t t = 7000000000000ull; /* another host's clock */
    assert_int_equal(vdev_lapic_restore(&r, &st, t), 0);
    assert_int_equal(r.timer_start_ns, t - 250);
    struct vdev_lapic a = l, b = r;
    a.timer_start_ns = b.timer_start_ns = 0;
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(vdev_lapic_read(&r, LAPIC_TIMER_CURRENT_COUNT, t, 0), 750);
    assert_int_equal(vdev_lapic_next_event_ns(&r, t, 0), t + 750);
    vdev_lapic_write(&r, LAPIC_ESR, 0, t, 0, &fx);
    assert_int_equal(vdev_lapic_read(&r, LAPIC_ESR, t, 0), 0x80);
    vdev_lapic_write(&r, LAPIC_EOI, 0, t, 0, &fx);
    assert_int_equal(fx.eoi_vector, 0x91);
    assert_int_equal(vdev_lapic_acknowledge(&r), 0x42);
    vdev_lapic_write(&r, LAPIC_EOI, 0, t, 0, &fx);
    vdev_lapic_tick(&r, t + 750, 0); /* the periodic timer goes on from where it was */
    assert_int_equal(vdev_lapic_acknowledge(&r), 0x31);
    /* x2APIC mode round trip. */
    to_x2apic(&l);
    vdev_lapic_save(&l, &st, 6000);
    assert_int_equal(st.timer_elapsed_ns, 1000);
    assert_int_equal(vdev_lapic_restore(&r, &st, 6000), 0);
    assert_true(vdev_lapic_x2apic_mode(&r));
    uint64_t v;
    assert_int_equal(vdev_lapic_msr_read(&r, 0x80d, &v, 6000, 0), 0);
    assert_int_equal(v, 0x00000001);
}

static void test_restore_rejects(void **state)
{
    struct vdev_lapic l, r, before;
    struct vdev_lapic_state st, bad;
    bsp(&l);
    vdev_lapic_save(&l, &st, 0);
    vdev_lapic_reset(&r, 9, false, 3000000000);
    before = r;
#define REJECT(mutation)                                                                           \
    do {                                                                                           \
        bad = st;                                                                                  \
        mutation;                                                                                  \
        assert_int_equal(vdev_lapic_restore(&r, &bad, 100), -1);                                   \
        assert_memory_equal(&before, &r, sizeof r);                                                \
    } while (0)
    REJECT(bad.version = 2);
    REJECT(bad.version = 0);
    REJECT(bad.lapic.apic_base = 0xfee00000 | BASE_EXTD); /* x2APIC without EN */
    REJECT(bad.lapic.apic_base |= 1ull << 40);            /* beyond MAXPHYADDR */
    REJECT(bad.lapic.apic_base |= 0x200);                 /* reserved bit */
    REJECT(bad.lapic.apic_base |= BASE_EXTD);             /* x2APIC with xAPIC LDR 0 */
    REJECT(bad.lapic.timer_dcr = 0x4);                    /* divide config reserved */
    REJECT(bad.lapic.tsc_hz = 0);
    REJECT(bad.lapic.xapic_id = 0x100);
    REJECT(bad.lapic.tpr = 0x100);
    REJECT(bad.lapic.ldr = 0x01000001);
    REJECT(bad.lapic.dfr = 0);
    REJECT(bad.lapic.svr = 0x10ff);
    REJECT(bad.lapic.esr_pending = 0x100);
    REJECT(bad.lapic.icr_low = 0x1000);                    /* delivery status is not state */
    REJECT(bad.lapic.lvt[VDEV_LAPIC_LVT_TIMER] = 0x60000); /* timer mode 11b */
    REJECT(bad.lapic.lvt[VDEV_LAPIC_LVT_ERROR] = 0x10100);
    REJECT(bad.lapic.svr = 0xff); /* disabled with LINT0 unmasked */
    REJECT(bad.lapic.timer_armed = 2);
    REJECT(bad.lapic.timer_armed = 1);   /* armed with initial count 0 */
    REJECT(bad.timer_elapsed_ns = 5);    /* elapsed while stopped */
    REJECT(bad.lapic.tsc_deadline = 5);  /* deadline in one-shot mode */
    REJECT(bad.lapic.irr[0] = 1u << 15); /* illegal vector */
    REJECT(bad.lapic.isr[0] = 1u << 2);
    REJECT({
        bad.lapic.lvt[VDEV_LAPIC_LVT_TIMER] = 0x40000;
        bad.lapic.timer_initial = 10;
        bad.lapic.timer_armed = 1;
    }); /* counting in TSC-deadline mode */
#undef REJECT
    assert_int_equal(vdev_lapic_restore(&r, &st, 100), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_bsp),
        cmocka_unit_test(test_reset_ap),
        cmocka_unit_test(test_id_ldr_dfr_writes),
        cmocka_unit_test(test_tpr_ppr),
        cmocka_unit_test(test_pending_honours_ppr),
        cmocka_unit_test(test_nested_priorities),
        cmocka_unit_test(test_level_eoi),
        cmocka_unit_test(test_illegal_vectors_and_esr),
        cmocka_unit_test(test_error_lvt),
        cmocka_unit_test(test_svr_disable_masks_lvts),
        cmocka_unit_test(test_lvt_writable_bits),
        cmocka_unit_test(test_icr_xapic),
        cmocka_unit_test(test_icr_and_self_ipi_x2apic),
        cmocka_unit_test(test_x2apic_gp),
        cmocka_unit_test(test_apic_base_transitions),
        cmocka_unit_test(test_init_signal),
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_save_restore),
        cmocka_unit_test(test_restore_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
