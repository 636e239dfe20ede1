/*
 * hello: the smallest guest. Prints one line and exits with code 0; a second line echoes what
 * the loader passed, so a test can check the multiboot information too.
 */
#include "guest.h"

int guest_main(const struct multiboot_info *mbi)
{
    printf("hello from guest\n");
    printf("hello: flags=0x%x mem_lower=%u mem_upper=%u cmdline=\"%s\"\n", mbi->flags,
           (mbi->flags & MULTIBOOT_INFO_MEMORY) ? mbi->mem_lower : 0,
           (mbi->flags & MULTIBOOT_INFO_MEMORY) ? mbi->mem_upper : 0, cmdline());
    return GUEST_EXIT_OK;
}
