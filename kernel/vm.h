/*
 * Virtual machines and their vCPUs: the kernel-level objects the shell manages and the monitor
 * loop schedules. vCPU 0 is the bootstrap processor; the others wait for a STARTUP IPI.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "kernel/arch_vmx.h"
#include "kernel/error.h"
#include "kernel/vdev_uart.h"
#include "kernel/vdev_debug_exit.h"
#include "kernel/vdev_acpi_pm.h"
#include "kernel/vdev_fwcfg.h"
#include "kernel/vdev_ioapic.h"
#include "kernel/vdev_kbc.h"
#include "kernel/vdev_lapic.h"
#include "kernel/vdev_pci.h"
#include "kernel/vdev_pic.h"
#include "kernel/vdev_pit.h"
#include "kernel/vdev_rtc.h"
#include "mm/vm_paging.h"

#define VM_NAME_MAX 32
#define VM_MAX 16
#define VM_STOP_REASON_MAX 160
#define VM_CONSOLE_RING 16384
#define VM_MAX_VCPUS 8

enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_STOPPED };

enum vcpu_state {
    VCPU_RUNNABLE,
    VCPU_HALTED,    /* HLT: waits for an interrupt (arch_vcpu_interrupt_pending wakes it) */
    VCPU_WAIT_SIPI, /* an application processor after INIT: only a STARTUP IPI starts it */
    VCPU_STOPPED,
    VCPU_WAIT_PAGE, /* its access needs a page that is on the network, or a frame (remote memory
                     * wakes it: net/remote_mem.c) */
};

struct vm;

struct vcpu {
    struct vm *vm;
    struct arch_vcpu *arch; /* owned by arch/x86 */
    unsigned index;         /* 0 = the bootstrap processor; also the vCPU's APIC ID */
    enum vcpu_state state;
    uint16_t vpid;
    uint64_t exits;
    uint64_t exits_by_reason[ARCH_EXIT_REASONS];
    uint64_t run_ns;   /* time spent running the vCPU (guest time plus exit handling) */
    uint64_t guest_ns; /* of which in VMX non-root operation (between entry and exit) */
    uint64_t wait_gfn;      /* VCPU_WAIT_PAGE: the guest frame it waits for */
    uint64_t wait_since_ns; /* VCPU_WAIT_PAGE: when it parked */
    bool wait_remote;       /* VCPU_WAIT_PAGE: for a page fetched from a peer (not a frame) */
    struct vdev_lapic lapic;
};

struct vm {
    bool used;
    char name[VM_NAME_MAX];
    char module[64];
    char cmdline[256]; /* the guest's command line when given at create (has_cmdline) */
    bool has_cmdline;
    uint64_t mem_bytes;
    uint64_t flat_load;
    enum vcpu_boot_mode flat_mode;
    enum vm_state state;
    uint64_t paused_ns;      /* host time during which the VM's clock stood still */
    uint64_t pause_start_ns; /* when it last stopped running (created or paused) */
    uint64_t resets;
    bool reset_pending; /* the guest asked for a reset; the scheduler performs it */
    struct guest_mem *mem;
    uint32_t id; /* names the VM's pages to peers; new for every build, so no stale message of
                  * an earlier life (before a reset) can match */
    struct vm_paging paging;
    struct vcpu vcpus[VM_MAX_VCPUS];
    unsigned vcpu_count;
    struct vdev_uart uart;
    struct vdev_debug_exit debug_exit;
    struct vdev_pic pic;
    struct vdev_pit pit;
    struct vdev_rtc rtc;
    struct vdev_pci pci;
    struct vdev_kbc kbc;
    struct vdev_fwcfg fwcfg;
    struct vdev_ioapic ioapic;
    struct vdev_acpi_pm pm;
    bool irq_mode_warned; /* warned once about an NMI/SMI/ExtINT message civic drops */
    char console_buf[VM_CONSOLE_RING];
    uint64_t console_head; /* total bytes ever written; the ring holds the last VM_CONSOLE_RING */
    uint64_t scratch_page; /* host frame of 0xff that takes discarded writes outside RAM */
    uint64_t hole_gpa;     /* page outside RAM mapped for one instruction, when hole_active */
    bool hole_active;
    /* A device page (local APIC, IOAPIC) stepped with its register image (vmm_mmio.c). */
    uint8_t mmio_device; /* enum vmm_mmio_device; 0 = the all-ones hole */
    bool mmio_write;
    unsigned mmio_offset; /* byte offset of the access in the page */
    uint64_t mmio_page;   /* host frame that carries the register image */
    bool has_exit_code;
    uint32_t exit_code;
    char stop_reason[VM_STOP_REASON_MAX];
};
