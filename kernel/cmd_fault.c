/*
 * `fault`: raise a CPU exception on purpose, so that an operator (or a system test) can see the
 * fault dump work on this machine before trusting it with a real bug. It stops civic.
 */
#include <stdint.h>

#include "kernel/console.h"
#include "kernel/shell.h"
#include "kernel/string.h"

/* A load the compiler cannot see through or reason about. */
static void load_from(uint64_t addr)
{
    uint64_t v;
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
}

static civic_err cmd_fault(int argc, char **argv)
{
    if (argc != 2)
        return shell_usage_error("fault", "which exception?");
    const char *kind = argv[1];
    if (strcmp(kind, "pf") == 0) {
        kprintf("civic: reading address 0x10 (unmapped) to raise #PF\n");
        load_from(0x10);
    } else if (strcmp(kind, "ud") == 0) {
        kprintf("civic: executing UD2 to raise #UD\n");
        __asm__ volatile("ud2");
    } else if (strcmp(kind, "de") == 0) {
        kprintf("civic: dividing by zero to raise #DE\n");
        uint64_t zero = 0;
        __asm__ volatile("xor %%edx, %%edx; divq %1" : "+a"(zero) : "r"(zero) : "rdx");
    } else if (strcmp(kind, "gp") == 0) {
        kprintf("civic: reading a non-canonical address to raise #GP\n");
        load_from(0x8000000000000000ull);
    } else {
        return shell_usage_error("fault", "unknown exception '%.10s'", kind);
    }
    return shell_error(CIVIC_EIO, "the exception did not happen");
}
SHELL_COMMAND(fault, "fault", "pf|ud|de|gp",
              "raise a CPU exception on purpose to check the fault dump (stops civic)", cmd_fault);
