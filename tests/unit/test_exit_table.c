// unit-sources: arch/x86/exit_table.c arch/x86/exit_names.c
/* The exit table covers every basic exit reason with a handler and a name, maps the reasons whose
 * treatment the SDM dictates to the right kind of handler, and bounds-checks the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/exit.h"
#include "arch/x86/exit_reason.h"
#include "kernel/arch_vmx.h"

/* Test doubles of the handlers: each records that it ran. */
static const char *last_called;
#define DOUBLE(name)                                                                 \
    enum exit_action name(struct vcpu *v, const struct exit_info *e)                 \
    {                                                                                \
        last_called = #name;                                                         \
        return EXIT_RESUME;                                                          \
    }
DOUBLE(exit_unexpected)
DOUBLE(exit_inject_ud)
DOUBLE(exit_inject_gp)
DOUBLE(exit_skip)
DOUBLE(exit_exception_or_nmi)
DOUBLE(exit_external_interrupt)
DOUBLE(exit_triple_fault)
DOUBLE(exit_init_signal)
DOUBLE(exit_startup_ipi)
DOUBLE(exit_interrupt_window)
DOUBLE(exit_task_switch)
DOUBLE(exit_hlt)
DOUBLE(exit_entry_failure)
DOUBLE(exit_monitor_trap_flag)
DOUBLE(exit_preemption_timer)
DOUBLE(exit_xsetbv)
DOUBLE(exit_cpuid)
DOUBLE(exit_io)
DOUBLE(exit_cr_access)
DOUBLE(exit_rdmsr)
DOUBLE(exit_wrmsr)
DOUBLE(exit_ept_violation)
DOUBLE(exit_ept_misconfiguration)

static void test_every_reason_has_handler_and_name(void **state)
{
    assert_int_equal(EXIT_REASON_COUNT, ARCH_EXIT_REASONS);
    for (unsigned r = 0; r < ARCH_EXIT_REASONS; r++) {
        assert_non_null(exit_handler_for(r));
        const char *n = arch_exit_reason_name(r);
        assert_non_null(n);
        assert_string_not_equal(n, "unknown");
        assert_true(strlen(n) > 0);
        /* Names are unique: `vm stats` keys must not collide. */
        for (unsigned s = 0; s < r; s++)
            assert_string_not_equal(n, arch_exit_reason_name(s));
    }
}

static void test_names_follow_the_sdm(void **state)
{
    assert_string_equal(arch_exit_reason_name(0), "exception-or-nmi");
    assert_string_equal(arch_exit_reason_name(10), "cpuid");
    assert_string_equal(arch_exit_reason_name(30), "io-instruction");
    assert_string_equal(arch_exit_reason_name(48), "ept-violation");
    assert_string_equal(arch_exit_reason_name(52), "preemption-timer");
    assert_string_equal(arch_exit_reason_name(79), "wrmsrlist");
    assert_string_equal(arch_exit_reason_name(80), "unknown");
    assert_string_equal(arch_exit_reason_name(0xffffffffu), "unknown");
}

static void test_vmx_instructions_raise_ud(void **state)
{
    static const unsigned ud[] = {EXIT_REASON_VMCALL,  EXIT_REASON_VMCLEAR,  EXIT_REASON_VMLAUNCH,
                                  EXIT_REASON_VMPTRLD, EXIT_REASON_VMPTRST,  EXIT_REASON_VMREAD,
                                  EXIT_REASON_VMRESUME, EXIT_REASON_VMWRITE, EXIT_REASON_VMXOFF,
                                  EXIT_REASON_VMXON,   EXIT_REASON_INVEPT,   EXIT_REASON_INVVPID,
                                  EXIT_REASON_VMFUNC,  EXIT_REASON_GETSEC};
    for (unsigned i = 0; i < sizeof ud / sizeof ud[0]; i++)
        assert_ptr_equal(exit_handler_for(ud[i]), exit_inject_ud);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_RDPMC), exit_inject_gp);
}

static void test_handled_reasons(void **state)
{
    assert_ptr_equal(exit_handler_for(EXIT_REASON_CPUID), exit_cpuid);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_IO_INSTRUCTION), exit_io);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_HLT), exit_hlt);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_EPT_VIOLATION), exit_ept_violation);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_TRIPLE_FAULT), exit_triple_fault);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_PREEMPTION_TIMER_EXPIRED),
                     exit_preemption_timer);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_ENTRY_FAILURE_INVALID_GUEST_STATE),
                     exit_entry_failure);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_ENTRY_FAILURE_MSR_LOADING), exit_entry_failure);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_ENTRY_FAILURE_MACHINE_CHECK), exit_entry_failure);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_INVD), exit_skip);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_WBINVD), exit_skip);
    /* Unused numbers and exits our controls never enable stop the VM. */
    assert_ptr_equal(exit_handler_for(EXIT_REASON_35), exit_unexpected);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_RDTSC), exit_unexpected);
    assert_ptr_equal(exit_handler_for(EXIT_REASON_PML_FULL), exit_unexpected);
}

static void test_dispatch_bounds_checked(void **state)
{
    struct exit_info e = {EXIT_REASON_CPUID, 0};
    last_called = NULL;
    assert_int_equal(exit_dispatch(NULL, &e), EXIT_RESUME);
    assert_string_equal(last_called, "exit_cpuid");
    e.reason = ARCH_EXIT_REASONS;
    exit_dispatch(NULL, &e);
    assert_string_equal(last_called, "exit_unexpected");
    e.reason = 0xffff;
    exit_dispatch(NULL, &e);
    assert_string_equal(last_called, "exit_unexpected");
    assert_ptr_equal(exit_handler_for(1000), exit_unexpected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_reason_has_handler_and_name),
        cmocka_unit_test(test_names_follow_the_sdm),
        cmocka_unit_test(test_vmx_instructions_raise_ud),
        cmocka_unit_test(test_handled_reasons),
        cmocka_unit_test(test_dispatch_bounds_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
