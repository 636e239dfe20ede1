// unit-sources: arch/x86/exc_decode.c kernel/format.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/exc_decode.h"

static void test_names(void **state)
{
    assert_string_equal(exc_mnemonic(0), "#DE");
    assert_string_equal(exc_mnemonic(2), "NMI");
    assert_string_equal(exc_mnemonic(8), "#DF");
    assert_string_equal(exc_mnemonic(13), "#GP");
    assert_string_equal(exc_name(14), "Page Fault");
    assert_string_equal(exc_mnemonic(18), "#MC");
    assert_string_equal(exc_mnemonic(21), "#CP");
    assert_string_equal(exc_mnemonic(15), "#??");
    assert_string_equal(exc_name(15), "Reserved");
    assert_string_equal(exc_name(31), "Reserved");
    assert_string_equal(exc_mnemonic(32), "#??");
    assert_string_equal(exc_name(1000), "Reserved");
}

static void test_error_code_vectors(void **state)
{
    /* Exactly 8, 10-14, 17, 21, 29, 30. */
    unsigned with = 0;
    for (unsigned v = 0; v < 256; v++)
        if (exc_has_error_code(v))
            with |= v < 32 ? 1u << v : 0x80000000u;
    assert_int_equal(with,
                     (1u << 8) | (0x1fu << 10) | (1u << 17) | (1u << 21) | (1u << 29) | (1u << 30));
}

static void test_page_fault(void **state)
{
    char buf[160];
    exc_describe_error(14, 0x2, buf, sizeof buf);
    assert_string_equal(buf, "page not present, write, supervisor mode");
    exc_describe_error(14, PF_ERR_P | PF_ERR_U, buf, sizeof buf);
    assert_string_equal(buf, "protection violation, read, user mode");
    exc_describe_error(14, PF_ERR_P | PF_ERR_I | PF_ERR_RSVD, buf, sizeof buf);
    assert_string_equal(buf, "protection violation, instruction fetch, supervisor mode, "
                             "reserved bit set");
    exc_describe_error(14, PF_ERR_PK | PF_ERR_SS | PF_ERR_SGX, buf, sizeof buf);
    assert_string_equal(buf, "page not present, read, supervisor mode, protection key, "
                             "shadow stack, SGX");
}

static void test_selector_errors(void **state)
{
    char buf[160];
    exc_describe_error(13, 0, buf, sizeof buf);
    assert_string_equal(buf, "no selector");
    exc_describe_error(13, 0x18, buf, sizeof buf);
    assert_string_equal(buf, "GDT index 3 (selector 0x18)");
    exc_describe_error(11, 0x0c, buf, sizeof buf);
    assert_string_equal(buf, "LDT index 1 (selector 0x8)");
    exc_describe_error(13, (0x80 << 3) | SEL_ERR_IDT | SEL_ERR_EXT, buf, sizeof buf);
    assert_string_equal(buf, "IDT index 128 (selector 0x400), external event");
}

static void test_no_description(void **state)
{
    char buf[16] = "junk";
    assert_int_equal(exc_describe_error(6, 0x1234, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    strcpy(buf, "junk");
    assert_int_equal(exc_describe_error(8, 0, buf, sizeof buf), 0); /* #DF: always 0 */
    assert_string_equal(buf, "");
}

static void test_truncation(void **state)
{
    char buf[8];
    int n = exc_describe_error(14, 0x2, buf, sizeof buf);
    assert_int_equal(n, (int)strlen("page not present, write, supervisor mode"));
    assert_string_equal(buf, "page no");
    assert_int_equal(exc_describe_error(14, 0x2, NULL, 0), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),          cmocka_unit_test(test_error_code_vectors),
        cmocka_unit_test(test_page_fault),     cmocka_unit_test(test_selector_errors),
        cmocka_unit_test(test_no_description), cmocka_unit_test(test_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
