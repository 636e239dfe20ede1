#pragma once
#include "kernel/boot_options.h"

void vm_boot_start(const struct boot_options *opts);
