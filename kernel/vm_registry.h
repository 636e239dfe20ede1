/* The table of VMs and their lifecycle, used by the shell, boot options and the scheduler. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"
#include "kernel/vm.h"

#define VM_DEFAULT_MEM (64ull << 20)
#define VM_MIN_MEM (1ull << 20)

struct vm_create_args {
    const char *name;
    const char *module;  /* a module's name (first word of its GRUB command line) or #N */
    uint64_t mem_bytes;  /* 0: VM_DEFAULT_MEM */
    const char *cmdline; /* NULL: the rest of the module's GRUB command line */
    uint64_t flat_load;  /* flat binaries: load address (0: the image must be Multiboot) */
    enum vcpu_boot_mode flat_mode;
    unsigned cpus; /* 0: one vCPU */
    uint64_t local_bytes; /* local limit of guest frames (network paging); 0: none */
    unsigned replicas;    /* copies of each evicted page: 1 or 2 (0: 1) */
    bool readahead_off;   /* remote faults fetch only the faulting page */
};

/* Each returns an error after writing a one-line reason (without "error: ") into err. */
civic_err vm_create(const struct vm_create_args *a, struct vm **out, char *err, size_t err_size);
civic_err vm_start(struct vm *vm, char *err, size_t err_size);
civic_err vm_pause(struct vm *vm, char *err, size_t err_size);
civic_err vm_resume(struct vm *vm, char *err, size_t err_size);
/* As a machine reset (the guest's reset request, or `vm reset`): devices, memory (all zero
 * again), the image and the vCPUs start over; name, console and counters stay. */
civic_err vm_reset(struct vm *vm, char *err, size_t err_size);
void vm_destroy(struct vm *vm);

struct vm *vm_find(const char *name);
/* Iteration: the i-th VM slot in use, or NULL past the end. */
struct vm *vm_at(size_t i);
const char *vm_state_name(enum vm_state s);

/* The VM's console ring (its UART output). */
void vm_console_put(struct vm *vm, uint8_t byte);
