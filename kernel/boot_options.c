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

/* vm=NAME,MODULE[,mem=SIZE] */
static unsigned parse_vm(const char *v, struct boot_options *out, boot_option_warn_fn warn,
                         void *ctx)
{
    if (out->vm_count == BOOT_VMS_MAX)
        return report(warn, ctx, "vm=%.40s: too many VMs on the command line", v);
    struct boot_vm *bv = &out->vms[out->vm_count];
    memset(bv, 0, sizeof *bv);
    const char *fields[3] = { v, NULL, NULL };
    size_t lens[3] = { 0, 0, 0 };
    unsigned n = 1;
    for (const char *p = v;; p++) {
        if (*p == ',' || *p == 0) {
            lens[n - 1] = (size_t)(p - fields[n - 1]);
            if (*p == 0)
                break;
            if (n == 3)
                return report(warn, ctx, "vm=%.40s: expected NAME,MODULE[,mem=SIZE]", v);
            fields[n++] = p + 1;
        }
    }
    if (n < 2 || lens[0] == 0 || lens[1] == 0 || lens[0] >= sizeof bv->name ||
        lens[1] >= sizeof bv->module)
        return report(warn, ctx, "vm=%.40s: expected NAME,MODULE[,mem=SIZE]", v);
    memcpy(bv->name, fields[0], lens[0]);
    memcpy(bv->module, fields[1], lens[1]);
    if (n == 3) {
        char size[24];
        if (lens[2] <= 4 || lens[2] - 4 >= sizeof size || strncmp(fields[2], "mem=", 4) != 0)
            return report(warn, ctx, "vm=%.40s: the third field must be mem=SIZE", v);
        memcpy(size, fields[2] + 4, lens[2] - 4);
        size[lens[2] - 4] = 0;
        if (shell_parse_size(size, &bv->mem_bytes) != CIVIC_OK || bv->mem_bytes == 0)
            return report(warn, ctx, "vm=%.40s: bad memory size", v);
    }
    out->vm_count++;
    return 0;
}

unsigned boot_options_parse(const char *cmdline, struct boot_options *out,
                            boot_option_warn_fn warn, void *ctx)
{
    out->console_log_level = -1;
    out->vm_count = 0;
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
        } else if ((v = shell_kv(argv[i], "vm"))) {
            problems += parse_vm(v, out, warn, ctx);
        } else {
            problems += report(warn, ctx, "unknown option '%.40s' ignored", argv[i]);
        }
    }
    return problems;
}
