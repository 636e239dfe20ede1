/* The EPT features of this CPU, for guest memory objects (kernel/arch_slat.h). */
#include "arch/x86/cpu.h"
#include "kernel/arch_slat.h"

struct slat_caps slat_host_caps(void)
{
    struct slat_caps caps = { .accessed_dirty = cpu_get()->vmx.ept_ad };
    return caps;
}
