/* The `vm` shell command: create, start, pause, resume, reset, destroy, list, stats, log,
 * console, regs, irq. */
#include "kernel/arch_vmx.h"
#include "kernel/console.h"
#include "kernel/console_attach.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"
#include "kernel/string.h"
#include "kernel/types.h"
#include "kernel/vm_irq.h"
#include "kernel/vm_platform.h"
#include "kernel/vm_registry.h"
#include "mm/guest_mem.h"
#include "net/remote_mem.h"

#define ERR_MAX 160

static struct vm *find_or_error(const char *name)
{
    struct vm *vm = vm_find(name);
    if (!vm)
        shell_error(CIVIC_ENOENT, "no VM named '%.40s' (see `vm list`)", name);
    return vm;
}

static civic_err vm_create_cmd(int argc, char **argv)
{
    if (argc < 4)
        return shell_usage_error("vm", "vm create needs NAME and MODULE");
    struct vm_create_args a = {.name = argv[2], .module = argv[3]};
    for (int i = 4; i < argc; i++) {
        const char *v;
        if ((v = shell_kv(argv[i], "mem"))) {
            if (shell_parse_size(v, &a.mem_bytes) != CIVIC_OK || a.mem_bytes == 0)
                return shell_error(CIVIC_EINVAL, "bad size '%.20s' (e.g. 64M, 1G)", v);
        } else if ((v = shell_kv(argv[i], "local"))) {
            if (shell_parse_size(v, &a.local_bytes) != CIVIC_OK || a.local_bytes == 0)
                return shell_error(CIVIC_EINVAL, "bad size '%.20s' (e.g. 16M)", v);
        } else if ((v = shell_kv(argv[i], "replicas"))) {
            uint64_t r;
            if (shell_parse_u64(v, &r) != CIVIC_OK || r == 0 || r > VM_REPLICAS_MAX)
                return shell_error(CIVIC_EINVAL, "bad replica count '%.20s' (1 or %u)", v,
                                   VM_REPLICAS_MAX);
            a.replicas = (unsigned)r;
        } else if ((v = shell_kv(argv[i], "readahead"))) {
            if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
                return shell_error(CIVIC_EINVAL, "readahead must be on or off, not '%.20s'", v);
            a.readahead_off = strcmp(v, "off") == 0;
        } else if ((v = shell_kv(argv[i], "cpus"))) {
            uint64_t c;
            if (shell_parse_u64(v, &c) != CIVIC_OK || c == 0 || c > VM_MAX_VCPUS)
                return shell_error(CIVIC_EINVAL, "bad vCPU count '%.20s' (1 to %u)", v,
                                   VM_MAX_VCPUS);
            a.cpus = (unsigned)c;
        } else if ((v = shell_kv(argv[i], "cmdline"))) {
            a.cmdline = v;
        } else if ((v = shell_kv(argv[i], "flat"))) {
            if (shell_parse_u64(v, &a.flat_load) != CIVIC_OK || a.flat_load == 0)
                return shell_error(CIVIC_EINVAL, "bad load address '%.20s'", v);
        } else if ((v = shell_kv(argv[i], "mode"))) {
            if (strcmp(v, "real") == 0)
                a.flat_mode = VCPU_BOOT_REAL_MODE;
            else if (strcmp(v, "pm32") == 0)
                a.flat_mode = VCPU_BOOT_PROTECTED_32;
            else
                return shell_error(CIVIC_EINVAL, "mode must be real or pm32, not '%.20s'", v);
        } else {
            return shell_usage_error("vm", "unknown option '%.40s'", argv[i]);
        }
    }
    char err[ERR_MAX];
    struct vm *vm;
    civic_err e = vm_create(&a, &vm, err, sizeof err);
    if (e != CIVIC_OK)
        return shell_error(e, "%s", err);
    kprintf("vm=%s state=%s mem_mib=%llu cpus=%u local_kib=%llu replicas=%u\n", vm->name,
            vm_state_name(vm->state), (unsigned long long)(guest_mem_size(vm->mem) >> 20),
            vm->vcpu_count, (unsigned long long)(vm->paging.limit_pages * (PAGE_SIZE / 1024)),
            vm->paging.replicas);
    return CIVIC_OK;
}

typedef civic_err (*vm_transition_fn)(struct vm *, char *, size_t);

static civic_err vm_transition(int argc, char **argv, vm_transition_fn fn)
{
    if (argc != 3)
        return shell_usage_error("vm", "vm %s needs exactly one NAME", argv[1]);
    struct vm *vm = find_or_error(argv[2]);
    if (!vm)
        return CIVIC_ENOENT;
    char err[ERR_MAX];
    civic_err e = fn(vm, err, sizeof err);
    if (e != CIVIC_OK)
        return shell_error(e, "%s", err);
    kprintf("vm=%s state=%s\n", vm->name, vm_state_name(vm->state));
    return CIVIC_OK;
}

static uint64_t total_exits(const struct vm *vm)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < vm->vcpu_count; i++)
        n += vm->vcpus[i].exits;
    return n;
}

static void print_vm_line(struct vm *vm)
{
    struct guest_mem_stats gs = {0};
    if (vm->mem)
        guest_mem_get_stats(vm->mem, &gs);
    kprintf("name=%s state=%s mem_mib=%llu cpus=%u pages_touched=%llu exits=%llu", vm->name,
            vm_state_name(vm->state), (unsigned long long)(vm->mem_bytes >> 20), vm->vcpu_count,
            (unsigned long long)gs.local_pages, (unsigned long long)total_exits(vm));
    if (vm->vcpus[0].state == VCPU_HALTED && vm->state == VM_RUNNING)
        kprintf(" vcpu=halted");
    if (vm->resets)
        kprintf(" resets=%llu", (unsigned long long)vm->resets);
    if (vm->has_exit_code)
        kprintf(" exit_code=%u", vm->exit_code);
    kprintf("\n");
}

static civic_err vm_list(int argc, char **argv)
{
    if (argc != 2)
        return shell_usage_error("vm", "vm list takes no arguments");
    size_t n = 0;
    for (struct vm *vm; (vm = vm_at(n)); n++)
        print_vm_line(vm);
    kprintf("count=%u\n", (unsigned)n);
    return CIVIC_OK;
}

/* exit_<reason>=N, the SDM-style name made a key (io-instruction -> io_instruction). */
static void print_exit_count(const char *name, uint64_t n)
{
    kprintf("exit_");
    for (; *name; name++)
        console_putc(*name == '-' ? '_' : *name);
    kprintf("=%llu\n", (unsigned long long)n);
}

static const char *vcpu_state_name(enum vcpu_state s)
{
    switch (s) {
    case VCPU_RUNNABLE: return "runnable";
    case VCPU_HALTED: return "halted";
    case VCPU_WAIT_SIPI: return "wait-for-sipi";
    case VCPU_STOPPED: return "stopped";
    case VCPU_WAIT_PAGE: return "wait-page";
    }
    return "?";
}

static civic_err vm_stats(struct vm *vm)
{
    struct guest_mem_stats gs = {0};
    if (vm->mem)
        guest_mem_get_stats(vm->mem, &gs);
    print_vm_line(vm);
    if (vm->stop_reason[0]) /* a paused VM's is why it was paused */
        kprintf("%s=\"%s\"\n", vm->state == VM_PAUSED ? "pause_reason" : "stop_reason",
                vm->stop_reason);
    kprintf("pages_touched=%llu\npages_zero=%llu\nept_table_pages=%llu\nfaults=%llu\n",
            (unsigned long long)gs.local_pages, (unsigned long long)gs.zero_pages,
            (unsigned long long)gs.table_pages, (unsigned long long)gs.faults);
    uint64_t run_ns = 0;
    for (unsigned i = 0; i < vm->vcpu_count; i++) {
        const struct vcpu *v = &vm->vcpus[i];
        run_ns += v->run_ns;
        kprintf("vcpu%u_state=%s\nvcpu%u_exits=%llu\n", i, vcpu_state_name(v->state), i,
                (unsigned long long)v->exits);
    }
    kprintf("run_ms=%llu\nexits=%llu\n", (unsigned long long)(run_ns / 1000000u),
            (unsigned long long)total_exits(vm));
    if (vm->mem) /* the VM's clock: stands still while it is paused or stopped */
        kprintf("clock_ms=%llu\ntsc=%llu\n", (unsigned long long)(vm_now_ns(vm) / 1000000u),
                (unsigned long long)vm_guest_tsc(&vm->vcpus[0]));
    if (vm->mem)
        remote_mem_print_vm(vm);
    for (unsigned r = 0; r < ARCH_EXIT_REASONS; r++) {
        uint64_t n = 0;
        for (unsigned i = 0; i < vm->vcpu_count; i++)
            n += vm->vcpus[i].exits_by_reason[r];
        if (n)
            print_exit_count(arch_exit_reason_name(r), n);
    }
    return CIVIC_OK;
}

static void vm_log(struct vm *vm)
{
    uint64_t head = vm->console_head;
    uint64_t start = head > VM_CONSOLE_RING ? head - VM_CONSOLE_RING : 0;
    for (uint64_t i = start; i < head; i++) {
        char c = vm->console_buf[i % VM_CONSOLE_RING];
        if (c == '\r')
            continue;
        /* Show only printable text; the guest controls these bytes. */
        console_putc((c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) ? c : '?');
    }
    if (head && vm->console_buf[(head - 1) % VM_CONSOLE_RING] != '\n')
        console_putc('\n');
}

/* Delivers a fixed interrupt to vCPU 0's local APIC, as a message-signalled interrupt would: a
 * test and debugging tool. A paused VM keeps it pending until resumed. */
static civic_err vm_irq(int argc, char **argv)
{
    if (argc != 4)
        return shell_usage_error("vm", "vm irq needs NAME and VECTOR");
    struct vm *vm = find_or_error(argv[2]);
    if (!vm)
        return CIVIC_ENOENT;
    uint64_t vector;
    if (shell_parse_u64(argv[3], &vector) != CIVIC_OK || vector > 255)
        return shell_error(CIVIC_EINVAL, "bad vector '%.20s' (32..255, e.g. 0x40)", argv[3]);
    if (vector < 32)
        return shell_error(CIVIC_EINVAL, "vector %u is an exception; interrupts are 32..255",
                           (unsigned)vector);
    if (!vm->mem)
        return shell_error(CIVIC_EINVAL, "VM '%s' has no state (a reset failed)", vm->name);
    if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
        return shell_error(CIVIC_EINVAL, "VM '%s' is not running (state=%s)", vm->name,
                           vm_state_name(vm->state));
    civic_err e = vm_irq_inject(vm, (uint8_t)vector);
    if (e != CIVIC_OK)
        return shell_error(e, "cannot raise vector %u: vCPU 0's local APIC is disabled",
                           (unsigned)vector);
    kprintf("vm=%s irq=%#x\n", vm->name, (unsigned)vector);
    return CIVIC_OK;
}

static civic_err vm_regs(int argc, char **argv)
{
    if (argc != 3 && argc != 4)
        return shell_usage_error("vm", "vm regs needs NAME [cpu=N]");
    struct vm *vm = find_or_error(argv[2]);
    if (!vm)
        return CIVIC_ENOENT;
    uint64_t cpu = 0;
    const char *v = argc == 4 ? shell_kv(argv[3], "cpu") : NULL;
    if (argc == 4 && (!v || shell_parse_u64(v, &cpu) != CIVIC_OK || cpu >= vm->vcpu_count))
        return shell_error(CIVIC_EINVAL, "bad vCPU '%.20s' (cpu=0..%u)", argv[3],
                           vm->vcpu_count - 1);
    if (!vm->mem)
        return shell_error(CIVIC_EINVAL, "VM '%s' has no state (a reset failed)", vm->name);
    arch_vcpu_dump(&vm->vcpus[cpu], false);
    return CIVIC_OK;
}

/* The VM's local limit of guest frames, at run time: shrinking evicts in the background. */
static civic_err vm_limit(int argc, char **argv)
{
    if (argc != 4)
        return shell_usage_error("vm", "vm limit needs NAME and SIZE");
    struct vm *vm = find_or_error(argv[2]);
    if (!vm)
        return CIVIC_ENOENT;
    uint64_t bytes;
    if (shell_parse_size(argv[3], &bytes) != CIVIC_OK || bytes == 0)
        return shell_error(CIVIC_EINVAL, "bad size '%.20s' (e.g. 16M)", argv[3]);
    char err[ERR_MAX];
    civic_err e = remote_mem_set_limit(vm, bytes, err, sizeof err);
    if (e != CIVIC_OK)
        return shell_error(e, "%s", err);
    struct guest_mem_stats gs = {0};
    if (vm->mem)
        guest_mem_get_stats(vm->mem, &gs);
    kprintf("vm=%s limit_pages=%llu local_pages=%llu\n", vm->name,
            (unsigned long long)vm->paging.limit_pages, (unsigned long long)gs.local_pages);
    return CIVIC_OK;
}

static civic_err cmd_vm(int argc, char **argv)
{
    if (argc < 2)
        return shell_usage_error("vm", "which subcommand?");
    const char *sub = argv[1];
    if (strcmp(sub, "create") == 0)
        return vm_create_cmd(argc, argv);
    if (strcmp(sub, "start") == 0)
        return vm_transition(argc, argv, vm_start);
    if (strcmp(sub, "pause") == 0)
        return vm_transition(argc, argv, vm_pause);
    if (strcmp(sub, "resume") == 0)
        return vm_transition(argc, argv, vm_resume);
    if (strcmp(sub, "list") == 0)
        return vm_list(argc, argv);
    if (strcmp(sub, "irq") == 0)
        return vm_irq(argc, argv);
    if (strcmp(sub, "reset") == 0)
        return vm_transition(argc, argv, vm_reset);
    if (strcmp(sub, "regs") == 0)
        return vm_regs(argc, argv);
    if (strcmp(sub, "limit") == 0)
        return vm_limit(argc, argv);

    /* The rest take exactly one NAME. */
    if (strcmp(sub, "destroy") != 0 && strcmp(sub, "stats") != 0 && strcmp(sub, "log") != 0 &&
        strcmp(sub, "console") != 0)
        return shell_usage_error("vm", "unknown subcommand '%.20s'", sub);
    if (argc != 3)
        return shell_usage_error("vm", "vm %s needs exactly one NAME", sub);
    struct vm *vm = find_or_error(argv[2]);
    if (!vm)
        return CIVIC_ENOENT;
    if (strcmp(sub, "destroy") == 0) {
        vm_destroy(vm);
        kprintf("destroyed=%s\n", argv[2]);
    } else if (strcmp(sub, "stats") == 0) {
        vm_stats(vm);
    } else if (strcmp(sub, "log") == 0) {
        vm_log(vm);
    } else {
        console_attach(vm);
        shell_suppress_prompt();
    }
    return CIVIC_OK;
}
SHELL_COMMAND(vm, "vm",
              "create NAME MODULE [mem=SIZE] [local=SIZE] [replicas=1|2] [readahead=on|off] [cpus=N] "
              "[cmdline=\"...\"] [flat=ADDR mode=real|pm32] | "
              "start|pause|resume|reset|destroy|stats|log|console NAME | regs NAME [cpu=N] | "
              "limit NAME SIZE | list | irq NAME VECTOR",
              "manage virtual machines", cmd_vm);
