#include "kernel/boot_options.h"

#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"

#define CMDLINE_COPY_MAX 1024

static unsigned report(boot_option_warn_fn warn, void *ctx, const char *fmt, const char *arg)
{
    char msg[160];
    ksnprintf(msg, sizeof msg, fmt, arg);
    if (warn)
        warn(ctx, msg);
    return 1;
}

unsigned boot_options_parse(const char *cmdline, struct boot_options *out,
                            boot_option_warn_fn warn, void *ctx)
{
    out->console_log_level = -1;
    char copy[CMDLINE_COPY_MAX];
    size_t len = strnlen(cmdline, sizeof copy);
    if (len == sizeof copy)
        return report(warn, ctx, "command line longer than %s bytes; options ignored", "1023");
    memcpy(copy, cmdline, len + 1);

    char *argv[SHELL_MAX_ARGS];
    int argc;
    struct shell_parse_error perr;
    if (shell_split(copy, &argc, argv, &perr) != CIVIC_OK)
        return report(warn, ctx, "command line: %s; options ignored", perr.msg);

    unsigned problems = 0;
    for (int i = 0; i < argc; i++) {
        const char *v;
        if ((v = shell_kv(argv[i], "log"))) {
            int level = log_level_parse(v);
            if (level < 0)
                problems += report(warn, ctx, "log=%.20s: expected err, warn, info or debug", v);
            else
                out->console_log_level = level;
        } else {
            problems += report(warn, ctx, "unknown option '%.40s' ignored", argv[i]);
        }
    }
    return problems;
}
