/* Shared between the LAPIC model's register file (vdev_lapic.c) and its timer
 * (vdev_lapic_timer.c); not for other users. */
#pragma once
#include "kernel/vdev_lapic.h"

/* LVT timer mode, bits 18-17 (SDM Vol. 3A, Table 11-2). */
enum { LAPIC_TIMER_ONESHOT, LAPIC_TIMER_PERIODIC, LAPIC_TIMER_TSC_DEADLINE };

unsigned vdev_lapic_timer_mode(const struct vdev_lapic *l);
/* Bus clocks per count for a divide configuration value (Figure 11-10). */
uint64_t vdev_lapic_timer_divisor(uint32_t dcr);
uint32_t vdev_lapic_timer_current(const struct vdev_lapic *l, uint64_t now_ns);
void vdev_lapic_timer_write_initial(struct vdev_lapic *l, uint32_t value, uint64_t now_ns);
void vdev_lapic_timer_write_dcr(struct vdev_lapic *l, uint32_t value, uint64_t now_ns);
/* A write to LVT timer that changes the mode disarms the timer (11.5.4.1). */
void vdev_lapic_timer_disarm(struct vdev_lapic *l);
/* Raises the interrupt of an LVT entry unless it is masked (fixed delivery only). */
void vdev_lapic_raise_lvt(struct vdev_lapic *l, unsigned lvt);
