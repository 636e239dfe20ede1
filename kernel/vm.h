/*
 * Virtual machines and their vCPUs: the kernel-level objects the shell manages and the monitor
 * loop schedules. One vCPU per VM for now (the PC platform issue adds more).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/arch_vmx.h"
#include "kernel/error.h"
#include "kernel/vdev_uart.h"
#include "kernel/vdev_debug_exit.h"
#include "kernel/vdev_fwcfg.h"
#include "kernel/vdev_kbc.h"
#include "kernel/vdev_pci.h"
#include "kernel/vdev_pic.h"
#include "kernel/vdev_pit.h"
#include "kernel/vdev_rtc.h"

#define VM_NAME_MAX 32
#define VM_MAX 16
#define VM_STOP_REASON_MAX 160
#define VM_CONSOLE_RING 16384

enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_STOPPED };

enum vcpu_state {
    VCPU_RUNNABLE,
    VCPU_HALTED, /* HLT: waits for an interrupt (arch_vcpu_raise_irq wakes it when IF was set) */
    VCPU_STOPPED,
};

struct vm;

struct vcpu {
    struct vm *vm;
    struct arch_vcpu *arch; /* owned by arch/x86 */
    enum vcpu_state state;
    uint16_t vpid;
    uint64_t exits;
    uint64_t exits_by_reason[ARCH_EXIT_REASONS];
    uint64_t run_ns; /* time spent in the guest (including exit handling) */
};

struct vm {
    bool used;
    char name[VM_NAME_MAX];
    char module[64];
    enum vm_state state;
    struct guest_mem *mem;
    struct vcpu vcpu;
    struct vdev_uart uart;
    struct vdev_debug_exit debug_exit;
    struct vdev_pic pic;
    struct vdev_pit pit;
    struct vdev_rtc rtc;
    struct vdev_pci pci;
    struct vdev_kbc kbc;
    struct vdev_fwcfg fwcfg;
    bool pic_low_vector_warned; /* warned once that the guest left the PIC on vectors < 32 */
    char console_buf[VM_CONSOLE_RING];
    uint64_t console_head; /* total bytes ever written; the ring holds the last VM_CONSOLE_RING */
    uint64_t scratch_page; /* host frame of 0xff that takes discarded writes outside RAM */
    uint64_t hole_gpa;     /* page outside RAM mapped for one instruction, when hole_active */
    bool hole_active;
    bool has_exit_code;
    uint32_t exit_code;
    char stop_reason[VM_STOP_REASON_MAX];
};
