/*
 * Delays for the INIT-SIPI-SIPI sequence, timed by PIT channel 2 in mode 0 (interrupt on terminal
 * count) and polled through port 0x61 bit 5 (OUT2), as PC kernels calibrate their clocks: no
 * interrupts, no TSC frequency to guess. Every PC and emulator has this timer.
 */
#include "smp.h"

#define PIT_CH2 0x42
#define PIT_MODE 0x43
#define PIT_CW_CH2_LOHI_MODE0 0xb0 /* SC=10, RW=11 (lobyte then hibyte), M=000, binary */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20

void smp_pit_start(unsigned us)
{
    if (us == 0)
        us = 1;
    if (us > PIT_MAX_US)
        us = PIT_MAX_US;
    /* us * 1193182 / 10^6 without 64-bit division: us <= 50000 keeps us * 1193 in 32 bits. */
    uint32_t count = us * (PIT_HZ / 1000u) / 1000u;
    if (count < 2)
        count = 2;
    uint8_t b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2)); /* gate high, speaker off */
    outb(PIT_MODE, PIT_CW_CH2_LOHI_MODE0);                         /* OUT2 goes low */
    outb(PIT_CH2, (uint8_t)count);
    outb(PIT_CH2, (uint8_t)(count >> 8)); /* counting starts; OUT2 rises at zero */
}

bool smp_pit_expired(void)
{
    return (inb(PORT_B) & PORT_B_OUT2) != 0;
}

void smp_delay_us(unsigned us)
{
    while (us > 0) {
        unsigned step = us > PIT_MAX_US ? PIT_MAX_US : us;
        smp_pit_start(step);
        while (!smp_pit_expired())
            __asm__ volatile("pause");
        us -= step;
    }
}

bool smp_wait_ms(unsigned ms, bool (*done)(void *), void *arg)
{
    unsigned left_us = ms * 1000u;
    while (left_us > 0) {
        unsigned step = left_us > PIT_MAX_US ? PIT_MAX_US : left_us;
        smp_pit_start(step);
        while (!smp_pit_expired()) {
            if (done(arg))
                return true;
            __asm__ volatile("pause");
        }
        left_us -= step;
    }
    return done(arg);
}
