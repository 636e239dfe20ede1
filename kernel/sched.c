#include "kernel/sched.h"

#include "kernel/arch_vmx.h"
#include "kernel/log.h"
#include "kernel/vm.h"
#include "kernel/vm_platform.h"
#include "kernel/vm_registry.h"

static size_t cursor;

static bool runnable(const struct vm *vm)
{
    return vm->state == VM_RUNNING && vm->vcpu.state == VCPU_RUNNABLE;
}

bool sched_run_next(void)
{
    size_t count = 0;
    for (struct vm *vm; (vm = vm_at(count)); count++)
        if (vm->state == VM_RUNNING)
            vm_platform_poll(vm); /* timers tick and may wake a halted vCPU */
    for (size_t tries = 0; tries < count; tries++) {
        struct vm *vm = vm_at(cursor++ % count);
        if (!runnable(vm))
            continue;
        /* The preemption timer bounds the slice; host interrupts end it early so the console
         * and (later) the NIC are served promptly. */
        arch_vcpu_run(&vm->vcpu, SCHED_SLICE_US);
        return true;
    }
    return false;
}
