/* The `cpu` shell command: what this CPU is and which VMX features civic can use. */
#include "arch/x86/cpu.h"
#include "kernel/console.h"
#include "kernel/shell.h"

static const char *yn(bool b) { return b ? "yes" : "no"; }

static civic_err cmd_cpu(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("cpu", "takes no arguments");
    const struct cpu_info *c = cpu_get();
    const struct vmx_caps *v = &c->vmx;
    kprintf("vendor=%s\nmodel=\"%s\"\n", c->vendor, c->brand);
    kprintf("family=%u\nmodel_id=%u\nstepping=%u\n", c->family, c->model, c->stepping);
    kprintf("nx=%s\npage_1g=%s\nx2apic=%s\ninvariant_tsc=%s\n", yn(c->nx), yn(c->pdpe1gb),
            yn(c->x2apic), yn(c->invariant_tsc));
    kprintf("vmx=%s\nvmx_enabled_by_firmware=%s\n", yn(v->cpuid_vmx), yn(v->enabled_by_firmware));
    kprintf("ept=%s\nunrestricted_guest=%s\nvpid=%s\nept_ad=%s\npml=%s\npreemption_timer=%s\n",
            yn(v->ept), yn(v->unrestricted_guest), yn(v->vpid), yn(v->ept_ad), yn(v->pml),
            yn(v->preemption_timer));
    kprintf("ept_2m=%s\nept_1g=%s\n", yn(v->ept_2m), yn(v->ept_1g));
    kprintf("vmx_usable=%s\n", yn(v->usable));
    if (!v->usable)
        kprintf("note: civic cannot run VMs on this CPU: %s\n",
                v->missing ? v->missing : "unknown reason");
    return CIVIC_OK;
}
SHELL_COMMAND(cpu, "cpu", "", "CPU model and VMX capabilities (key=yes|no)", cmd_cpu);
