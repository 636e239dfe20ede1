/*
 * From the assembly entry to guest_main: serial first (so every later problem can be reported),
 * then the multiboot checks every guest relies on.
 */
#include "guest.h"

void guest_start(uint32_t magic, const struct multiboot_info *mbi);

static const struct multiboot_info *boot_info;

void guest_start(uint32_t magic, const struct multiboot_info *mbi)
{
    serial_init();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        printf("guest: not started by a multiboot loader (eax=%08x)\n", magic);
        guest_exit(GUEST_EXIT_CONFIG);
    }
    boot_info = mbi;
    guest_exit((unsigned)guest_main(mbi));
}

const char *cmdline(void)
{
    if (boot_info == NULL || !(boot_info->flags & MULTIBOOT_INFO_CMDLINE) ||
        boot_info->cmdline == 0)
        return "";
    return (const char *)(uintptr_t)boot_info->cmdline;
}

uint64_t ram_end(const struct multiboot_info *mbi)
{
    if (!(mbi->flags & MULTIBOOT_INFO_MEMORY))
        return 0;
    return 0x100000ull + (uint64_t)mbi->mem_upper * 1024;
}
