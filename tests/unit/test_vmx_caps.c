// unit-sources: arch/x86/vmx_caps.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/vmx_caps.h"

/* Values in the shape a Skylake server reports (TRUE_ controls, revision 4). */
static struct vmx_msr_values skylake(void)
{
    return (struct vmx_msr_values){
        .cpuid_vmx = true,
        .feature_control = 0x5,              /* locked, VMXON outside SMX */
        .basic = 0x00da040000000004ull,      /* revision 4, true controls (bit 55) */
        .pinbased = 0x0000007f00000016ull,   /* allowed-1 includes bit 6 (preemption timer) */
        .procbased = 0xfff9fffe04006172ull,  /* allowed-1 includes bit 31 (secondary) */
        .procbased2 = 0x00573cfe00000000ull, /* EPT, VPID, unrestricted guest, PML (bit 17) */
        .exit_ctls = 0x01ffffff00036dfbull,
        .entry_ctls = 0x0003ffff000011fbull,
        .misc = 0x00000000300481e5ull, /* preemption timer rate 5 */
        .ept_vpid_cap = 0x00000f0106734141ull,
    };
}

static void test_skylake_everything(void **state)
{
    struct vmx_msr_values in = skylake();
    struct vmx_caps c;
    vmx_caps_decode(&in, &c);
    assert_true(c.cpuid_vmx);
    assert_true(c.enabled_by_firmware);
    assert_true(c.feature_control_locked);
    assert_int_equal(c.revision_id, 4);
    assert_true(c.true_ctls);
    assert_true(c.secondary_ctls);
    assert_true(c.ept);
    assert_true(c.ept_4level);
    assert_true(c.ept_wb);
    assert_true(c.ept_2m);
    assert_true(c.ept_1g);
    assert_true(c.ept_ad);
    assert_true(c.invept);
    assert_true(c.unrestricted_guest);
    assert_true(c.vpid);
    assert_true(c.invvpid);
    assert_true(c.pml);
    assert_true(c.preemption_timer);
    assert_int_equal(c.preemption_timer_shift, 5);
    assert_true(c.usable);
    assert_null(c.missing);
}

static void test_no_vmx(void **state)
{
    struct vmx_msr_values in = {0};
    struct vmx_caps c;
    memset(&c, 0xff, sizeof(c));
    vmx_caps_decode(&in, &c);
    assert_false(c.cpuid_vmx);
    assert_false(c.enabled_by_firmware);
    assert_false(c.ept);
    assert_false(c.vpid);
    assert_false(c.preemption_timer);
    assert_int_equal(c.revision_id, 0);
    assert_false(c.usable);
    assert_string_equal(c.missing, "CPU has no VMX (CPUID.1:ECX.VMX=0)");

    /* MSR values must be ignored without CPUID.VMX (they were never read). */
    in = skylake();
    in.cpuid_vmx = false;
    vmx_caps_decode(&in, &c);
    assert_false(c.ept);
    assert_false(c.usable);
    assert_string_equal(c.missing, "CPU has no VMX (CPUID.1:ECX.VMX=0)");
}

static void expect_missing(const struct vmx_msr_values *in, const char *missing)
{
    struct vmx_caps c;
    vmx_caps_decode(in, &c);
    assert_false(c.usable);
    assert_non_null(c.missing);
    assert_string_equal(c.missing, missing);
}

static void test_feature_control(void **state)
{
    struct vmx_msr_values in = skylake();
    struct vmx_caps c;

    in.feature_control = 0x1; /* locked, VMXON disabled */
    vmx_caps_decode(&in, &c);
    assert_true(c.feature_control_locked);
    assert_false(c.enabled_by_firmware);
    expect_missing(&in, "VMX disabled by firmware (IA32_FEATURE_CONTROL locked without VMXON "
                        "outside SMX)");

    in.feature_control = 0x3; /* locked, only inside SMX */
    expect_missing(&in, "VMX disabled by firmware (IA32_FEATURE_CONTROL locked without VMXON "
                        "outside SMX)");

    in.feature_control = 0x0; /* unlocked: civic may enable it */
    vmx_caps_decode(&in, &c);
    assert_false(c.feature_control_locked);
    assert_true(c.enabled_by_firmware);
    assert_true(c.usable);
}

static void test_no_secondary_controls(void **state)
{
    struct vmx_msr_values in = skylake();
    in.procbased &= ~(1ull << 63);
    struct vmx_caps c;
    vmx_caps_decode(&in, &c);
    assert_false(c.secondary_ctls);
    /* The secondary MSR is meaningless then, even if non-zero. */
    assert_false(c.ept);
    assert_false(c.vpid);
    assert_false(c.unrestricted_guest);
    assert_false(c.pml);
    assert_false(c.ept_4level);
    assert_false(c.invvpid);
    expect_missing(&in, "no EPT (the CPU has no secondary processor-based VM-execution controls)");
}

static void test_no_ept(void **state)
{
    struct vmx_msr_values in = skylake();
    in.procbased2 &= ~(1ull << (32 + 1));
    struct vmx_caps c;
    vmx_caps_decode(&in, &c);
    assert_false(c.ept);
    assert_false(c.ept_4level);
    assert_false(c.ept_ad);
    assert_false(c.invept);
    assert_false(c.pml); /* PML needs EPT A/D */
    assert_true(c.vpid);
    assert_true(c.invvpid);
    expect_missing(&in, "no EPT");
}

static void test_ept_cap_bits(void **state)
{
    struct vmx_msr_values in = skylake();
    in.ept_vpid_cap &= ~(1ull << 6);
    expect_missing(&in, "EPT has no 4-level page walk");

    in = skylake();
    in.ept_vpid_cap &= ~(1ull << 14);
    expect_missing(&in, "EPT has no write-back memory type");

    /* Optional capabilities: still usable without them. */
    struct vmx_caps c;
    in = skylake();
    in.ept_vpid_cap &= ~((1ull << 16) | (1ull << 17) | (1ull << 20) | (1ull << 32));
    vmx_caps_decode(&in, &c);
    assert_false(c.ept_2m);
    assert_false(c.ept_1g);
    assert_false(c.invept);
    assert_false(c.invvpid);
    assert_true(c.ept_ad);
    assert_true(c.usable);

    in = skylake();
    in.ept_vpid_cap &= ~(1ull << 21); /* no A/D: no PML either */
    vmx_caps_decode(&in, &c);
    assert_false(c.ept_ad);
    assert_false(c.pml);
    assert_true(c.usable);
}

static void test_no_unrestricted_guest(void **state)
{
    struct vmx_msr_values in = skylake();
    in.procbased2 &= ~(1ull << (32 + 7));
    expect_missing(&in, "no unrestricted guest");
}

static void test_no_vpid(void **state)
{
    struct vmx_msr_values in = skylake();
    in.procbased2 &= ~(1ull << (32 + 5));
    struct vmx_caps c;
    vmx_caps_decode(&in, &c);
    assert_false(c.vpid);
    assert_false(c.invvpid);
    assert_true(c.ept);
    expect_missing(&in, "no VPID");
}

static void test_no_pml(void **state)
{
    struct vmx_msr_values in = skylake();
    in.procbased2 &= ~(1ull << (32 + 17));
    struct vmx_caps c;
    vmx_caps_decode(&in, &c);
    assert_false(c.pml);
    assert_true(c.usable);
}

static void test_no_preemption_timer(void **state)
{
    struct vmx_msr_values in = skylake();
    in.pinbased &= ~(1ull << (32 + 6));
    struct vmx_caps c;
    vmx_caps_decode(&in, &c);
    assert_false(c.preemption_timer);
    assert_int_equal(c.preemption_timer_shift, 0);
    expect_missing(&in, "no VMX preemption timer");

    /* The low half (allowed-0) must not count as support. */
    in.pinbased = 0x00000016ull | (1ull << 6);
    expect_missing(&in, "no VMX preemption timer");
}

static void test_basic_fields(void **state)
{
    struct vmx_msr_values in = skylake();
    in.basic = 0x80000012ull; /* bit 31 is always 0 in hardware; masked anyway */
    struct vmx_caps c;
    vmx_caps_decode(&in, &c);
    assert_int_equal(c.revision_id, 0x12);
    assert_false(c.true_ctls);
    in.misc = 0x1f;
    vmx_caps_decode(&in, &c);
    assert_int_equal(c.preemption_timer_shift, 31);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skylake_everything),
        cmocka_unit_test(test_no_vmx),
        cmocka_unit_test(test_feature_control),
        cmocka_unit_test(test_no_secondary_controls),
        cmocka_unit_test(test_no_ept),
        cmocka_unit_test(test_ept_cap_bits),
        cmocka_unit_test(test_no_unrestricted_guest),
        cmocka_unit_test(test_no_vpid),
        cmocka_unit_test(test_no_pml),
        cmocka_unit_test(test_no_preemption_timer),
        cmocka_unit_test(test_basic_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
