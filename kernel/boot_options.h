/*
 * civic's options on the GRUB command line (`multiboot2 /boot/civic.elf OPTION...`), parsed in
 * one place. Today: log=err|warn|info|debug (what reaches the console). Unknown options are
 * reported and ignored, never fatal.
 */
#pragma once
#include <stddef.h>

#include "kernel/error.h"

struct boot_options {
    int console_log_level; /* -1: default */
};

typedef void (*boot_option_warn_fn)(void *ctx, const char *msg);

/* Pure: parses a copy of the command line. Returns the number of problems reported. */
unsigned boot_options_parse(const char *cmdline, struct boot_options *out,
                            boot_option_warn_fn warn, void *ctx);
