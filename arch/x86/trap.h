/* Internals shared by the interrupt entry path (isr.S, idt.c), the fault dump and the
 * backtrace. Nothing outside arch/x86/ includes this. */
#pragma once
#include <stdint.h>

#include "arch/x86/idt.h"

#define IST_STACK_SIZE 16384

/* Called by the common entry stub in isr.S with the saved frame. */
void trap_dispatch(struct trap_frame *tf);

/* Prints the fault dump for an exception (vectors 0-31, not NMI) and stops this CPU. */
__attribute__((noreturn)) void exception_fatal(const struct trap_frame *tf);

/* Prints a frame-pointer walk starting at the frame rbp points to. */
void backtrace_from(uint64_t rbp);

/* The bounds [lo, hi) of interrupt stack table stack ist (1..3). */
void gdt_ist_stack_range(unsigned ist, uintptr_t *lo, uintptr_t *hi);
