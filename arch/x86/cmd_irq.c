/* The `irqs` shell command: interrupts taken per vector since boot (non-zero ones). */
#include "arch/x86/idt.h"
#include "arch/x86/time.h"
#include "kernel/console.h"
#include "kernel/shell.h"

static civic_err cmd_irqs(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("irqs", "takes no arguments");
    kprintf("ticks=%llu\n", (unsigned long long)lapic_ticks());
    for (unsigned v = 0; v < 256; v++) {
        uint64_t n = irq_count((uint8_t)v);
        if (n)
            kprintf("vector_0x%02x=%llu\n", v, (unsigned long long)n);
    }
    return CIVIC_OK;
}
SHELL_COMMAND(irqs, "irqs", "", "interrupt counts per vector and LAPIC ticks", cmd_irqs);
