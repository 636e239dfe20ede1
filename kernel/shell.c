#include "kernel/shell.h"

#include <stdarg.h>

#include "kernel/console.h"
#include "kernel/console_attach.h"
#include "kernel/format.h"
#include "kernel/line_editor.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"

#define PROMPT "civic> "

extern const struct shell_command __start_shell_cmds[], __stop_shell_cmds[];

static struct line_editor editor;
static bool prompt_suppressed;
static bool running_command;

/* After asynchronous console output: show the prompt and the half-typed line again, unless a
 * command is running (its output continues) or a guest has the console. */
static void redraw(void)
{
    if (running_command || prompt_suppressed || console_attached())
        return;
    console_puts(PROMPT);
    console_write(editor.line, editor.len);
}
static const struct shell_command *sorted[128];
static size_t ncommands;

static void editor_out(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    console_write(s, n);
}

void shell_init(void)
{
    /* Sort once by name so `help` lists commands alphabetically whatever the link order. */
    ncommands = 0;
    for (const struct shell_command *c = __start_shell_cmds; c < __stop_shell_cmds; c++) {
        if (ncommands == sizeof sorted / sizeof sorted[0])
            break;
        size_t i = ncommands++;
        while (i > 0 && strcmp(sorted[i - 1]->name, c->name) > 0) {
            sorted[i] = sorted[i - 1];
            i--;
        }
        sorted[i] = c;
    }
    line_editor_init(&editor, editor_out, NULL);
    console_set_redraw_hook(redraw);
    console_puts(PROMPT);
}

size_t shell_command_count(void) { return ncommands; }
const struct shell_command *shell_command_at(size_t i) { return i < ncommands ? sorted[i] : NULL; }

const struct shell_command *shell_find(const char *name)
{
    for (size_t i = 0; i < ncommands; i++)
        if (strcmp(sorted[i]->name, name) == 0)
            return sorted[i];
    return NULL;
}

static void emit_console(void *ctx, char c)
{
    (void)ctx;
    console_putc(c);
}

civic_err shell_error(civic_err e, const char *fmt, ...)
{
    console_puts("error: ");
    va_list ap;
    va_start(ap, fmt);
    kvformat(emit_console, NULL, fmt, ap);
    va_end(ap);
    console_puts("\n");
    return e;
}

civic_err shell_usage_error(const char *cmd, const char *fmt, ...)
{
    const struct shell_command *c = shell_find(cmd);
    console_puts("error: ");
    va_list ap;
    va_start(ap, fmt);
    kvformat(emit_console, NULL, fmt, ap);
    va_end(ap);
    if (c)
        kprintf(" (usage: %s%s%s)", c->name, c->usage[0] ? " " : "", c->usage);
    console_puts("\n");
    return CIVIC_EINVAL;
}

civic_err shell_run_line(char *line)
{
    char *argv[SHELL_MAX_ARGS];
    int argc;
    struct shell_parse_error perr;
    if (shell_split(line, &argc, argv, &perr) != CIVIC_OK)
        return shell_error(CIVIC_EINVAL, "%s at column %u", perr.msg, (unsigned)perr.column + 1);
    if (argc == 0)
        return CIVIC_OK;
    const struct shell_command *c = shell_find(argv[0]);
    if (!c) {
        /* Print only a bounded, printable prefix of what the user typed. */
        return shell_error(CIVIC_ENOENT, "unknown command '%.40s' (type 'help')", argv[0]);
    }
    return c->run(argc, argv);
}

void shell_input(uint8_t byte)
{
    switch (line_editor_feed(&editor, byte)) {
    case LINE_NONE:
        return;
    case LINE_READY:
        running_command = true;
        shell_run_line(editor.line);
        running_command = false;
        break;
    case LINE_CANCELLED:
        break;
    case LINE_TOO_LONG:
        shell_error(CIVIC_ERANGE, "line too long (at most %u characters); nothing was run",
                    LINE_MAX - 1);
        break;
    case LINE_BAD_BYTE:
        shell_error(CIVIC_EINVAL, "line holds byte 0x%02x, which is not ASCII; nothing was run",
                    editor.bad_byte);
        break;
    }
    line_editor_reset(&editor);
    if (prompt_suppressed)
        prompt_suppressed = false;
    else
        console_puts(PROMPT);
}

void shell_suppress_prompt(void) { prompt_suppressed = true; }

void shell_prompt(void)
{
    line_editor_reset(&editor);
    console_puts(PROMPT);
}
