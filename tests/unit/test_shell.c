// unit-sources: kernel/shell.c kernel/shell_parse.c kernel/line_editor.c kernel/format.c
/* The shell: word splitting, number and size parsing, dispatch through the command table, and
 * the error lines a user sees. The console is a test double that captures output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/console.h"
#include "kernel/console_attach.h"
#include "kernel/format.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"

#include "console_double.h"

/* ---- commands under test ---- */
static int seen_argc;
static char seen_args[8][128];

static civic_err cmd_record(int argc, char **argv)
{
    seen_argc = argc;
    for (int i = 0; i < argc && i < 8; i++)
        snprintf(seen_args[i], sizeof seen_args[i], "%s", argv[i]);
    return CIVIC_OK;
}
SHELL_COMMAND(record, "record", "[ARG...]", "remember the arguments", cmd_record);

static civic_err cmd_strict(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("strict", "takes no arguments");
    kprintf("ok\n");
    return CIVIC_OK;
}
SHELL_COMMAND(strict, "strict", "", "no arguments allowed", cmd_strict);

static int setup(void **state)
{
    out_len = 0;
    out[0] = 0;
    seen_argc = -1;
    shell_init();
    out_len = 0; /* drop the first prompt */
    out[0] = 0;
    return 0;
}

static void type(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        shell_input((uint8_t)s[i]);
}
#define TYPE(lit) type(lit, sizeof(lit) - 1)

/* ---- shell_split ---- */
static void test_split_words(void **state)
{
    char line[] = "  vm   create\tlinux  mem=64M ";
    char *argv[SHELL_MAX_ARGS];
    int argc;
    struct shell_parse_error err;
    assert_int_equal(shell_split(line, &argc, argv, &err), CIVIC_OK);
    assert_int_equal(argc, 4);
    assert_string_equal(argv[0], "vm");
    assert_string_equal(argv[1], "create");
    assert_string_equal(argv[2], "linux");
    assert_string_equal(argv[3], "mem=64M");
}

static void test_split_quotes(void **state)
{
    char line[] = "vm create a cmdline=\"console=ttyS0 quiet\" x=\"say \\\"hi\\\" \\\\\"";
    char *argv[SHELL_MAX_ARGS];
    int argc;
    struct shell_parse_error err;
    assert_int_equal(shell_split(line, &argc, argv, &err), CIVIC_OK);
    assert_int_equal(argc, 5);
    assert_string_equal(argv[3], "cmdline=console=ttyS0 quiet");
    assert_string_equal(argv[4], "x=say \"hi\" \\");
}

static void test_split_empty_and_blank(void **state)
{
    char a[] = "";
    char b[] = "   \t ";
    char *argv[SHELL_MAX_ARGS];
    int argc = -1;
    struct shell_parse_error err;
    assert_int_equal(shell_split(a, &argc, argv, &err), CIVIC_OK);
    assert_int_equal(argc, 0);
    assert_int_equal(shell_split(b, &argc, argv, &err), CIVIC_OK);
    assert_int_equal(argc, 0);
}

static void test_split_errors(void **state)
{
    char unterminated[] = "echo \"abc";
    char *argv[SHELL_MAX_ARGS];
    int argc;
    struct shell_parse_error err;
    assert_int_equal(shell_split(unterminated, &argc, argv, &err), CIVIC_EINVAL);
    assert_string_equal(err.msg, "unterminated quote");
    assert_int_equal(err.column, 5);

    char many[200] = "";
    for (int i = 0; i < SHELL_MAX_ARGS + 1; i++)
        strcat(many, "w ");
    assert_int_equal(shell_split(many, &argc, argv, &err), CIVIC_EINVAL);
    assert_string_equal(err.msg, "too many words");

    char exact[200] = "";
    for (int i = 0; i < SHELL_MAX_ARGS; i++)
        strcat(exact, "w ");
    assert_int_equal(shell_split(exact, &argc, argv, &err), CIVIC_OK);
    assert_int_equal(argc, SHELL_MAX_ARGS);
}

/* ---- numbers ---- */
static void test_parse_u64(void **state)
{
    uint64_t v;
    assert_int_equal(shell_parse_u64("0", &v), CIVIC_OK);
    assert_int_equal(v, 0);
    assert_int_equal(shell_parse_u64("18446744073709551615", &v), CIVIC_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(shell_parse_u64("18446744073709551616", &v), CIVIC_ERANGE);
    assert_int_equal(shell_parse_u64("0xffffffffffffffff", &v), CIVIC_OK);
    assert_int_equal(shell_parse_u64("0x1ffffffffffffffff", &v), CIVIC_ERANGE);
    assert_int_equal(shell_parse_u64("0x", &v), CIVIC_EINVAL);
    assert_int_equal(shell_parse_u64("", &v), CIVIC_EINVAL);
    assert_int_equal(shell_parse_u64("12a", &v), CIVIC_EINVAL);
    assert_int_equal(shell_parse_u64("-1", &v), CIVIC_EINVAL);
}

static void test_parse_size(void **state)
{
    uint64_t v;
    assert_int_equal(shell_parse_size("4096", &v), CIVIC_OK);
    assert_int_equal(v, 4096);
    assert_int_equal(shell_parse_size("64K", &v), CIVIC_OK);
    assert_int_equal(v, 64 * 1024);
    assert_int_equal(shell_parse_size("256M", &v), CIVIC_OK);
    assert_int_equal(v, 256ull << 20);
    assert_int_equal(shell_parse_size("2GiB", &v), CIVIC_OK);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(shell_parse_size("1t", &v), CIVIC_OK);
    assert_int_equal(v, 1ull << 40);
    assert_int_equal(shell_parse_size("16777216T", &v), CIVIC_ERANGE);
    assert_int_equal(shell_parse_size("M", &v), CIVIC_EINVAL);
    assert_int_equal(shell_parse_size("12Q", &v), CIVIC_EINVAL);
    assert_int_equal(shell_parse_size("12MM", &v), CIVIC_EINVAL);
    assert_int_equal(shell_parse_size("99999999999999999999999", &v), CIVIC_ERANGE);
}

static void test_kv(void **state)
{
    assert_string_equal(shell_kv("mem=64M", "mem"), "64M");
    assert_string_equal(shell_kv("mem=", "mem"), "");
    assert_null(shell_kv("memory=64M", "mem"));
    assert_null(shell_kv("mem", "mem"));
}

/* ---- dispatch, as typed ---- */
static void test_dispatch_with_args(void **state)
{
    TYPE("record a \"b c\"\r");
    assert_int_equal(seen_argc, 3);
    assert_string_equal(seen_args[2], "b c");
    assert_non_null(strstr(out, "civic> "));
}

static void test_unknown_command(void **state)
{
    TYPE("frobnicate now\r");
    assert_non_null(strstr(out, "error: unknown command 'frobnicate'"));
    /* exactly one error line, then the prompt */
    const char *e = strstr(out, "error:");
    assert_non_null(strchr(e, '\n'));
    assert_string_equal(strchr(e, '\n') + 1, "civic> ");
}

static void test_usage_error_names_usage(void **state)
{
    TYPE("strict extra\r");
    assert_non_null(strstr(out, "error: takes no arguments (usage: strict)"));
    out_len = 0;
    TYPE("strict\r");
    assert_non_null(strstr(out, "ok\n"));
}

static void test_unterminated_quote_reported(void **state)
{
    TYPE("record \"abc\r");
    assert_int_equal(seen_argc, -1);
    assert_non_null(strstr(out, "error: unterminated quote at column 8"));
}

static void test_too_long_line_runs_nothing(void **state)
{
    static char line[4096];
    memcpy(line, "record ", 7);
    memset(line + 7, 'x', sizeof line - 7);
    type(line, sizeof line);
    TYPE("\r");
    assert_int_equal(seen_argc, -1);
    assert_non_null(strstr(out, "error: line too long"));
    TYPE("record after\r");
    assert_int_equal(seen_argc, 2);
}

static void test_non_ascii_line_runs_nothing(void **state)
{
    TYPE("record \xe2\x82\xac\r");
    assert_int_equal(seen_argc, -1);
    assert_non_null(strstr(out, "error: line holds byte 0xe2"));
}

static void test_long_unknown_word_bounded(void **state)
{
    static char line[600];
    memset(line, 'z', sizeof line);
    type(line, sizeof line);
    TYPE("\r");
    const char *e = strstr(out, "error: unknown command '");
    assert_non_null(e);
    assert_true(strlen(e) < 120); /* the echo of the word is bounded */
}

/* A log line arriving while the operator types: the shell redraws the prompt and the
 * half-typed line after it. */
static void test_redraw_after_async_output(void **state)
{
    TYPE("rec");
    out_len = 0;
    out[0] = 0;
    assert_non_null(redraw_hook);
    redraw_hook();
    assert_string_equal(out, "civic> rec");
    TYPE("ord x\r");
    assert_int_equal(seen_argc, 2);
}

static void test_help_lookup(void **state)
{
    assert_non_null(shell_find("record"));
    assert_null(shell_find("recor"));
    assert_int_equal(shell_command_count(), 2);
    assert_string_equal(shell_command_at(0)->name, "record"); /* sorted */
    assert_string_equal(shell_command_at(1)->name, "strict");
    assert_null(shell_command_at(2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_words),
        cmocka_unit_test(test_split_quotes),
        cmocka_unit_test(test_split_empty_and_blank),
        cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_kv),
        cmocka_unit_test_setup(test_dispatch_with_args, setup),
        cmocka_unit_test_setup(test_unknown_command, setup),
        cmocka_unit_test_setup(test_usage_error_names_usage, setup),
        cmocka_unit_test_setup(test_unterminated_quote_reported, setup),
        cmocka_unit_test_setup(test_too_long_line_runs_nothing, setup),
        cmocka_unit_test_setup(test_non_ascii_line_runs_nothing, setup),
        cmocka_unit_test_setup(test_long_unknown_word_bounded, setup),
        cmocka_unit_test_setup(test_redraw_after_async_output, setup),
        cmocka_unit_test_setup(test_help_lookup, setup),
    };
    return cmocka_run_group_tests_name("shell", tests, NULL, NULL);
}
