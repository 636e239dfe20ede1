/*
 * Kernel log: every message goes into a ring (the shell's `log` shows it) and, at or above the
 * console level, to the console. Messages are one line each and start with their subsystem.
 */
#pragma once
#include <stddef.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void klog(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) klog(LOG_ERR, __VA_ARGS__)
#define log_warn(...) klog(LOG_WARN, __VA_ARGS__)
#define log_info(...) klog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

void log_set_console_level(enum log_level level);
enum log_level log_console_level(void);
const char *log_level_name(enum log_level level);
/* Parses "err", "warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *name);

/* Calls emit for each retained line, oldest first (without its newline). */
void log_for_each(void (*emit)(const char *line, void *ctx), void *ctx);
