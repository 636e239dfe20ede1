/* Shell commands about what the boot loader handed over. */
#include "kernel/boot.h"
#include "kernel/console.h"
#include "kernel/shell.h"

/* Prints s between double quotes with " and \ escaped, so that scripts can parse it back. */
static void print_quoted(const char *s)
{
    console_putc('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            console_putc('\\');
        console_putc(*s);
    }
    console_putc('"');
}

static civic_err cmd_modules(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("modules", "takes no arguments");
    kprintf("count=%u\n", (unsigned)boot_info->module_count);
    for (size_t i = 0; i < boot_info->module_count; i++) {
        const struct boot_module *m = &boot_info->modules[i];
        kprintf("module=%u start=%#llx size=%llu cmdline=", (unsigned)i,
                (unsigned long long)m->start, (unsigned long long)(m->end - m->start));
        print_quoted(m->cmdline);
        console_putc('\n');
    }
    return CIVIC_OK;
}
SHELL_COMMAND(modules, "modules", "", "list the GRUB modules (guest images)", cmd_modules);

static civic_err cmd_cmdline(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("cmdline", "takes no arguments");
    console_puts("cmdline=");
    print_quoted(boot_info->cmdline);
    console_puts("\nbootloader=");
    print_quoted(boot_info->bootloader);
    console_putc('\n');
    return CIVIC_OK;
}
SHELL_COMMAND(cmdline, "cmdline", "", "show the boot command line and loader", cmd_cmdline);
