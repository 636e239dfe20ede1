/*
 * Splitting a shell line into words, pure and host-tested. Words are separated by spaces or tabs;
 * double quotes group a word (`cmdline="a b"` is one word, `cmdline=a b`), and inside quotes \"
 * and \\ stand for " and \. The words are written into the line's own buffer.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

#define SHELL_MAX_ARGS 32

struct shell_parse_error {
    const char *msg; /* what is wrong */
    size_t column;   /* where (0-based) */
};

/* Returns CIVIC_OK with *argc words, or CIVIC_EINVAL (unterminated quote, too many words) with
 * err filled. */
civic_err shell_split(char *line, int *argc, char **argv, struct shell_parse_error *err);

/* Parses a size such as 4096, 64K, 256M, 2G (binary units, optional trailing B/iB). */
civic_err shell_parse_size(const char *s, uint64_t *out);
/* Parses a decimal or 0x-prefixed unsigned number that must fit in 64 bits. */
civic_err shell_parse_u64(const char *s, uint64_t *out);
/* If word is "key=value" with the given key, returns the value, else NULL. */
const char *shell_kv(const char *word, const char *key);
