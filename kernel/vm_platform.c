#include "kernel/vm_platform.h"

#include "kernel/arch.h"
#include "kernel/arch_vmx.h"
#include "kernel/log.h"
#include "kernel/vm.h"

void vm_platform_poll(struct vm *vm)
{
    /* Many edges since the last poll are one request: the PIC latches one per line. */
    if (vdev_pit_irq0_edges(&vm->pit, arch_time_ns())) {
        vdev_pic_set_irq(&vm->pic, 0, true);
        vdev_pic_set_irq(&vm->pic, 0, false);
    }
    if (vdev_rtc_irq8_pending(&vm->rtc, arch_time_ns())) {
        vdev_pic_set_irq(&vm->pic, 8, true);
        vdev_pic_set_irq(&vm->pic, 8, false);
    }
    if (vdev_pic_pending_vector(&vm->pic) < 0)
        return;
    /* INTA now; the vCPU takes the vector when its IF allows (interrupt-window exiting). */
    int vector = vdev_pic_acknowledge(&vm->pic);
    if (vector >= 0 && arch_vcpu_raise_irq(&vm->vcpu, (uint8_t)vector) != CIVIC_OK &&
        !vm->pic_low_vector_warned) {
        vm->pic_low_vector_warned = true;
        log_warn("vm %s: PIC vector %#x is an exception vector; interrupt dropped (remap the "
                 "PIC above 0x1f)", vm->name, vector);
    }
}
