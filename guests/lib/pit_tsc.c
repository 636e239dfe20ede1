/*
 * The TSC rate against PIT channel 2: a mode 0 one-shot whose end shows in port 0x61 bit 5
 * (OUT2), as PC kernels calibrate their clocks. Every PC and emulator has this timer, and it needs
 * neither interrupts nor a TSC frequency from CPUID.
 */
#include "pit_tsc.h"

#include "guest.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_MODE 0x43
#define PIT_CW_CH2_LOHI_MODE0 0xb0 /* SC=10, RW=11 (lobyte then hibyte), M=000, binary */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20
#define CAL_MS 50u /* 59659 counts: the longest round number of ms that fits 16 bits */

uint64_t pit_udiv64(uint64_t n, uint32_t d)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n, qhi = hi / d, r = hi % d, qlo;
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    return ((uint64_t)qhi << 32) | qlo;
}

uint64_t pit_tsc_hz(void)
{
    uint32_t count = PIT_HZ / 1000u * CAL_MS;
    uint8_t b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2)); /* gate high, speaker off */
    outb(PIT_MODE, PIT_CW_CH2_LOHI_MODE0);                         /* OUT2 goes low */
    outb(PIT_CH2, (uint8_t)count);
    uint64_t t0 = rdtsc();
    outb(PIT_CH2, (uint8_t)(count >> 8)); /* counting starts; OUT2 rises at zero */
    /* Bounded: a platform without a PIT must not hang the guest (about 10^9 polls). */
    for (uint32_t i = 0; !(inb(PORT_B) & PORT_B_OUT2); i++) {
        if (i == 1000000000u)
            return 0;
        __asm__ volatile("pause");
    }
    uint64_t t1 = rdtsc();
    return pit_udiv64((t1 - t0) * PIT_HZ, count);
}

uint64_t tsc_to_ms(uint64_t cycles, uint64_t tsc_hz)
{
    uint64_t khz = pit_udiv64(tsc_hz, 1000);
    return khz == 0 || khz > 0xffffffffull ? 0 : pit_udiv64(cycles, (uint32_t)khz);
}
