/*
 * rtctest: reads the CMOS clock the way a PC kernel does (wait for UIP to clear, read twice until
 * both reads agree, BCD unless status B says binary) and prints it as
 * "rtctest: date=YYYY-MM-DDTHH:MM:SSZ", so an observer can compare it with the host's clock; then
 * checks the fields are in range and that the seconds advance within a bounded wait.
 * Exit 0 on success, 2 when a property fails.
 */
#include "guest.h"

static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned bcd(uint8_t v, bool binary) { return binary ? v : (v >> 4) * 10u + (v & 0x0f); }

struct rtc_time {
    unsigned sec, min, hour, day, month, year;
};

static void read_time(struct rtc_time *t)
{
    uint8_t raw[2][7];
    for (int tries = 0; tries < 1000; tries++) {
        for (int k = 0; k < 2; k++) {
            while (cmos(0x0a) & 0x80)
                ;
            raw[k][0] = cmos(0x00);
            raw[k][1] = cmos(0x02);
            raw[k][2] = cmos(0x04);
            raw[k][3] = cmos(0x07);
            raw[k][4] = cmos(0x08);
            raw[k][5] = cmos(0x09);
            raw[k][6] = cmos(0x32);
        }
        bool same = true;
        for (int i = 0; i < 7; i++)
            same = same && raw[0][i] == raw[1][i];
        if (same)
            break;
    }
    bool binary = cmos(0x0b) & 0x04;
    t->sec = bcd(raw[0][0], binary);
    t->min = bcd(raw[0][1], binary);
    t->hour = bcd(raw[0][2] & 0x7f, binary);
    t->day = bcd(raw[0][3], binary);
    t->month = bcd(raw[0][4], binary);
    t->year = bcd(raw[0][6], binary) * 100 + bcd(raw[0][5], binary);
}

int guest_main(const struct multiboot_info *mbi)
{
    static const char *const known[] = {NULL};
    if (!cmdline_check_keys("rtctest", known))
        return GUEST_EXIT_CONFIG;
    struct rtc_time a, b;
    read_time(&a);
    printf("rtctest: date=%04u-%02u-%02uT%02u:%02u:%02uZ\n", a.year, a.month, a.day, a.hour,
           a.min, a.sec);
    if (a.month < 1 || a.month > 12 || a.day < 1 || a.day > 31 || a.hour > 23 || a.min > 59 ||
        a.sec > 59 || a.year < 2000) {
        printf("rtctest: FAILED: a field is out of range\n");
        return GUEST_EXIT_FAIL;
    }
    /* The clock must tick: read until the seconds change. The bound counts reads, not time; a
     * second passes within a few thousand reads anywhere, the bound only ends a stuck clock. */
    for (unsigned long i = 0; i < 3000000ul; i++) {
        read_time(&b);
        if (b.sec != a.sec) {
            printf("rtctest: ok, the clock ticks\n");
            return GUEST_EXIT_OK;
        }
    }
    printf("rtctest: FAILED: the seconds did not change\n");
    return GUEST_EXIT_FAIL;
}
