#include "kernel/line_editor.h"

#include "kernel/string.h"

#define CTRL(c) ((c) & 0x1f)
#define KEY_BS 0x08
#define KEY_DEL 0x7f
#define KEY_ESC 0x1b

static void out(struct line_editor *ed, const char *s, size_t n)
{
    if (ed->out)
        ed->out(ed->out_ctx, s, n);
}

static void out_str(struct line_editor *ed, const char *s) { out(ed, s, strlen(s)); }

void line_editor_init(struct line_editor *ed, line_out_fn fn, void *ctx)
{
    memset(ed, 0, sizeof *ed);
    ed->out = fn;
    ed->out_ctx = ctx;
}

void line_editor_reset(struct line_editor *ed)
{
    ed->len = 0;
    ed->line[0] = 0;
    ed->overflow = false;
    ed->has_bad_byte = false;
    ed->bad_byte = 0;
    ed->esc = 0;
    ed->history_back = 0;
}

static void erase_visible(struct line_editor *ed)
{
    /* Overflowed input was never echoed past the buffer, so len is what the terminal shows. */
    for (size_t i = 0; i < ed->len; i++)
        out(ed, "\b \b", 3);
}

static void history_add(struct line_editor *ed)
{
    if (ed->len == 0)
        return;
    if (ed->history_count > 0) {
        unsigned newest = (ed->history_next + LINE_HISTORY - 1) % LINE_HISTORY;
        if (strcmp(ed->history[newest], ed->line) == 0)
            return; /* don't store repeats */
    }
    memcpy(ed->history[ed->history_next], ed->line, ed->len + 1);
    ed->history_next = (ed->history_next + 1) % LINE_HISTORY;
    if (ed->history_count < LINE_HISTORY)
        ed->history_count++;
}

/* Replaces the edited line with the back-th newest history entry (0: an empty new line). */
static void history_show(struct line_editor *ed, unsigned back)
{
    if (back > ed->history_count)
        return;
    erase_visible(ed);
    ed->history_back = back;
    ed->overflow = false;
    ed->has_bad_byte = false;
    if (back == 0) {
        ed->len = 0;
    } else {
        unsigned slot = (ed->history_next + LINE_HISTORY - back) % LINE_HISTORY;
        ed->len = strlen(ed->history[slot]);
        memcpy(ed->line, ed->history[slot], ed->len + 1);
        out(ed, ed->line, ed->len);
    }
    ed->line[ed->len] = 0;
}

static enum line_event finish_line(struct line_editor *ed)
{
    out(ed, "\r\n", 2);
    ed->line[ed->len] = 0;
    if (ed->overflow)
        return LINE_TOO_LONG;
    if (ed->has_bad_byte)
        return LINE_BAD_BYTE;
    history_add(ed);
    return LINE_READY;
}

static void handle_escape(struct line_editor *ed, uint8_t b)
{
    if (ed->esc == 1) {
        ed->esc = (b == '[' || b == 'O') ? 2 : 0;
        return;
    }
    /* ESC [ parameters... final byte in 0x40-0x7e ends the sequence. */
    if (b >= 0x40 && b <= 0x7e) {
        ed->esc = 0;
        if (b == 'A')
            history_show(ed, ed->history_back + 1);
        else if (b == 'B' && ed->history_back > 0)
            history_show(ed, ed->history_back - 1);
    }
}

enum line_event line_editor_feed(struct line_editor *ed, uint8_t b)
{
    bool was_cr = ed->after_cr;
    ed->after_cr = false;

    if (ed->esc) {
        handle_escape(ed, b);
        return LINE_NONE;
    }
    if (b == '\r') {
        ed->after_cr = true;
        return finish_line(ed);
    }
    if (b == '\n')
        return was_cr ? LINE_NONE : finish_line(ed);

    switch (b) {
    case KEY_BS:
    case KEY_DEL:
        if (ed->len > 0 && !ed->overflow) {
            ed->len--;
            out(ed, "\b \b", 3);
        }
        return LINE_NONE;
    case CTRL('U'):
        erase_visible(ed);
        line_editor_reset(ed);
        return LINE_NONE;
    case CTRL('C'):
        out_str(ed, "^C\r\n");
        return LINE_CANCELLED;
    case KEY_ESC:
        ed->esc = 1;
        return LINE_NONE;
    default:
        break;
    }
    if (b >= 0x80) {
        if (!ed->has_bad_byte) {
            ed->has_bad_byte = true;
            ed->bad_byte = b;
        }
        return LINE_NONE;
    }
    if (b < 0x20)
        return LINE_NONE; /* other control characters carry no meaning here */
    if (ed->len + 1 >= LINE_MAX) {
        ed->overflow = true;
        return LINE_NONE;
    }
    ed->line[ed->len++] = (char)b;
    out(ed, (const char *)&b, 1);
    return LINE_NONE;
}
