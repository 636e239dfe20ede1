/* Device pages (local APIC, IOAPIC) stepped against their register image; see vmm_mmio.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/vmm.h"

enum vmm_mmio_device { VMM_MMIO_NONE, VMM_MMIO_LAPIC, VMM_MMIO_IOAPIC };

/* An EPT violation at gpa: false when no device page is there. Otherwise *act says what to do,
 * and *single_step asks the arch to run one instruction and then call vmm_hole_write_done(). */
bool vmm_mmio_access(struct vcpu *v, uint64_t gpa, unsigned access, enum exit_action *act,
                     bool *single_step);
/* After the step: unmaps the page and hands a write to the device. */
void vmm_mmio_done(struct vcpu *v);
