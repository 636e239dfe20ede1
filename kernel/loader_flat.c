/*
 * Flat binaries: the image is copied to req->flat_load and started there, with no boot
 * information (the command line is not passed).
 *
 * Real mode: CS:IP addresses the load address through its 64 KiB segment, CS = (load >> 16) <<
 * 12 and IP = load & 0xffff. Below 64 KiB this gives CS = 0 and IP = load, so code assembled
 * for its load address (org 0x7c00, say) agrees with the data segments, which are all 0; a load at
 * 0xf0000 starts at F000:0000 as firmware expects its segment. The whole image must lie below
 * 1 MiB, all that real mode reaches. SP = 0x7000, below the classic boot sector address; guests
 * loaded lower set up their own stack.
 * Protected mode: EIP = load, ESP = load, so a stack the guest uses before setting its own grows
 * down below the image instead of over it.
 */
#include "kernel/loader_int.h"
#include "kernel/string.h"

#define FLAT_REAL_MODE_LIMIT LOADER_1MIB
#define FLAT_REAL_MODE_SP 0x7000u

civic_err loader_flat_load(struct loader_ctx *lc, struct loader_result *out)
{
    uint64_t load = lc->req->flat_load;
    enum vcpu_boot_mode mode = lc->req->flat_mode;
    size_t size = lc->req->size;
    if (mode != VCPU_BOOT_REAL_MODE && mode != VCPU_BOOT_PROTECTED_32)
        return loader_fail(lc, CIVIC_EINVAL, "flat binary: unknown start mode %d", (int)mode);
    civic_err e = loader_check_span(lc, load, size, "flat binary");
    if (e != CIVIC_OK)
        return e;
    if (mode == VCPU_BOOT_REAL_MODE && load + size > FLAT_REAL_MODE_LIMIT)
        return loader_fail(lc, CIVIC_ERANGE,
                           "flat binary: [0x%llx, 0x%llx) reaches beyond 1 MiB, out of reach of "
                           "real mode",
                           (unsigned long long)load, (unsigned long long)(load + size));
    e = loader_write(lc, load, lc->req->image, size);
    if (e != CIVIC_OK)
        return e;

    out->format = IMAGE_FLAT;
    out->load_start = load;
    out->load_end = load + size;
    out->info_start = out->info_end = 0;
    memset(&out->boot, 0, sizeof(out->boot));
    out->boot.mode = mode;
    if (mode == VCPU_BOOT_REAL_MODE) {
        out->boot.cs_selector = (uint16_t)((load >> 16) << 12);
        out->boot.eip = (uint32_t)(load & 0xffff);
        out->boot.esp = FLAT_REAL_MODE_SP;
    } else {
        out->boot.cs_selector = 0x08;
        out->boot.eip = (uint32_t)load;
        out->boot.esp = (uint32_t)load;
    }
    return CIVIC_OK;
}
