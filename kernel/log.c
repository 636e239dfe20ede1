#include "kernel/log.h"

#include <stdarg.h>
#include <stdint.h>

#include "arch/x86/irq.h"
#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/log_ring.h"
#include "kernel/string.h"

#define LOG_LINE_MAX 256

static char ring_buf[32768];
static struct log_ring ring = { ring_buf, sizeof ring_buf, 0, 0, 0 };
static enum log_level console_level = LOG_INFO;

void log_set_console_level(enum log_level level) { console_level = level; }
enum log_level log_console_level(void) { return console_level; }

void klog(enum log_level level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    uint64_t ns = arch_time_ns();
    int n = ksnprintf(line, sizeof line, "[%5u.%06u] %s: ", (unsigned)(ns / 1000000000u),
                      (unsigned)(ns / 1000u % 1000000u), log_level_name(level));
    va_list ap;
    va_start(ap, fmt);
    if (n < (int)sizeof line)
        n += kvsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = n < (int)sizeof line ? (size_t)n : sizeof line - 1;

    irq_state_t s = irq_save();
    log_ring_append(&ring, line, len);
    irq_restore(s);
    if (level <= console_level) {
        console_async_begin();
        console_write(line, len);
        console_putc('\n');
        console_async_end();
    }
}

void log_for_each(void (*emit)(const char *line, void *ctx), void *ctx)
{
    /* Walk a snapshot, so that slow output does not run with interrupts off. */
    static char snap_buf[sizeof ring_buf];
    static char scratch[LOG_LINE_MAX];
    struct log_ring snap;
    irq_state_t s = irq_save();
    snap = ring;
    memcpy(snap_buf, ring_buf, sizeof ring_buf);
    irq_restore(s);
    snap.buf = snap_buf;
    log_ring_for_each(&snap, scratch, sizeof scratch, emit, ctx);
}
