/*
 * pittest: the PC timer path a simple kernel uses. It initialises both 8259s (vectors 0x20 and
 * 0x28, as Linux does), unmasks IRQ 0 only, programs PIT channel 0 in mode 2 at 100 Hz, and waits
 * in `sti; hlt` until ticks= timer interrupts (default 20) have arrived, sending a non-specific
 * EOI for each. It then checks that channel 0's latched count reads back inside its period.
 * Exit 0 on success, 2 when a property fails.
 */
#include "guest.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIT_CH0 0x40
#define PIT_MODE 0x43
#define PIT_HZ 1193182u
#define VEC_TIMER 0x20

static volatile unsigned ticks;

static void on_timer(unsigned vector)
{
    ticks++;
    outb(PIC1_CMD, 0x20); /* OCW2: non-specific EOI */
}

int guest_main(const struct multiboot_info *mbi)
{
    static const char *const known[] = {"ticks", NULL};
    if (!cmdline_check_keys("pittest", known))
        return GUEST_EXIT_CONFIG;
    uint64_t want64;
    if (!cmdline_uint("pittest", "ticks", 20, &want64))
        return GUEST_EXIT_CONFIG;
    unsigned want = (unsigned)want64;
    if (want == 0 || want64 > 10000) {
        printf("pittest: ticks must be 1..10000\n");
        return GUEST_EXIT_CONFIG;
    }
    idt_init();
    irq_set_handler(VEC_TIMER, on_timer);

    /* ICW1-ICW4 on both chips, then mask everything but IRQ 0. */
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, 0x20);
    outb(PIC2_DATA, 0x28);
    outb(PIC1_DATA, 0x04);
    outb(PIC2_DATA, 0x02);
    outb(PIC1_DATA, 0x01);
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xfe);
    outb(PIC2_DATA, 0xff);

    unsigned divisor = PIT_HZ / 100;
    outb(PIT_MODE, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
    outb(PIT_CH0, (uint8_t)divisor);
    outb(PIT_CH0, (uint8_t)(divisor >> 8));
    printf("pittest: PIT at 100 Hz, waiting for %u ticks\n", want);

    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if (ticks >= want)
            break;
        __asm__ volatile("sti; hlt" ::: "memory");
    }
    outb(PIT_MODE, 0x00); /* latch channel 0 */
    unsigned lo = inb(PIT_CH0);
    unsigned count = lo | ((unsigned)inb(PIT_CH0) << 8);
    printf("pittest: %u ticks, latched count %u\n", ticks, count);
    if (count == 0 || count > divisor) {
        printf("pittest: FAILED: latched count %u outside 1..%u\n", count, divisor);
        return GUEST_EXIT_FAIL;
    }
    printf("pittest: ok\n");
    return 0;
}
