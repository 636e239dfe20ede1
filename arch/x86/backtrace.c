/*
 * Frame-pointer backtraces (the kernel is built with -fno-omit-frame-pointer: each frame starts
 * with the caller's RBP, then the return address) and the CPU's stop and idle primitives.
 * The walk is run from fault handlers, so it must not fault itself: every frame pointer is
 * checked before it is read.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/gdt.h"
#include "arch/x86/irq.h"
#include "arch/x86/trap.h"
#include "kernel/arch.h"
#include "kernel/console.h"

#define BACKTRACE_MAX_DEPTH 32
/* Outside a known stack, a chain may still be followed within this distance of its start. */
#define UNKNOWN_STACK_SPAN 65536
#define KERNEL_HALF_START 0xffff800000000000ull

extern char kernel_stack_bottom[], kernel_stack_top[]; /* boot/entry.S */

struct range {
    uintptr_t lo, hi;
};

static bool find_stack(uintptr_t fp, struct range *out)
{
    struct range known[4];
    known[0].hi = (uintptr_t)kernel_stack_top;
    known[0].lo = (uintptr_t)kernel_stack_bottom;
    for (unsigned ist = 1; ist <= 3; ist++)
        gdt_ist_stack_range(ist, &known[ist].lo, &known[ist].hi);
    for (unsigned i = 0; i < 4; i++) {
        if (fp >= known[i].lo && fp < known[i].hi) {
            *out = known[i];
            return true;
        }
    }
    return false;
}

void backtrace_from(uint64_t rbp)
{
    uintptr_t fp = (uintptr_t)rbp;
    struct range stack;
    if (!find_stack(fp, &stack)) {
        /* An unknown stack (a later CPU's, say): only the kernel half, near the start. */
        stack.lo = fp;
        stack.hi = fp + UNKNOWN_STACK_SPAN;
        if (fp < KERNEL_HALF_START || stack.hi < fp)
            stack.hi = 0;
    }

    uintptr_t prev = 0;
    for (unsigned depth = 1; depth <= BACKTRACE_MAX_DEPTH; depth++) {
        if (fp == 0)
            return; /* boot/entry.S starts the chain with RBP = 0 */
        if ((fp & 7) || fp <= prev || fp < stack.lo || fp > stack.hi - 16) {
            kprintf("  (frame pointer %#llx is not on the stack; stopping)\n",
                    (unsigned long long)fp);
            return;
        }
        const uint64_t *frame = (const uint64_t *)fp;
        uint64_t ret = frame[1];
        if (ret == 0)
            return;
        kprintf("  #%-2u 0x%016llx\n", depth, (unsigned long long)ret);
        prev = fp;
        fp = (uintptr_t)frame[0];
    }
    kprintf("  (deeper frames not shown)\n");
}

void arch_backtrace(void)
{
    kprintf("backtrace (resolve with addr2line -e build/civic.elf ADDR):\n");
    backtrace_from((uint64_t)(uintptr_t)__builtin_frame_address(0));
}

void arch_halt_cpu(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

void arch_idle(void)
{
    irq_enable_and_wait();
}
