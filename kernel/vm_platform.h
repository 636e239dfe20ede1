/*
 * The PC a VM sees, as a whole: its devices reset together, its firmware tables written into
 * guest memory, and its timers and interrupt controllers advanced from the monitor loop (PIT
 * channel 0 raises IRQ 0 and the RTC IRQ 8 on the 8259s; the vector the PICs would hand the CPU
 * is injected).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

struct vm;
struct vcpu;
struct loader_result;

/* The VM's clock: host time minus the time it stood still (paused or not yet started). */
uint64_t vm_now_ns(const struct vm *vm);

/* The TSC vCPU v reads, standing still with the VM's clock. */
uint64_t vm_guest_tsc(struct vcpu *v);

/* Every device to its power-on state (as a PC BIOS leaves it); after a reset that is not a
 * power cycle (power_on false) the CMOS/RTC keeps its time and memory, as on a PC. */
void vm_platform_reset(struct vm *vm, uint64_t now_ns, bool power_on);
/* After the image is loaded: the firmware tables guests look for. */
civic_err vm_platform_firmware(struct vm *vm, const struct loader_result *image, char *err,
                               size_t err_size);
void vm_platform_poll(struct vm *vm);
/* Host time (arch_time_ns) of the VM's next timer interrupt, or UINT64_MAX: the scheduler ends
 * slices and idles no longer than that. */
uint64_t vm_platform_next_event_ns(struct vm *vm);
