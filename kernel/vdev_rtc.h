/*
 * The guest's CMOS RAM and MC146818 real-time clock (index port 0x70, data port 0x71). A pure
 * model: the clock, the update-in-progress window and the periodic, update-ended and alarm
 * interrupts are functions of the time passed into each call (`now_ns`, any monotonic
 * nanosecond clock), so it is deterministic. The caller raises IRQ 8 when
 * vdev_rtc_irq8_pending() says so, arms a timer for vdev_rtc_next_event_ns() and recomputes
 * that deadline after every port access. State in one struct with save/restore for migration.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_RTC_INDEX_PORT 0x70
#define VDEV_RTC_DATA_PORT 0x71
#define VDEV_RTC_NVRAM_SIZE 128
#define VDEV_RTC_NO_EVENT UINT64_MAX

/* MC146818 data sheet: the register map. */
#define VDEV_RTC_SECONDS 0x00
#define VDEV_RTC_SECONDS_ALARM 0x01
#define VDEV_RTC_MINUTES 0x02
#define VDEV_RTC_MINUTES_ALARM 0x03
#define VDEV_RTC_HOURS 0x04
#define VDEV_RTC_HOURS_ALARM 0x05
#define VDEV_RTC_DAY_OF_WEEK 0x06
#define VDEV_RTC_DAY_OF_MONTH 0x07
#define VDEV_RTC_MONTH 0x08
#define VDEV_RTC_YEAR 0x09
#define VDEV_RTC_REG_A 0x0a
#define VDEV_RTC_REG_B 0x0b
#define VDEV_RTC_REG_C 0x0c
#define VDEV_RTC_REG_D 0x0d
#define VDEV_RTC_A_UIP 0x80
#define VDEV_RTC_A_DV_MASK 0x70
#define VDEV_RTC_A_RS_MASK 0x0f
#define VDEV_RTC_B_SET 0x80
#define VDEV_RTC_B_PIE 0x40
#define VDEV_RTC_B_AIE 0x20
#define VDEV_RTC_B_UIE 0x10
#define VDEV_RTC_B_SQWE 0x08
#define VDEV_RTC_B_DM 0x04 /* 1: binary, 0: BCD */
#define VDEV_RTC_B_24H 0x02
#define VDEV_RTC_B_DSE 0x01
#define VDEV_RTC_C_IRQF 0x80
#define VDEV_RTC_C_PF 0x40
#define VDEV_RTC_C_AF 0x20
#define VDEV_RTC_C_UF 0x10
#define VDEV_RTC_D_VRT 0x80
#define VDEV_RTC_HOUR_PM 0x80         /* in the hours registers, 12-hour mode */
#define VDEV_RTC_ALARM_DONT_CARE 0xc0 /* an alarm byte with both top bits set matches all */

/* PC/AT CMOS layout (IBM PC/AT technical reference; the bytes QEMU's firmware reads). */
#define VDEV_RTC_BASE_MEM_LO 0x15 /* KiB below 1 MiB */
#define VDEV_RTC_BASE_MEM_HI 0x16
#define VDEV_RTC_EXT_MEM_LO 0x17 /* KiB above 1 MiB, capped at 0xffff */
#define VDEV_RTC_EXT_MEM_HI 0x18
#define VDEV_RTC_EXT_MEM2_LO 0x30 /* copy of 0x17/0x18 */
#define VDEV_RTC_EXT_MEM2_HI 0x31
#define VDEV_RTC_CENTURY 0x32
#define VDEV_RTC_MEM_16M_LO 0x34 /* 64 KiB units above 16 MiB, below 4 GiB, capped */
#define VDEV_RTC_MEM_16M_HI 0x35
#define VDEV_RTC_MEM_4G_0 0x5b /* 64 KiB units above 4 GiB, 24 bits */
#define VDEV_RTC_MEM_4G_1 0x5c
#define VDEV_RTC_MEM_4G_2 0x5d
/*
 * Guest RAM beyond this much sits above 4 GiB (QEMU's pc layout leaves the 3-4 GiB hole to
 * MMIO); the memory map the guest is given must agree.
 */
#define VDEV_RTC_LOW_RAM_LIMIT 0xc0000000ull

struct vdev_rtc {
    uint8_t cmos[VDEV_RTC_NVRAM_SIZE]; /* time registers hold the frozen time while SET */
    int64_t base_sec;   /* the clock read base_sec (epoch seconds) exactly at base_ns */
    uint64_t base_ns;   /* seconds update at base_ns + k * 1 s; never after seen_ns */
    uint64_t seen_ns;   /* events up to here are in register C */
    uint8_t index;      /* 0..127 */
    uint8_t nmi_masked; /* bit 7 of the last index write; stored, not acted on */
    uint8_t irq_raised; /* IRQF rose since the last vdev_rtc_irq8_pending() */
};

/* Times are saved relative to the time of the save, so the destination's clock may differ. */
struct vdev_rtc_state {
    uint32_t version;
    uint64_t saved_ns;
    struct vdev_rtc rtc;
};

/* Power-on: the clock reads epoch_seconds_at_now at now_ns; memory-size bytes from ram_bytes. */
void vdev_rtc_reset(struct vdev_rtc *rtc, uint64_t now_ns, int64_t epoch_seconds_at_now,
                    uint64_t ram_bytes);
/* Port access of one byte (0x70, 0x71); false (nothing done) for any other port. */
bool vdev_rtc_io(struct vdev_rtc *rtc, uint16_t port, bool is_write, uint8_t *value,
                 uint64_t now_ns);
/* True when IRQ 8 rose (IRQF went 0 -> 1) since the previous call; flags land in register C. */
bool vdev_rtc_irq8_pending(struct vdev_rtc *rtc, uint64_t now_ns);
/* When IRQ 8 can next rise (now_ns if it already has), or VDEV_RTC_NO_EVENT. */
uint64_t vdev_rtc_next_event_ns(const struct vdev_rtc *rtc, uint64_t now_ns);
/* The guest's clock at now_ns in epoch seconds (frozen while SET). */
int64_t vdev_rtc_epoch_seconds(const struct vdev_rtc *rtc, uint64_t now_ns);

/* Calendar conversion (proleptic Gregorian, years 0..9999), exposed for tests. */
struct vdev_rtc_tm {
    int32_t year;
    uint8_t month; /* 1..12 */
    uint8_t day;   /* 1..31 */
    uint8_t hour, minute, second;
    uint8_t wday; /* 1 = Sunday .. 7 = Saturday, as the RTC counts */
};
void vdev_rtc_epoch_to_tm(int64_t epoch_seconds, struct vdev_rtc_tm *tm);
int64_t vdev_rtc_tm_to_epoch(const struct vdev_rtc_tm *tm);

void vdev_rtc_save(const struct vdev_rtc *rtc, struct vdev_rtc_state *out, uint64_t now_ns);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_rtc_restore(struct vdev_rtc *rtc, const struct vdev_rtc_state *in, uint64_t now_ns);
