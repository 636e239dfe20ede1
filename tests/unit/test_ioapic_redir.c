// unit-sources: arch/x86/ioapic_redir.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86/ioapic_regs.h"

static void test_isa_default_edge_high(void **state)
{
    /* "Conforms to the bus": ISA is edge triggered, active high; unmasked, fixed, physical. */
    assert_int_equal(ioapic_isa_redir_entry(0x34, 0, 0), 0x34);
    assert_int_equal(ioapic_isa_redir_entry(0x34, 0, 5), 0x0500000000000034ull);
}

static void test_explicit_flags(void **state)
{
    assert_int_equal(
        ioapic_isa_redir_entry(0x39, MPS_INTI_POLARITY_HIGH | MPS_INTI_TRIGGER_EDGE, 0), 0x39);
    /* QEMU's SCI override: active high, level (flags 0xd); a PC's: active low, level (0xf). */
    assert_int_equal(ioapic_isa_redir_entry(0x39, 0xd, 1), 0x0100000000008039ull);
    assert_int_equal(ioapic_isa_redir_entry(0x39, 0xf, 1), 0x010000000000a039ull);
    assert_int_equal(ioapic_isa_redir_entry(0x30, MPS_INTI_POLARITY_LOW, 0),
                     IOAPIC_REDIR_ACTIVE_LOW | 0x30);
    assert_int_equal(ioapic_isa_redir_entry(0x30, MPS_INTI_TRIGGER_LEVEL, 0),
                     IOAPIC_REDIR_LEVEL | 0x30);
}

static void test_reserved_encodings_are_bus_default(void **state)
{
    assert_int_equal(ioapic_isa_redir_entry(0x31, 0x2 | 0x8, 0), 0x31);
    /* Bits above the INTI fields are ignored. */
    assert_int_equal(ioapic_isa_redir_entry(0x31, 0xfff0, 0), 0x31);
}

static void test_never_masked(void **state)
{
    assert_int_equal(ioapic_isa_redir_entry(0xff, 0xf, 0xff) & IOAPIC_REDIR_MASKED, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_default_edge_high),
        cmocka_unit_test(test_explicit_flags),
        cmocka_unit_test(test_reserved_encodings_are_bus_default),
        cmocka_unit_test(test_never_masked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
