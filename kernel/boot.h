/* What the boot loader told us, parsed once at start-up. */
#pragma once
#include "boot/multiboot2.h"

extern const struct boot_info *boot_info;

/* Prints the one-screen summary after bring-up: memory, CPU, whether VMs can run. */
void boot_report(void);
