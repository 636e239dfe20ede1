/* spin: announces itself, then loops forever with interrupts off (a CPU hog a scheduler must
 * preempt from outside). */
#include "guest.h"

int guest_main(const struct multiboot_info *mbi)
{
    printf("spin: spinning with interrupts off\n");
    __asm__ volatile("cli\n"
                     "1: jmp 1b");
    __builtin_unreachable();
}
