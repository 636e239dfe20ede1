/*
 * The PC timer hardware the timer checks measure against: both 8259s remapped to vectors 0x20
 * and 0x28 with only IRQ 0 unmasked, PIT channel 0 in mode 2 at 100 Hz, the CMOS clock's
 * seconds (MC146818: read only while status A's UIP bit is clear). With a local APIC, its LINT0 is
 * set to ExtINT (virtual wire mode, as a BIOS leaves it) so the 8259's interrupts reach the CPU
 * while the APIC is software-enabled.
 */
#include "cputest.h"
#include "cpuid.h"
#include "lapic.h"
#include "msr.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI 0x20
#define VEC_PIC1 0x20
#define VEC_PIC2 0x28
#define PIT_CH0 0x40
#define PIT_MODE 0x43
#define PIT_HZ 1193182u
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SECONDS 0x00
#define RTC_STATUS_A 0x0a
#define RTC_UIP 0x80
#define VEC_SPURIOUS 0xff
#define EDGE_TIMEOUT_TICKS 300 /* 3 s for a seconds edge */

volatile uint32_t pit_ticks;
static bool started;

static void on_pit(unsigned vector)
{
    pit_ticks++;
    outb(PIC1_CMD, PIC_EOI);
}

/* The 8259's IRQ 7 / 15 spurious vectors and the APIC's spurious vector need no EOI. */
static void on_spurious(unsigned vector) {}

void timers_start(void)
{
    if (!started) {
        irq_set_handler(VEC_PIC1, on_pit);
        irq_set_handler(VEC_PIC1 + 7, on_spurious);
        irq_set_handler(VEC_PIC2 + 7, on_spurious);
        irq_set_handler(VEC_SPURIOUS, on_spurious);
        /* ICW1 (edge, cascade, ICW4), ICW2 vector base, ICW3 cascade on IRQ 2, ICW4 8086. */
        outb(PIC1_CMD, 0x11);
        outb(PIC2_CMD, 0x11);
        outb(PIC1_DATA, VEC_PIC1);
        outb(PIC2_DATA, VEC_PIC2);
        outb(PIC1_DATA, 0x04);
        outb(PIC2_DATA, 0x02);
        outb(PIC1_DATA, 0x01);
        outb(PIC2_DATA, 0x01);
        outb(PIC1_DATA, 0xfe);
        outb(PIC2_DATA, 0xff);

        uint32_t r[4];
        cpuid(CPUID_LEAF_FEATURES, 0, r);
        if (r[3] & CPUID_1_EDX_APIC) {
            lapic_use_xapic((uint32_t)rdmsr(IA32_APIC_BASE));
            lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
            lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_DM_EXTINT);
            lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_DM_NMI);
            lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
        }

        unsigned divisor = PIT_HZ / PIT_TICK_HZ;
        outb(PIT_MODE, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
        outb(PIT_CH0, (uint8_t)divisor);
        outb(PIT_CH0, (uint8_t)(divisor >> 8));
        started = true;
    }
    __asm__ volatile("sti" ::: "memory");
}

void timers_wait_ticks(uint32_t n)
{
    uint32_t t0 = pit_ticks;
    while (pit_ticks - t0 < n)
        __asm__ volatile("sti; hlt" ::: "memory");
}

static uint8_t cmos(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

/* The seconds register, read when no update is in progress (bounded: UIP lasts < 2 ms). */
static uint8_t rtc_seconds(void)
{
    for (unsigned i = 0; i < 100000 && (cmos(RTC_STATUS_A) & RTC_UIP); i++)
        __asm__ volatile("pause");
    return cmos(RTC_SECONDS);
}

bool rtc_wait_edge(void)
{
    uint32_t t0 = pit_ticks;
    uint8_t s = rtc_seconds();
    while (rtc_seconds() == s)
        if (pit_ticks - t0 > EDGE_TIMEOUT_TICKS)
            return false;
    return true;
}
