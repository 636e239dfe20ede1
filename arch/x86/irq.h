/* Interrupt flag control for the current CPU. */
#pragma once
#include <stdint.h>

typedef uint64_t irq_state_t;

static inline irq_state_t irq_save(void)
{
    irq_state_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
    return flags;
}

static inline void irq_restore(irq_state_t flags)
{
    if (flags & (1u << 9))
        __asm__ volatile("sti" ::: "memory");
}

static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }

/* Enables interrupts and halts until the next one, atomically (STI's one-instruction shadow). */
static inline void irq_enable_and_wait(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
