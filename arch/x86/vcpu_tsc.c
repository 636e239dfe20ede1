/*
 * The guest's time-stamp counter: host TSC + the vCPU's VMCS TSC offset ("use TSC offsetting",
 * RDTSC and RDTSCP run without exits; SDM Vol. 3C, 27.6.5). The offset lives in
 * arch_vcpu.tsc (exit_msr.c changes it for IA32_TSC and IA32_TSC_ADJUST writes) and is written
 * to the VMCS at each arch_vcpu_run().
 */
#include "arch/x86/msr_model.h"
#include "arch/x86/time.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vcpu_arch.h"
#include "kernel/arch_vmx.h"

uint64_t arch_tsc_hz(void)
{
    uint64_t hz = tsc_hz();
    return hz ? hz : 1000000000ull; /* uncalibrated: as the run loop assumes */
}

uint64_t arch_vcpu_guest_tsc(struct vcpu *v)
{
    return rdtsc() + v->arch->tsc.offset;
}

void arch_vcpu_tsc_skip(struct vcpu *v, uint64_t ns)
{
    v->arch->tsc.offset -= tsc_ns_to_ticks(ns, arch_tsc_hz());
}
