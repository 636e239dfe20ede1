/*
 * The management shell. Commands register themselves with SHELL_COMMAND (a linker section), so
 * a subsystem adds its commands without editing a central list. Output convention: facts as
 * one `key=value` line each; failures as one line starting with `error:`.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

struct shell_command {
    const char *name;
    const char *usage;   /* arguments, e.g. "[level=err|warn|info|debug]" */
    const char *summary; /* one line */
    /* Returns CIVIC_OK, or an error after printing its own `error:` line. */
    civic_err (*run)(int argc, char **argv);
};

#define SHELL_COMMAND(ident, cmd_name, cmd_usage, cmd_summary, fn)                          \
    static const struct shell_command shell_cmd_##ident                                      \
        __attribute__((used, section("shell_cmds"), aligned(8))) = {                         \
            .name = cmd_name, .usage = cmd_usage, .summary = cmd_summary, .run = fn }

void shell_init(void);
/* Feeds one byte from the console; runs the command when a line is complete. */
void shell_input(uint8_t byte);
/* Runs one line as if typed (used for commands from the GRUB command line). */
civic_err shell_run_line(char *line);
/* Prints `error: <msg>` and the command's usage; returns CIVIC_EINVAL. */
civic_err shell_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints `error: <msg>` (one line); returns e. */
civic_err shell_error(civic_err e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const struct shell_command *shell_find(const char *name);
/* A command that hands the console to something else (`vm console`) calls this so that no
 * prompt follows it; shell_prompt() prints a fresh prompt when the console comes back. */
void shell_suppress_prompt(void);
void shell_prompt(void);
/* Iteration over the registered commands, in name order. */
size_t shell_command_count(void);
const struct shell_command *shell_command_at(size_t i);
