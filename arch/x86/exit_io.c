/* I/O instruction exits (Intel SDM Vol. 3C, Table 28-5): IN and OUT of 1, 2 or 4 bytes go to
 * the kernel's port dispatcher. */
#include "arch/x86/exit.h"
#include "arch/x86/vcpu_arch.h"
#include "arch/x86/vmcs.h"
#include "arch/x86/vmx.h"

enum exit_action exit_io(struct vcpu *v, const struct exit_info *e)
{
    struct arch_vcpu *av = v->arch;
    uint64_t q = e->qualification;
    unsigned size = QUAL_IO_SIZE(q);
    uint16_t port = QUAL_IO_PORT(q);
    bool in = (q & QUAL_IO_DIRECTION_IN) != 0;
    if (q & QUAL_IO_STRING)
        /* INS/OUTS need the guest's segments, paging and REP count walked: not yet. */
        return vcpu_stop_dump(v, "string I/O (%s%s port %#x) is not supported yet",
                              (q & QUAL_IO_REP) ? "rep " : "", in ? "ins" : "outs", port);
    if (size != 1 && size != 2 && size != 4)
        return vcpu_stop_dump(v, "I/O exit with size %u", size);

    uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    uint32_t value = in ? mask : (uint32_t)av->regs.rax & mask;
    enum exit_action act = vmm_port_io(v, port, size, !in, &value);
    if (act == EXIT_STOP)
        return act;
    if (in) {
        /* IN to EAX zero-extends into RAX; to AL and AX the rest of RAX is kept. */
        if (size == 4)
            av->regs.rax = value;
        else
            av->regs.rax = (av->regs.rax & ~(uint64_t)mask) | (value & mask);
    }
    /* The access is complete even when the vCPU parks afterwards. */
    vcpu_advance_rip();
    return act;
}
