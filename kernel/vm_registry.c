/*
 * VM lifecycle: create (guest memory, image loading, vCPUs), start, pause, resume, reset,
 * destroy. A VM that cannot be created leaves nothing behind; destroying one returns every frame.
 * A VM's clock (devices and TSC) stands still while it is paused.
 */
#include "kernel/vm_registry.h"

#include <stdarg.h>

#include "kernel/arch.h"
#include "kernel/arch_slat.h"
#include "kernel/boot.h"
#include "kernel/console_attach.h"
#include "kernel/format.h"
#include "kernel/loader.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "kernel/vm_platform.h"
#include "mm/guest_frames.h"
#include "mm/guest_mem.h"
#include "mm/pmm.h"
#include "net/remote_mem.h"

static struct vm vms[VM_MAX];
static uint16_t next_vpid = 1;

static civic_err fail(civic_err e, char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(err, n, fmt, ap);
    va_end(ap);
    return trace_error(e);
}

const char *vm_state_name(enum vm_state s)
{
    switch (s) {
    case VM_CREATED: return "created";
    case VM_RUNNING: return "running";
    case VM_PAUSED: return "paused";
    case VM_STOPPED: return "stopped";
    }
    return "?";
}

struct vm *vm_at(size_t i)
{
    for (size_t k = 0; k < VM_MAX; k++)
        if (vms[k].used && i-- == 0)
            return &vms[k];
    return NULL;
}

struct vm *vm_find(const char *name)
{
    for (size_t k = 0; k < VM_MAX; k++)
        if (vms[k].used && strcmp(vms[k].name, name) == 0)
            return &vms[k];
    return NULL;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= VM_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* A module is named by the first word of its GRUB command line, or by #N. Returns its index. */
static int find_module(const char *name, const char **rest)
{
    if (name[0] == '#') {
        unsigned long i = 0;
        const char *p = name + 1;
        if (!*p)
            return -1;
        for (; *p; p++) {
            if (*p < '0' || *p > '9' || i > 1000)
                return -1;
            i = i * 10 + (unsigned long)(*p - '0');
        }
        if (i >= boot_info->module_count)
            return -1;
        const char *c = boot_info->modules[i].cmdline;
        while (*c && *c != ' ')
            c++;
        *rest = *c ? c + 1 : c;
        return (int)i;
    }
    size_t n = strlen(name);
    for (size_t i = 0; i < boot_info->module_count; i++) {
        const char *c = boot_info->modules[i].cmdline;
        if (strncmp(c, name, n) == 0 && (c[n] == 0 || c[n] == ' ')) {
            *rest = c[n] ? c + n + 1 : c + n;
            return (int)i;
        }
    }
    return -1;
}

/* An application processor's state until a STARTUP IPI gives it one. */
static const struct vcpu_boot_state ap_boot = {.mode = VCPU_BOOT_REAL_MODE};

static civic_err load_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
    return guest_mem_write(ctx, gpa, src, len);
}

/* Devices, guest memory, the image and the vCPUs: everything a VM is made of besides its name
 * and console. Used by create and by reset; on failure nothing is left allocated. */
static civic_err vm_build(struct vm *vm, char *err, size_t n)
{
    const char *module_args = "";
    int mod = find_module(vm->module, &module_args);
    if (mod < 0)
        return fail(CIVIC_ENOENT, err, n, "no module '%.40s' (see `modules`)", vm->module);
    /* A reset is not a power cycle: the CMOS keeps its contents and the clock runs on. */
    vm_platform_reset(vm, arch_time_ns(), vm->resets == 0);

    if (pmm_alloc(0, &vm->scratch_page) != CIVIC_OK)
        return fail(CIVIC_ENOMEM, err, n, "not enough memory for the VM's scratch page");
    memset(phys_to_virt(vm->scratch_page), 0xff, PAGE_SIZE);
    if (pmm_alloc(0, &vm->mmio_page) != CIVIC_OK) {
        pmm_free(vm->scratch_page, 0);
        return fail(CIVIC_ENOMEM, err, n, "not enough memory for the VM's MMIO page");
    }
    memset(phys_to_virt(vm->mmio_page), 0, PAGE_SIZE);

    const struct slat_caps caps = slat_host_caps();
    civic_err e = guest_mem_create(&vm->mem, vm->mem_bytes, guest_frames_kernel(), &caps);
    if (e != CIVIC_OK) {
        pmm_free(vm->scratch_page, 0);
        pmm_free(vm->mmio_page, 0);
        return fail(e, err, n, "cannot create guest memory: %s", civic_strerror(e));
    }
    remote_mem_vm_built(vm);

    const struct boot_module *bm = &boot_info->modules[mod];
    struct loader_request req = {
        .image = phys_to_virt(bm->start),
        .size = (size_t)(bm->end - bm->start),
        .cmdline = vm->has_cmdline ? vm->cmdline : module_args,
        .flat_load = vm->flat_load,
        .flat_mode = vm->flat_mode,
    };
    struct loader_target target = {load_write, vm->mem, vm->mem_bytes};
    struct loader_result res;
    e = loader_load(&req, &target, &res, err, n);
    if (e == CIVIC_OK)
        e = vm_platform_firmware(vm, &res, err, n);
    unsigned made = 0;
    for (; e == CIVIC_OK && made < vm->vcpu_count; made++) {
        struct vcpu *v = &vm->vcpus[made];
        v->vm = vm;
        v->index = made;
        v->vpid = next_vpid++;
        if (next_vpid == 0)
            next_vpid = 1; /* VPID 0 is the host's */
        /* Application processors wait for INIT and STARTUP IPIs; their state is set then. */
        e = arch_vcpu_create(v, made == 0 ? &res.boot : &ap_boot, guest_mem_eptp(vm->mem), v->vpid);
        if (e != CIVIC_OK) {
            ksnprintf(err, n, "cannot set up vCPU %u: %s", made, civic_strerror(e));
            break;
        }
        v->state = made == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
        arch_vcpu_tsc_skip(v, vm->paused_ns); /* the TSC counts the VM's time, as its devices */
    }
    if (e != CIVIC_OK) {
        while (made--)
            arch_vcpu_destroy(&vm->vcpus[made]);
        guest_mem_destroy(vm->mem);
        vm->mem = NULL;
        pmm_free(vm->scratch_page, 0);
        pmm_free(vm->mmio_page, 0);
        return trace_error(e);
    }
    return CIVIC_OK;
}

static void vm_teardown(struct vm *vm)
{
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        arch_vcpu_destroy(&vm->vcpus[i]);
    remote_mem_vm_gone(vm);
    guest_mem_destroy(vm->mem);
    vm->mem = NULL;
    pmm_free(vm->scratch_page, 0);
    pmm_free(vm->mmio_page, 0);
    vm->hole_active = false;
    vm->mmio_device = 0;
}

civic_err vm_create(const struct vm_create_args *a, struct vm **out, char *err, size_t n)
{
    if (!valid_name(a->name))
        return fail(CIVIC_EINVAL, err, n, "bad VM name '%.40s' (1-%u of A-Z a-z 0-9 - _ .)",
                    a->name, VM_NAME_MAX - 1);
    if (vm_find(a->name))
        return fail(CIVIC_EEXIST, err, n, "a VM named '%s' exists", a->name);
    if (arch_vmx_enable() != CIVIC_OK)
        return fail(CIVIC_ENOTSUP, err, n, "VMX not available on this CPU (see `cpu`)");
    const char *module_args;
    if (find_module(a->module, &module_args) < 0)
        return fail(CIVIC_ENOENT, err, n, "no module '%.40s' (see `modules`)", a->module);
    if (strlen(a->module) >= sizeof vms[0].module)
        return fail(CIVIC_EINVAL, err, n, "module name too long");
    if (a->cmdline && strlen(a->cmdline) >= sizeof vms[0].cmdline)
        return fail(CIVIC_EINVAL, err, n, "command line too long (at most %u bytes)",
                    (unsigned)sizeof vms[0].cmdline - 1);
    unsigned cpus = a->cpus ? a->cpus : 1;
    if (cpus > VM_MAX_VCPUS)
        return fail(CIVIC_ERANGE, err, n, "bad vCPU count %u (1 to %u)", cpus, VM_MAX_VCPUS);

    uint64_t mem = a->mem_bytes ? a->mem_bytes : VM_DEFAULT_MEM;
    if (mem < VM_MIN_MEM || mem > GUEST_MEM_MAX || mem % PAGE_SIZE)
        return fail(CIVIC_ERANGE, err, n,
                    "bad memory size %llu bytes (1 MiB to %llu GiB, a multiple of 4 KiB)",
                    (unsigned long long)mem, (unsigned long long)(GUEST_MEM_MAX >> 30));
    struct frame_stats fs;
    pmm_get_stats(&fs);
    /* Frames are taken lazily, but promising more than is free would end in a VM waiting on a
     * fault; refuse now. With a local limit only that much must be here: peers hold the rest. */
    uint64_t local = a->local_bytes && a->local_bytes < mem ? a->local_bytes : mem;
    if (local / PAGE_SIZE + GUEST_FRAMES_RESERVE > fs.free)
        return fail(CIVIC_ENOMEM, err, n,
                    "not enough memory: %llu MiB asked%s, %llu MiB free (use local=SIZE to page "
                    "the rest to peers)",
                    (unsigned long long)(local >> 20), local < mem ? " locally" : "",
                    (unsigned long long)((fs.free - (fs.free < GUEST_FRAMES_RESERVE
                                                         ? fs.free
                                                         : GUEST_FRAMES_RESERVE)) >> 8));

    struct vm *vm = NULL;
    for (size_t k = 0; k < VM_MAX && !vm; k++)
        if (!vms[k].used)
            vm = &vms[k];
    if (!vm)
        return fail(CIVIC_EBUSY, err, n, "too many VMs (at most %u)", VM_MAX);

    memset(vm, 0, sizeof *vm);
    memcpy(vm->name, a->name, strlen(a->name) + 1);
    memcpy(vm->module, a->module, strlen(a->module) + 1);
    if (a->cmdline) {
        vm->has_cmdline = true;
        memcpy(vm->cmdline, a->cmdline, strlen(a->cmdline) + 1);
    }
    vm->mem_bytes = mem;
    vm->vcpu_count = cpus;
    vm->flat_load = a->flat_load;
    vm->flat_mode = a->flat_mode;
    vm->pause_start_ns = arch_time_ns(); /* the VM's clock starts with vm_start() */
    civic_err e = remote_mem_vm_init(vm, a->local_bytes, a->replicas, err, n);
    vm->paging.readahead_off = a->readahead_off;
    if (e == CIVIC_OK)
        e = vm_build(vm, err, n);
    if (e != CIVIC_OK) {
        memset(vm, 0, sizeof *vm);
        return e;
    }
    vm->used = true;
    vm->state = VM_CREATED;
    log_info("vm %s: created from module '%s', %llu MiB, %u vCPU%s", vm->name, a->module,
             (unsigned long long)(mem >> 20), cpus, cpus == 1 ? "" : "s");
    if (vm->paging.limit_pages < mem / PAGE_SIZE)
        log_info("vm %s: local limit %llu KiB, the rest paged to peers (%u cop%s)", vm->name,
                 (unsigned long long)(vm->paging.limit_pages * (PAGE_SIZE / 1024)),
                 vm->paging.replicas, vm->paging.replicas == 1 ? "y" : "ies");
    *out = vm;
    return CIVIC_OK;
}

/* The VM's clock stood still since pause_start_ns: devices and TSCs skip that time. */
static void clock_resume(struct vm *vm)
{
    uint64_t held = arch_time_ns() - vm->pause_start_ns;
    vm->paused_ns += held;
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        arch_vcpu_tsc_skip(&vm->vcpus[i], held);
}

civic_err vm_start(struct vm *vm, char *err, size_t n)
{
    if (vm->state != VM_CREATED)
        return fail(CIVIC_EBUSY, err, n, "VM '%s' is %s, not created", vm->name,
                    vm_state_name(vm->state));
    clock_resume(vm);
    vm->state = VM_RUNNING;
    return CIVIC_OK;
}

civic_err vm_pause(struct vm *vm, char *err, size_t n)
{
    if (vm->state != VM_RUNNING)
        return fail(CIVIC_EBUSY, err, n, "VM '%s' is %s, not running", vm->name,
                    vm_state_name(vm->state));
    vm->pause_start_ns = arch_time_ns();
    vm->state = VM_PAUSED;
    return CIVIC_OK;
}

civic_err vm_resume(struct vm *vm, char *err, size_t n)
{
    if (vm->state != VM_PAUSED)
        return fail(CIVIC_EBUSY, err, n, "VM '%s' is %s, not paused", vm->name,
                    vm_state_name(vm->state));
    clock_resume(vm);
    vm->state = VM_RUNNING;
    vm->stop_reason[0] = 0; /* why it was paused (remote memory sets one): no longer so */
    return CIVIC_OK;
}

civic_err vm_reset(struct vm *vm, char *err, size_t n)
{
    if (vm->state == VM_CREATED)
        return fail(CIVIC_EBUSY, err, n, "VM '%s' has not started", vm->name);
    bool was_paused = vm->state == VM_PAUSED;
    if (vm->state == VM_STOPPED) /* its clock stood still since it stopped */
        vm->paused_ns += arch_time_ns() - vm->pause_start_ns;
    if (vm->mem) /* a failed reset left nothing to tear down */
        vm_teardown(vm);
    vm->has_exit_code = false;
    vm->stop_reason[0] = 0;
    vm->resets++;
    civic_err e = vm_build(vm, err, n);
    if (e != CIVIC_OK) {
        /* Nothing is left to run: the VM stays listed, stopped, with the reason. */
        ksnprintf(vm->stop_reason, sizeof vm->stop_reason, "reset failed: %s", err);
        vm->state = VM_STOPPED;
        vm->pause_start_ns = arch_time_ns();
        log_err("vm %s: %s", vm->name, vm->stop_reason);
        return e;
    }
    log_info("vm %s: reset", vm->name);
    vm->state = was_paused ? VM_PAUSED : VM_RUNNING;
    return CIVIC_OK;
}

void vm_destroy(struct vm *vm)
{
    console_attach_forget(vm);
    if (vm->mem)
        vm_teardown(vm);
    log_info("vm %s: destroyed", vm->name);
    memset(vm, 0, sizeof *vm);
}

void vm_console_put(struct vm *vm, uint8_t byte)
{
    vm->console_buf[vm->console_head % VM_CONSOLE_RING] = (char)byte;
    vm->console_head++;
}
