// unit-sources: kernel/line_editor.c
/* The shell's line handling: editing keys, overflow, bad bytes, history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/line_editor.h"

static char echo[1 << 16];
static size_t echo_len;

static void capture(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    assert_true(echo_len + n < sizeof echo);
    memcpy(echo + echo_len, s, n);
    echo_len += n;
    echo[echo_len] = 0;
}

static struct line_editor ed;

static int setup(void **state)
{
    (void)state;
    echo_len = 0;
    echo[0] = 0;
    line_editor_init(&ed, capture, NULL);
    return 0;
}

/* Feeds a string; returns the last event that was not LINE_NONE (or LINE_NONE). */
static enum line_event feed(const char *s, size_t n)
{
    enum line_event last = LINE_NONE;
    for (size_t i = 0; i < n; i++) {
        enum line_event e = line_editor_feed(&ed, (uint8_t)s[i]);
        if (e != LINE_NONE)
            last = e;
    }
    return last;
}
#define FEED(lit) feed(lit, sizeof(lit) - 1)

static void test_simple_line(void **state)
{
    assert_int_equal(FEED("help"), LINE_NONE);
    assert_int_equal(FEED("\r"), LINE_READY);
    assert_string_equal(ed.line, "help");
    assert_string_equal(echo, "help\r\n");
}

static void test_crlf_is_one_line_end(void **state)
{
    assert_int_equal(FEED("a\r"), LINE_READY);
    line_editor_reset(&ed);
    /* The LF of CR LF must not produce a second, empty line. */
    assert_int_equal(FEED("\n"), LINE_NONE);
    assert_int_equal(FEED("b\n"), LINE_READY);
    assert_string_equal(ed.line, "b");
}

static void test_backspace_and_del(void **state)
{
    assert_int_equal(FEED("helx\b" "p\r"), LINE_READY);
    assert_string_equal(ed.line, "help");
    line_editor_reset(&ed);
    assert_int_equal(FEED("memm\x7f\r"), LINE_READY);
    assert_string_equal(ed.line, "mem");
    line_editor_reset(&ed);
    /* Backspace on an empty line does nothing (and echoes nothing). */
    echo_len = 0;
    echo[0] = 0;
    assert_int_equal(FEED("\b\b\r"), LINE_READY);
    assert_string_equal(ed.line, "");
    assert_string_equal(echo, "\r\n");
}

static void test_ctrl_u_erases_line(void **state)
{
    assert_int_equal(FEED("garbage\x15" "cpu\r"), LINE_READY);
    assert_string_equal(ed.line, "cpu");
}

static void test_ctrl_c_cancels(void **state)
{
    assert_int_equal(FEED("poweroff\x03"), LINE_CANCELLED);
    assert_non_null(strstr(echo, "^C"));
    line_editor_reset(&ed);
    assert_int_equal(FEED("\r"), LINE_READY);
    assert_string_equal(ed.line, "");
}

static void test_max_length_line_accepted(void **state)
{
    char buf[LINE_MAX - 1];
    memset(buf, 'a', sizeof buf);
    assert_int_equal(feed(buf, sizeof buf), LINE_NONE);
    assert_int_equal(FEED("\r"), LINE_READY);
    assert_int_equal(strlen(ed.line), LINE_MAX - 1);
}

static void test_overlong_line_rejected_whole(void **state)
{
    static char buf[4096];
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "echo ", 5);
    assert_int_equal(feed(buf, sizeof buf), LINE_NONE);
    assert_int_equal(FEED("\r"), LINE_TOO_LONG);
    assert_true(ed.len <= LINE_MAX - 1);
    /* The editor recovers: the next line is normal. */
    line_editor_reset(&ed);
    assert_int_equal(FEED("version\r"), LINE_READY);
    assert_string_equal(ed.line, "version");
}

static void test_one_over_limit_rejected(void **state)
{
    char buf[LINE_MAX];
    memset(buf, 'b', sizeof buf);
    assert_int_equal(feed(buf, sizeof buf), LINE_NONE);
    assert_int_equal(FEED("\r"), LINE_TOO_LONG);
}

static void test_high_bytes_reject_line(void **state)
{
    assert_int_equal(FEED("ec\xc3\xa9ho\r"), LINE_BAD_BYTE);
    assert_int_equal(ed.bad_byte, 0xc3);
    line_editor_reset(&ed);
    assert_int_equal(FEED("echo\r"), LINE_READY);
}

static void test_control_chars_ignored(void **state)
{
    assert_int_equal(feed("ve\x01r\x00s\x07i\x0co\x1fn\r", 13), LINE_READY);
    assert_string_equal(ed.line, "version");
}

static void test_unknown_escape_sequences_swallowed(void **state)
{
    /* Right arrow, F5 (ESC [ 1 5 ~), ESC O P: none inserts text. */
    assert_int_equal(FEED("a\x1b[C\x1b[15~\x1bOPb\r"), LINE_READY);
    assert_string_equal(ed.line, "ab");
}

static void test_history_up_down(void **state)
{
    FEED("first\r");
    line_editor_reset(&ed);
    FEED("second\r");
    line_editor_reset(&ed);
    assert_int_equal(FEED("\x1b[A\r"), LINE_READY);
    assert_string_equal(ed.line, "second");
    line_editor_reset(&ed);
    assert_int_equal(FEED("\x1b[A\x1b[A\r"), LINE_READY);
    assert_string_equal(ed.line, "first");
    line_editor_reset(&ed);
    /* Up past the oldest stays on the oldest; down returns to an empty new line. */
    assert_int_equal(FEED("\x1b[A\x1b[A\x1b[A\x1b[A\r"), LINE_READY);
    assert_string_equal(ed.line, "first");
    line_editor_reset(&ed);
    assert_int_equal(FEED("\x1b[A\x1b[B\r"), LINE_READY);
    assert_string_equal(ed.line, "");
}

static void test_history_wraps_and_skips_repeats(void **state)
{
    char cmd[16];
    for (int i = 0; i < LINE_HISTORY + 5; i++) {
        snprintf(cmd, sizeof cmd, "cmd%d\r", i);
        feed(cmd, strlen(cmd));
        line_editor_reset(&ed);
        feed(cmd, strlen(cmd)); /* a repeat is stored once */
        line_editor_reset(&ed);
    }
    /* The oldest reachable entry is LINE_HISTORY back. */
    for (int i = 0; i < LINE_HISTORY + 3; i++)
        FEED("\x1b[A");
    assert_int_equal(FEED("\r"), LINE_READY);
    snprintf(cmd, sizeof cmd, "cmd%d", 5);
    assert_string_equal(ed.line, cmd);
}

static void test_rejected_lines_not_in_history(void **state)
{
    FEED("good\r");
    line_editor_reset(&ed);
    FEED("b\xff" "d\r");
    line_editor_reset(&ed);
    assert_int_equal(FEED("\x1b[A\r"), LINE_READY);
    assert_string_equal(ed.line, "good");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_simple_line, setup),
        cmocka_unit_test_setup(test_crlf_is_one_line_end, setup),
        cmocka_unit_test_setup(test_backspace_and_del, setup),
        cmocka_unit_test_setup(test_ctrl_u_erases_line, setup),
        cmocka_unit_test_setup(test_ctrl_c_cancels, setup),
        cmocka_unit_test_setup(test_max_length_line_accepted, setup),
        cmocka_unit_test_setup(test_overlong_line_rejected_whole, setup),
        cmocka_unit_test_setup(test_one_over_limit_rejected, setup),
        cmocka_unit_test_setup(test_high_bytes_reject_line, setup),
        cmocka_unit_test_setup(test_control_chars_ignored, setup),
        cmocka_unit_test_setup(test_unknown_escape_sequences_swallowed, setup),
        cmocka_unit_test_setup(test_history_up_down, setup),
        cmocka_unit_test_setup(test_history_wraps_and_skips_repeats, setup),
        cmocka_unit_test_setup(test_rejected_lines_not_in_history, setup),
    };
    return cmocka_run_group_tests_name("line_editor", tests, NULL, NULL);
}
