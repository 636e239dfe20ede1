/*
 * The arch contract: everything kernel/, mm/ and net/ may ask of the architecture layer. They
 * include this header, never arch/x86/ internals, so that their logic builds on the host against
 * a test double of these functions.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* Nanoseconds since the TSC was calibrated at boot (0 before). Monotonic. */
uint64_t arch_time_ns(void);

/* Sleeps the CPU until the next interrupt (the monitor loop's idle). */
void arch_idle(void);

/* Stops this CPU for good with interrupts off. */
__attribute__((noreturn)) void arch_halt_cpu(void);

/* Prints the call chain of the caller (frame-pointer walk) to the console. */
void arch_backtrace(void);

/* Powers the machine off: ACPI S5 where the firmware describes it, then the emulators' exits.
 * Returns only if every method failed. */
void arch_poweroff(void);

/* Resets the machine: ACPI reset register, keyboard controller, then a triple fault. */
__attribute__((noreturn)) void arch_reboot(void);

/* The direct map: every byte of RAM (and the low 4 GiB) at a fixed offset. Valid after
 * paging_init(). */
void *phys_to_virt(uint64_t phys);
uint64_t virt_to_phys(const void *virt);

/* Seconds since 1970-01-01 UTC: the host's CMOS clock read at boot, advanced with the TSC. */
int64_t arch_wallclock_seconds(void);
