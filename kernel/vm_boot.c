/* VMs named on the boot command line (vm=NAME,MODULE[,mem=SIZE][,local=SIZE]...) are created and started before
 * the shell's first prompt; a failure is logged and the rest of the boot goes on. */
#include "kernel/vm_boot.h"

#include "kernel/log.h"
#include "kernel/vm_registry.h"

void vm_boot_start(const struct boot_options *opts)
{
    for (unsigned i = 0; i < opts->vm_count; i++) {
        const struct boot_vm *bv = &opts->vms[i];
        struct vm_create_args a = {.name = bv->name,
                                   .module = bv->module,
                                   .mem_bytes = bv->mem_bytes,
                                   .cpus = bv->cpus,
                                   .local_bytes = bv->local_bytes,
                                   .replicas = bv->replicas};
        char err[160];
        struct vm *vm;
        if (vm_create(&a, &vm, err, sizeof err) != CIVIC_OK ||
            vm_start(vm, err, sizeof err) != CIVIC_OK)
            log_err("boot: vm=%s,%s: %s", bv->name, bv->module, err);
        else
            log_info("boot: vm %s started", bv->name);
    }
}
