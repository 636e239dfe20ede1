/*
 * irqtest: external interrupts as a hypervisor injects them (civic: `vm irq NAME VECTOR`), with no
 * timing assumption anywhere:
 *  (a) prints "irqtest: ready" and waits in `sti; hlt` until vector 0x40 arrives;
 *  (b) with IF = 0 prints "irqtest: interrupts off" and polls COM1 for one input byte. The
 *      observer raises 0x41 first and only then types the byte (`vm console`), so when the byte
 *      arrives 0x41 is known to be pending: its handler must not have run yet, and must have run
 *      once right after `sti` (STI's shadow covers one more instruction: `sti; nop; cli`).
 * The vectors arrive as fixed interrupts through the local APIC (as an MSI would), so the handler
 * ends each with an EOI to the APIC at its power-on base: without it the APIC would hold back
 * every later vector of the same or lower priority class.
 * Exit 0 on success, 2 when a property fails (or no byte comes within the poll bound).
 */
#include "guest.h"

#define VEC_HALTED 0x40
#define VEC_AFTER_STI 0x41
/* Poll COM1 about every 20000 loop iterations, at most 50000 times: tens of seconds under an
 * emulator, only an upper bound for an observer that never types. */
#define POLL_LIMIT 50000u
#define POLL_DELAY 20000u
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

static volatile unsigned irq_count[256];
static volatile unsigned irq_total;

#define LAPIC_EOI ((volatile uint32_t *)0xfee000b0) /* Intel SDM Vol. 3A, Table 11-1 */

static void on_irq(unsigned vector)
{
    irq_count[vector & 0xff]++;
    irq_total++;
    *LAPIC_EOI = 0;
}

static void delay(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        __asm__ volatile("" ::: "memory");
}

int guest_main(const struct multiboot_info *mbi)
{
    static const char *const known[] = {NULL};
    if (!cmdline_check_keys("irqtest", known))
        return GUEST_EXIT_CONFIG;
    idt_init();
    irq_set_handler(VEC_HALTED, on_irq);
    irq_set_handler(VEC_AFTER_STI, on_irq);
    /* On a PC (or a platform with 8259s) mask every legacy line: only injected vectors count. */
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);

    printf("irqtest: ready\n");
    /* Test IF with interrupts off so that one arriving between the test and HLT still ends
     * the HLT (STI's shadow covers the HLT). */
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if (irq_count[VEC_HALTED])
            break;
        __asm__ volatile("sti; hlt" ::: "memory");
    }
    if (irq_count[VEC_HALTED] != 1 || irq_total != 1) {
        printf("irqtest: FAILED: expected one vector 0x40, got %u (%u interrupts in all)\n",
               irq_count[VEC_HALTED], irq_total);
        return GUEST_EXIT_FAIL;
    }
    printf("irqtest: got vector 0x40 while halted\n");

    printf("irqtest: interrupts off\n");
    int c = -1;
    for (unsigned i = 0; i < POLL_LIMIT && (c = serial_getc_nowait()) < 0; i++)
        delay(POLL_DELAY);
    if (c < 0) {
        printf("irqtest: FAILED: no input byte while interrupts were off\n");
        return GUEST_EXIT_FAIL;
    }
    if (irq_count[VEC_AFTER_STI] != 0) {
        printf("irqtest: FAILED: vector 0x41 was delivered with IF=0\n");
        return GUEST_EXIT_FAIL;
    }
    __asm__ volatile("sti; nop; cli" ::: "memory");
    if (irq_count[VEC_AFTER_STI] != 1 || irq_total != 2) {
        printf("irqtest: FAILED: vector 0x41 not delivered right after sti (count=%u, %u in all)\n",
               irq_count[VEC_AFTER_STI], irq_total);
        return GUEST_EXIT_FAIL;
    }
    printf("irqtest: got vector 0x41 after sti\n");
    return GUEST_EXIT_OK;
}
