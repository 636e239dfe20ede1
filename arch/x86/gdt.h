/* GDT with 64-bit code/data and a TSS whose IST stacks catch double faults, NMIs and machine
 * checks on known-good stacks. */
#pragma once

#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_TSS 0x18

#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3

void gdt_init(void);
