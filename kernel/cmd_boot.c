/* Shell commands about what the boot loader handed over. */
#include "kernel/boot.h"
#include "kernel/console.h"
#include "kernel/shell.h"

static civic_err cmd_modules(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("modules", "takes no arguments");
    kprintf("count=%u\n", (unsigned)boot_info->module_count);
    for (size_t i = 0; i < boot_info->module_count; i++) {
        const struct boot_module *m = &boot_info->modules[i];
        kprintf("module=%u start=%#llx size=%llu cmdline=\"%s\"\n", (unsigned)i,
                (unsigned long long)m->start, (unsigned long long)(m->end - m->start), m->cmdline);
    }
    return CIVIC_OK;
}
SHELL_COMMAND(modules, "modules", "", "list the GRUB modules (guest images)", cmd_modules);

static civic_err cmd_cmdline(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("cmdline", "takes no arguments");
    kprintf("cmdline=\"%s\"\nbootloader=\"%s\"\n", boot_info->cmdline, boot_info->bootloader);
    return CIVIC_OK;
}
SHELL_COMMAND(cmdline, "cmdline", "", "show the boot command line and loader", cmd_cmdline);
