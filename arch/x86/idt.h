/*
 * Interrupt descriptor table and dispatch. Exceptions (vectors 0-31) print the vector, error
 * code, registers and a backtrace, then stop the CPU. Device vectors call registered handlers.
 */
#pragma once
#include <stdint.h>

/* Vector plan. */
#define VEC_PIC_BASE 0x20     /* the masked 8259s are remapped here: anything seen is spurious */
#define VEC_ISA_BASE 0x30     /* ISA IRQ n through the IOAPIC arrives at VEC_ISA_BASE + n */
#define VEC_LAPIC_TIMER 0xf0
#define VEC_LAPIC_ERROR 0xfe
#define VEC_LAPIC_SPURIOUS 0xff

/* Saved register state of an interrupted context, as pushed by the entry stubs. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_fn)(void *ctx);

void idt_init(void);
/* Device vectors (>= 0x30) only. The handler runs with interrupts off; the EOI is sent after it. */
void irq_set_handler(uint8_t vector, irq_handler_fn fn, void *ctx);
/* Counts per vector, for the shell. */
uint64_t irq_count(uint8_t vector);
