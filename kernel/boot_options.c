#include "kernel/boot_options.h"

#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"
#include "net/page_store.h"

#define CMDLINE_COPY_MAX 1024

static unsigned report(boot_option_warn_fn warn, void *ctx, const char *fmt, const char *arg)
{
    char msg[160];
    ksnprintf(msg, sizeof msg, fmt, arg);
    if (warn)
        warn(ctx, msg);
    return 1;
}

#define VM_USAGE "vm=%.40s: expected NAME,MODULE[,mem=SIZE][,cpus=N][,local=SIZE][,replicas=N]"
#define VM_FIELDS_MAX 6
#define PAGE_BYTES 4096u

/* A nonzero size in whole 4 KiB pages. */
static bool page_size_ok(const char *s, uint64_t *out)
{
    return shell_parse_size(s, out) == CIVIC_OK && *out != 0 && *out % PAGE_BYTES == 0;
}

/* One optional field of vm=: mem=SIZE, cpus=N, local=SIZE or replicas=N. */
static unsigned parse_vm_field(const char *f, size_t len, struct boot_vm *bv, const char *v,
                               boot_option_warn_fn warn, void *ctx)
{
    char val[24];
    const char *eq = f;
    while (eq < f + len && *eq != '=')
        eq++;
    if (eq == f + len || (size_t)(f + len - eq - 1) >= sizeof val || eq + 1 == f + len)
        return report(warn, ctx, VM_USAGE, v);
    size_t klen = (size_t)(eq - f), vlen = (size_t)(f + len - eq - 1);
    memcpy(val, eq + 1, vlen);
    val[vlen] = 0;
    if (klen == 3 && strncmp(f, "mem", 3) == 0) {
        if (shell_parse_size(val, &bv->mem_bytes) != CIVIC_OK || bv->mem_bytes == 0)
            return report(warn, ctx, "vm=%.40s: bad memory size", v);
        return 0;
    }
    if (klen == 4 && strncmp(f, "cpus", 4) == 0) {
        uint64_t c;
        if (shell_parse_u64(val, &c) != CIVIC_OK || c == 0 || c > BOOT_VM_CPUS_MAX)
            return report(warn, ctx, "vm=%.40s: bad vCPU count", v);
        bv->cpus = (unsigned)c;
        return 0;
    }
    if (klen == 5 && strncmp(f, "local", 5) == 0) {
        if (!page_size_ok(val, &bv->local_bytes))
            return report(warn, ctx, "vm=%.40s: bad local=: want a nonzero multiple of 4K", v);
        return 0;
    }
    if (klen == 8 && strncmp(f, "replicas", 8) == 0) {
        uint64_t r;
        if (shell_parse_u64(val, &r) != CIVIC_OK || r < 1 || r > 2)
            return report(warn, ctx, "vm=%.40s: bad replicas=: want 1 or 2", v);
        bv->replicas = (unsigned)r;
        return 0;
    }
    return report(warn, ctx, VM_USAGE, v);
}

/* vm=NAME,MODULE[,mem=SIZE][,cpus=N][,local=SIZE][,replicas=N] */
static unsigned parse_vm(const char *v, struct boot_options *out, boot_option_warn_fn warn,
                         void *ctx)
{
    if (out->vm_count == BOOT_VMS_MAX)
        return report(warn, ctx, "vm=%.40s: too many VMs on the command line", v);
    struct boot_vm *bv = &out->vms[out->vm_count];
    memset(bv, 0, sizeof *bv);
    const char *fields[VM_FIELDS_MAX] = {v};
    size_t lens[VM_FIELDS_MAX] = {0};
    unsigned n = 1;
    for (const char *p = v;; p++) {
        if (*p == ',' || *p == 0) {
            lens[n - 1] = (size_t)(p - fields[n - 1]);
            if (*p == 0)
                break;
            if (n == VM_FIELDS_MAX)
                return report(warn, ctx, VM_USAGE, v);
            fields[n++] = p + 1;
        }
    }
    if (n < 2 || lens[0] == 0 || lens[1] == 0 || lens[0] >= sizeof bv->name ||
        lens[1] >= sizeof bv->module)
        return report(warn, ctx, VM_USAGE, v);
    memcpy(bv->name, fields[0], lens[0]);
    memcpy(bv->module, fields[1], lens[1]);
    for (unsigned i = 2; i < n; i++)
        if (parse_vm_field(fields[i], lens[i], bv, v, warn, ctx))
            return 1;
    out->vm_count++;
    return 0;
}

/* store=SIZE: 0 (lend nothing) up to PAGE_STORE_MAX_PAGES pages, in whole pages. */
static unsigned parse_store(const char *v, struct boot_options *out, boot_option_warn_fn warn,
                            void *ctx)
{
    uint64_t b;
    if (shell_parse_size(v, &b) != CIVIC_OK || b % PAGE_BYTES)
        return report(warn, ctx, "store=%.20s: want a size in whole 4K pages (e.g. 64M)", v);
    if (b / PAGE_BYTES > PAGE_STORE_MAX_PAGES)
        return report(warn, ctx, "store=%.20s: more than the page store's 1T", v);
    out->store_bytes = b;
    out->has_store = true;
    return 0;
}

unsigned boot_options_parse(const char *cmdline, struct boot_options *out, boot_option_warn_fn warn,
                            void *ctx)
{
    out->console_log_level = -1;
    out->vm_count = 0;
    out->store_bytes = 0;
    out->has_store = false;
    net_config_default(&out->net);
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
        } else if ((v = shell_kv(argv[i], "store"))) {
            problems += parse_store(v, out, warn, ctx);
        } else {
            char err[96];
            civic_err e = net_config_word(&out->net, argv[i], err, sizeof err);
            if (e == CIVIC_ENOENT)
                problems += report(warn, ctx, "unknown option '%.40s' ignored", argv[i]);
            else if (e != CIVIC_OK)
                problems += report(warn, ctx, "%s; option ignored", err);
        }
    }
    char err[96];
    if (net_config_check(&out->net, err, sizeof err) != CIVIC_OK) {
        problems += report(warn, ctx, "%s; network options ignored, using DHCP", err);
        net_config_default(&out->net);
    }
    return problems;
}
