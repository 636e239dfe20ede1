/*
 * A minimal IDT: interrupt gates for the 32 exceptions and for interrupts 32..255. Guests that
 * probe what faults (escape) arm a one-shot catch that skips the faulting instruction by its known
 * length; anything else is reported and ends the guest, because a guest that faults unexpectedly
 * proves nothing. Interrupts go to a handler the guest installed (irqtest); one without a
 * handler ends the guest the same way.
 */
#include "guest.h"

/* Layout pushed by trap_stubs.S (pushal order, then vector and error code, then the CPU's). */
struct trap_frame {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
};

/* 32-bit interrupt gate (Intel SDM Vol. 3 6.11, figure 6-2). */
struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attr; /* P=1, DPL=0, type 0xe: 32-bit interrupt gate */
    uint16_t offset_hi;
} __attribute__((packed));

#define EXCEPTION_VECTORS 32
#define IDT_VECTORS 256
#define IRQ_STUB_SIZE 16 /* trap_stubs.S */
#define KERNEL_CS 0x08
#define GATE_INTERRUPT32 0x8e

extern const uint32_t trap_stubs[EXCEPTION_VECTORS];
extern const uint8_t irq_stubs[];
void trap_dispatch(struct trap_frame *f);

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(8)));
static irq_handler_fn irq_handlers[IDT_VECTORS];
static volatile unsigned expect_len;
static volatile int caught = -1;
static volatile uint32_t caught_error;

static const char *const names[EXCEPTION_VECTORS] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE",  "#CP",
    "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

const char *trap_name(int vector)
{
    if (vector < 0 || vector >= EXCEPTION_VECTORS)
        return "none";
    return names[vector];
}

void idt_init(void)
{
    for (unsigned i = 0; i < IDT_VECTORS; i++) {
        uint32_t stub = i < EXCEPTION_VECTORS
                            ? trap_stubs[i]
                            : (uint32_t)irq_stubs + (i - EXCEPTION_VECTORS) * IRQ_STUB_SIZE;
        idt[i].offset_lo = (uint16_t)stub;
        idt[i].offset_hi = (uint16_t)(stub >> 16);
        idt[i].selector = KERNEL_CS;
        idt[i].zero = 0;
        idt[i].type_attr = GATE_INTERRUPT32;
    }
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) desc = {sizeof idt - 1, (uint32_t)idt};
    __asm__ volatile("lidt %0" : : "m"(desc));
}

void trap_expect(unsigned insn_len)
{
    caught = -1;
    caught_error = 0;
    expect_len = insn_len;
}

int trap_caught(void)
{
    expect_len = 0;
    return caught;
}

uint32_t trap_error_code(void)
{
    return caught_error;
}

void irq_set_handler(unsigned vector, irq_handler_fn fn)
{
    if (vector >= EXCEPTION_VECTORS && vector < IDT_VECTORS)
        irq_handlers[vector] = fn;
}

void trap_dispatch(struct trap_frame *f)
{
    if (f->vector >= EXCEPTION_VECTORS) {
        irq_handler_fn fn = f->vector < IDT_VECTORS ? irq_handlers[f->vector] : 0;
        if (fn) {
            fn(f->vector);
            return;
        }
        printf("guest: unexpected interrupt vector 0x%x eip=%08x\n", f->vector, f->eip);
        guest_exit(GUEST_EXIT_EXCEPTION);
    }
    if (expect_len != 0) {
        caught = (int)f->vector;
        caught_error = f->error;
        f->eip += expect_len;
        expect_len = 0;
        return;
    }
    printf("guest: unexpected exception %u (%s) error=0x%x eip=%08x\n", f->vector,
           trap_name((int)f->vector), f->error, f->eip);
    guest_exit(GUEST_EXIT_EXCEPTION);
}
