/* TEMPORARY during bring-up of issue 3: weak placeholders so the image links while modules land.
 * Each real module's strong definition replaces its placeholder. Deleted before landing. */
#include <stddef.h>
#include <stdint.h>

#include "kernel/arch_vmx.h"
#include "kernel/loader.h"
#include "mm/guest_frames.h"
#include "mm/guest_mem.h"

#define WEAK __attribute__((weak))

WEAK civic_err arch_vmx_enable(void) { return CIVIC_ENOTSUP; }
WEAK bool arch_vmx_enabled(void) { return false; }
WEAK civic_err arch_vcpu_create(struct vcpu *v, const struct vcpu_boot_state *b, uint64_t e,
                                uint16_t vpid) { return CIVIC_ENOTSUP; }
WEAK void arch_vcpu_destroy(struct vcpu *v) {}
WEAK enum vcpu_run_result arch_vcpu_run(struct vcpu *v, uint64_t us) { return VCPU_RUN_STOPPED; }
WEAK void arch_vcpu_dump(struct vcpu *v) {}
WEAK const char *arch_exit_reason_name(unsigned r) { return "?"; }
WEAK civic_err guest_mem_create(struct guest_mem **out, uint64_t b,
                                const struct guest_frame_source *s, const struct slat_caps *c)
{ return CIVIC_ENOTSUP; }
WEAK void guest_mem_destroy(struct guest_mem *gm) {}
WEAK uint64_t guest_mem_size(const struct guest_mem *gm) { return 0; }
WEAK uint64_t guest_mem_eptp(const struct guest_mem *gm) { return 0; }
WEAK civic_err guest_mem_fault(struct guest_mem *gm, uint64_t gpa, unsigned a) { return CIVIC_ERANGE; }
WEAK civic_err guest_mem_write(struct guest_mem *gm, uint64_t gpa, const void *s, size_t l)
{ return CIVIC_ERANGE; }
WEAK struct slat *guest_mem_slat(struct guest_mem *gm) { return NULL; }
WEAK void guest_mem_get_stats(const struct guest_mem *gm, struct guest_mem_stats *st) {}
WEAK const struct guest_frame_source *guest_frames_kernel(void) { return NULL; }
WEAK civic_err slat_map(struct slat *s, uint64_t gpa, uint64_t hpa, unsigned p) { return CIVIC_ENOTSUP; }
WEAK civic_err slat_unmap(struct slat *s, uint64_t gpa) { return CIVIC_ENOENT; }
WEAK void slat_invalidate(struct slat *s) {}
WEAK civic_err loader_load(const struct loader_request *r, const struct loader_target *t,
                           struct loader_result *o, char *e, size_t n) { return CIVIC_ENOTSUP; }
