/* Shell commands about civic itself: help, version, uptime, echo, log, reboot, poweroff. */
#include "kernel/arch.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"
#include "kernel/vdev_rtc.h"
#include "kernel/version.h"

static civic_err cmd_help(int argc, char **argv)
{
    if (argc > 2)
        return shell_usage_error("help", "too many arguments");
    if (argc == 2) {
        const struct shell_command *c = shell_find(argv[1]);
        if (!c)
            return shell_error(CIVIC_ENOENT, "no command '%.40s'", argv[1]);
        kprintf("%s %s\n  %s\n", c->name, c->usage, c->summary);
        return CIVIC_OK;
    }
    for (size_t i = 0; i < shell_command_count(); i++) {
        const struct shell_command *c = shell_command_at(i);
        kprintf("  %-10s %-34s %s\n", c->name, c->usage, c->summary);
    }
    return CIVIC_OK;
}
SHELL_COMMAND(help, "help", "[COMMAND]", "list the commands, or show one command's usage",
              cmd_help);

static civic_err cmd_version(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("version", "takes no arguments");
    kprintf("civic %s\n%s\n", civic_version, civic_build_info);
    return CIVIC_OK;
}
SHELL_COMMAND(version, "version", "", "show civic's version and build", cmd_version);

static civic_err cmd_uptime(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("uptime", "takes no arguments");
    uint64_t ns = arch_time_ns();
    struct vdev_rtc_tm tm;
    vdev_rtc_epoch_to_tm(arch_wallclock_seconds(), &tm);
    kprintf("uptime_ms=%llu\n", (unsigned long long)(ns / 1000000u));
    kprintf("wallclock=%04d-%02u-%02uT%02u:%02u:%02uZ\n", tm.year, tm.month, tm.day, tm.hour,
            tm.minute, tm.second);
    return CIVIC_OK;
}
SHELL_COMMAND(uptime, "uptime", "", "time since boot and the wall clock (UTC)", cmd_uptime);

static civic_err cmd_echo(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        kprintf("%s%s", i > 1 ? " " : "", argv[i]);
    console_puts("\n");
    return CIVIC_OK;
}
SHELL_COMMAND(echo, "echo", "[WORD...]", "print the words", cmd_echo);

static void print_log_line(const char *line, void *ctx)
{
    (void)ctx;
    kprintf("%s\n", line);
}

static civic_err cmd_log(int argc, char **argv)
{
    if (argc == 1) {
        log_for_each(print_log_line, NULL);
        return CIVIC_OK;
    }
    const char *level = argc == 2 ? shell_kv(argv[1], "level") : NULL;
    if (!level)
        return shell_usage_error("log", "unexpected argument '%.40s'", argv[1]);
    int l = log_level_parse(level);
    if (l < 0)
        return shell_usage_error("log", "unknown level '%.20s'", level);
    log_set_console_level((enum log_level)l);
    kprintf("console_level=%s\n", log_level_name((enum log_level)l));
    return CIVIC_OK;
}
SHELL_COMMAND(log, "log", "[level=err|warn|info|debug]",
              "show the kernel log, or set what reaches the console", cmd_log);

static civic_err cmd_reboot(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("reboot", "takes no arguments");
    kprintf("civic: rebooting\n");
    arch_reboot();
}
SHELL_COMMAND(reboot, "reboot", "", "reset the machine", cmd_reboot);

static civic_err cmd_poweroff(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("poweroff", "takes no arguments");
    kprintf("civic: powering off\n");
    arch_poweroff();
    return shell_error(CIVIC_ENOTSUP, "power off failed: no ACPI S5 and no emulator exit port "
                                      "answered; it is safe to switch the machine off");
}
SHELL_COMMAND(poweroff, "poweroff", "", "power the machine off (ends the emulator)",
              cmd_poweroff);
