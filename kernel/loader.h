/*
 * Guest image loader: Multiboot v1 and v2 kernels (ELF32, ELF64 with 32-bit entry, or the
 * Multiboot v1 a.out kludge) and flat binaries. It writes the image and the boot information
 * into guest memory through a target interface and fills the vCPU's start state, exactly as the
 * Multiboot specifications (and QEMU's -kernel) start a kernel. Pure: host-tested with malformed
 * images. Nothing in an image is trusted: every offset and size is checked against the image and
 * the guest's RAM.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/arch_vmx.h"
#include "kernel/error.h"

struct loader_target {
    /* Copies into guest-physical memory; CIVIC_ERANGE outside RAM. */
    civic_err (*write)(void *ctx, uint64_t gpa, const void *src, size_t len);
    void *ctx;
    uint64_t ram_bytes;
};

enum image_format { IMAGE_MULTIBOOT1, IMAGE_MULTIBOOT2, IMAGE_FLAT };

struct loader_request {
    const uint8_t *image;
    size_t size;
    const char *cmdline;     /* the guest's command line (may be "") */
    /* Flat binaries only (format chosen when flat_load != 0 or the image has no multiboot header) */
    uint64_t flat_load;      /* guest-physical load address (0: not flat) */
    enum vcpu_boot_mode flat_mode;
};

struct loader_result {
    enum image_format format;
    uint64_t load_start, load_end; /* guest-physical range the image occupies */
    uint64_t info_start, info_end; /* the boot information structure, if any */
    struct vcpu_boot_state boot;
};

/* On failure returns CIVIC_EINVAL (bad image) or CIVIC_ERANGE (does not fit the RAM) with a
 * one-line reason in err. */
civic_err loader_load(const struct loader_request *req, const struct loader_target *t,
                      struct loader_result *out, char *err, size_t err_size);
