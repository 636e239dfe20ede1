/*
 * The IDT (Intel SDM Vol. 3A, 6.14.1 64-bit mode IDT) and the one C entry point every vector
 * goes through. Every gate is an interrupt gate, so handlers run with interrupts off.
 */
#include "arch/x86/idt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/gdt.h"
#include "arch/x86/irq.h"
#include "arch/x86/pic.h"
#include "arch/x86/time.h"
#include "arch/x86/trap.h"
#include "kernel/log.h"

#define VEC_NMI 2
#define VEC_DOUBLE_FAULT 8
#define VEC_MACHINE_CHECK 18
#define VEC_EXCEPTIONS_END 32

/* 64-bit interrupt gate (SDM Vol. 3A, Figure 6-8). */
struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gates are 16 bytes");
/* isr.S knows the frame's layout. */
_Static_assert(offsetof(struct trap_frame, vector) == 15 * 8, "trap_frame: 15 GPRs first");
_Static_assert(offsetof(struct trap_frame, rip) == 17 * 8, "trap_frame: TF_RIP in isr.S");
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap_frame: the CPU's frame last");

#define GATE_P 0x80
#define GATE_TYPE_INTERRUPT 0x0e

struct idt_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern const uint64_t isr_stub_table[256];

static struct idt_gate idt[256] __attribute__((aligned(16)));

static struct {
    irq_handler_fn fn;
    void *ctx;
} handlers[256];

static uint64_t counts[256];
static uint64_t unhandled_logged[256 / 64];

static void set_gate(unsigned vec, uint64_t addr, uint8_t ist)
{
    idt[vec] = (struct idt_gate){
        .offset_lo = (uint16_t)addr,
        .selector = GDT_KERNEL_CS,
        .ist = ist,
        .type_attr = GATE_P | GATE_TYPE_INTERRUPT,
        .offset_mid = (uint16_t)(addr >> 16),
        .offset_hi = (uint32_t)(addr >> 32),
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, isr_stub_table[v], 0);
    set_gate(VEC_DOUBLE_FAULT, isr_stub_table[VEC_DOUBLE_FAULT], IST_DOUBLE_FAULT);
    set_gate(VEC_NMI, isr_stub_table[VEC_NMI], IST_NMI);
    set_gate(VEC_MACHINE_CHECK, isr_stub_table[VEC_MACHINE_CHECK], IST_MACHINE_CHECK);

    struct idt_ptr ptr = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(ptr) : "memory");
}

void irq_set_handler(uint8_t vector, irq_handler_fn fn, void *ctx)
{
    if (vector < VEC_ISA_BASE || vector == VEC_LAPIC_SPURIOUS) {
        log_err("irq: vector %#x is not a device vector; handler not installed", vector);
        return;
    }
    irq_state_t s = irq_save();
    handlers[vector].fn = fn;
    handlers[vector].ctx = ctx;
    irq_restore(s);
}

uint64_t irq_count(uint8_t vector)
{
    return counts[vector];
}

void trap_dispatch(struct trap_frame *tf)
{
    unsigned vec = (unsigned)tf->vector & 0xff;
    counts[vec]++;

    if (vec == VEC_NMI) {
        /* Nothing sends NMIs on purpose yet: report it and carry on. */
        log_warn("irq: NMI at rip %#llx", (unsigned long long)tf->rip);
        return;
    }
    if (vec < VEC_EXCEPTIONS_END)
        exception_fatal(tf);
    if (vec < VEC_ISA_BASE) {
        /* The 8259s are masked; a line that fired before masking still wants its EOI. */
        pic_ack(vec - VEC_PIC_BASE);
        return;
    }
    if (vec == VEC_LAPIC_SPURIOUS)
        return; /* a spurious LAPIC interrupt sets no in-service bit: no EOI (SDM 11.9) */

    if (handlers[vec].fn) {
        handlers[vec].fn(handlers[vec].ctx);
    } else if (!(unhandled_logged[vec / 64] & (1ull << (vec % 64)))) {
        unhandled_logged[vec / 64] |= 1ull << (vec % 64);
        log_warn("irq: vector %#x has no handler (counted, logged once)", vec);
    }
    lapic_eoi();
}
