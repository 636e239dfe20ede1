/*
 * The shell's line editing, as a pure state machine fed one input byte at a time: printable
 * ASCII is inserted and echoed, Backspace/DEL erase, Ctrl-U erases the line, Ctrl-C cancels it,
 * Up/Down (ESC [ A / ESC [ B) walk the history. A line longer than the buffer is rejected whole
 * when it ends (never truncated into a different command); a line holding a byte above 0x7f is
 * rejected too. Other control characters are ignored.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINE_MAX 1024 /* bytes including the NUL: lines of up to 1023 characters */
#define LINE_HISTORY 16

typedef void (*line_out_fn)(void *ctx, const char *s, size_t n);

enum line_event {
    LINE_NONE,        /* keep feeding */
    LINE_READY,       /* a line is in ed->line (NUL-terminated) */
    LINE_CANCELLED,   /* Ctrl-C */
    LINE_TOO_LONG,    /* the line ended but was longer than LINE_MAX - 1 */
    LINE_BAD_BYTE,    /* the line ended but held a byte above 0x7f (ed->bad_byte) */
};

struct line_editor {
    char line[LINE_MAX];
    size_t len;
    bool overflow;
    bool has_bad_byte;
    uint8_t bad_byte;
    bool after_cr;  /* swallow the LF of a CR LF pair */
    int esc;        /* 0: none, 1: got ESC, 2: got ESC [ */
    char history[LINE_HISTORY][LINE_MAX];
    unsigned history_count; /* entries stored (<= LINE_HISTORY) */
    unsigned history_next;  /* slot the next entry goes to */
    unsigned history_back;  /* 0: editing a new line; k: showing the k-th newest entry */
    line_out_fn out;
    void *out_ctx;
};

void line_editor_init(struct line_editor *ed, line_out_fn out, void *out_ctx);
enum line_event line_editor_feed(struct line_editor *ed, uint8_t byte);
/* Starts a fresh line (after the caller handled an event). */
void line_editor_reset(struct line_editor *ed);
