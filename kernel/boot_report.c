#include "arch/x86/cpu.h"
#include "kernel/boot.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/version.h"
#include "mm/pmm.h"

void boot_report(void)
{
    struct frame_stats fs;
    pmm_get_stats(&fs);
    const struct cpu_info *c = cpu_get();
    log_info("mem: %llu MiB usable, %llu MiB free", (unsigned long long)(fs.total >> 8),
             (unsigned long long)(fs.free >> 8));
    log_info("cpu: %s %s", c->vendor, c->brand);
    if (c->vmx.usable)
        log_info("vmx: usable (EPT%s%s)", c->vmx.ept_ad ? ", A/D bits" : "",
                 c->vmx.pml ? ", PML" : "");
    else
        log_warn("vmx: civic cannot run VMs on this CPU: %s",
                 c->vmx.missing ? c->vmx.missing : "unknown reason");
    kprintf("civic %s ready; type 'help' for commands.\n", civic_version);
}
