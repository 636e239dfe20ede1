/*
 * The fault dump: an exception in civic itself is a bug, so say everything the CPU knows about
 * it and stop. Written on the console directly rather than through panic(), whose backtrace
 * would show the handler instead of the code that faulted.
 */
#include <stdint.h>

#include "arch/x86/cr.h"
#include "arch/x86/exc_decode.h"
#include "arch/x86/irq.h"
#include "arch/x86/trap.h"
#include "kernel/arch.h"
#include "kernel/console.h"

#define X(v) ((unsigned long long)(v))

void exception_fatal(const struct trap_frame *tf)
{
    static int nesting;
    irq_disable();
    /* Read CR2 first: a fault while dumping would overwrite it. */
    uint64_t cr2 = read_cr2();
    if (nesting++ > 0) {
        kprintf("\nFAULT while reporting a fault: vector %llu at rip %#llx\n", X(tf->vector),
                X(tf->rip));
        arch_halt_cpu();
    }

    unsigned vec = (unsigned)tf->vector;
    char desc[160];
    exc_describe_error(vec, tf->error_code, desc, sizeof desc);

    kprintf("\nFAULT: %s %s (vector %u), error code 0x%llx%s%s%s\n", exc_mnemonic(vec),
            exc_name(vec), vec, X(tf->error_code), desc[0] ? " (" : "", desc, desc[0] ? ")" : "");
    if (vec == 14)
        kprintf("  CR2 0x%016llx (the faulting address)\n", X(cr2));
    kprintf("  RIP 0x%016llx  CS 0x%04llx  RFLAGS 0x%016llx\n", X(tf->rip), X(tf->cs),
            X(tf->rflags));
    kprintf("  RSP 0x%016llx  SS 0x%04llx\n", X(tf->rsp), X(tf->ss));
    kprintf("  RAX 0x%016llx  RBX 0x%016llx  RCX 0x%016llx\n", X(tf->rax), X(tf->rbx), X(tf->rcx));
    kprintf("  RDX 0x%016llx  RSI 0x%016llx  RDI 0x%016llx\n", X(tf->rdx), X(tf->rsi), X(tf->rdi));
    kprintf("  RBP 0x%016llx  R8  0x%016llx  R9  0x%016llx\n", X(tf->rbp), X(tf->r8), X(tf->r9));
    kprintf("  R10 0x%016llx  R11 0x%016llx  R12 0x%016llx\n", X(tf->r10), X(tf->r11), X(tf->r12));
    kprintf("  R13 0x%016llx  R14 0x%016llx  R15 0x%016llx\n", X(tf->r13), X(tf->r14), X(tf->r15));
    kprintf("  CR0 0x%016llx  CR2 0x%016llx  CR3 0x%016llx\n", X(read_cr0()), X(cr2),
            X(read_cr3()));
    kprintf("  CR4 0x%016llx\n", X(read_cr4()));
    kprintf("backtrace (resolve with addr2line -e build/civic.elf ADDR):\n");
    kprintf("  #0  0x%016llx (faulting instruction)\n", X(tf->rip));
    backtrace_from(tf->rbp);
    console_puts("civic: this CPU is stopped.\n");
    arch_halt_cpu();
}
