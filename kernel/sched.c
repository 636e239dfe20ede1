#include "kernel/sched.h"

#include "kernel/arch.h"
#include "kernel/arch_vmx.h"
#include "kernel/log.h"
#include "kernel/vm.h"
#include "kernel/vm_platform.h"
#include "kernel/vm_registry.h"

/* Round robin over every (VM, vCPU) pair: the cursor counts pairs. */
static size_t cursor;
static uint64_t guest_total_ns; /* every vCPU's time in the guest, destroyed VMs' too */

uint64_t sched_guest_ns(void)
{
    return guest_total_ns;
}

static struct vcpu *pair_at(size_t k)
{
    for (size_t i = 0;; i++) {
        struct vm *vm = vm_at(i);
        if (!vm)
            return NULL;
        if (k < vm->vcpu_count)
            return &vm->vcpus[k];
        k -= vm->vcpu_count;
    }
}

static void reset_if_asked(struct vm *vm)
{
    if (!vm->reset_pending)
        return;
    vm->reset_pending = false;
    char err[120];
    vm_reset(vm, err, sizeof err); /* a failure stops the VM with the reason */
}

/* A slice ends at the VM's next timer interrupt, so it is delivered on time, but never sooner
 * than SCHED_MIN_SLICE_US (a guest that programs a 1 us timer must not live on exits). */
static uint64_t slice_for(struct vm *vm)
{
    uint64_t next = vm_platform_next_event_ns(vm), now = arch_time_ns();
    uint64_t us = next > now ? (next - now) / 1000 : 0;
    if (us < SCHED_MIN_SLICE_US)
        return SCHED_MIN_SLICE_US;
    return us < SCHED_SLICE_US ? us : SCHED_SLICE_US;
}

uint64_t sched_next_event_ns(void)
{
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; vm_at(i); i++) {
        struct vm *vm = vm_at(i);
        if (vm->state == VM_RUNNING) {
            uint64_t t = vm_platform_next_event_ns(vm);
            next = t < next ? t : next;
        }
    }
    return next;
}

bool sched_run_next(void)
{
    size_t pairs = 0;
    for (size_t i = 0; vm_at(i); i++) {
        struct vm *vm = vm_at(i);
        pairs += vm->vcpu_count;
        if (vm->state == VM_RUNNING)
            vm_platform_poll(vm); /* timers tick and may wake a halted vCPU */
    }
    for (size_t tries = 0; tries < pairs; tries++) {
        struct vcpu *v = pair_at(cursor++ % pairs);
        if (!v || v->vm->state != VM_RUNNING || v->state != VCPU_RUNNABLE)
            continue;
        /* The preemption timer bounds the slice; host interrupts end it early so the console
         * and (later) the NIC are served promptly. */
        uint64_t guest_before = v->guest_ns;
        arch_vcpu_run(v, slice_for(v->vm));
        guest_total_ns += v->guest_ns - guest_before;
        reset_if_asked(v->vm);
        return true;
    }
    return false;
}
