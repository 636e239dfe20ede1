/*
 * A VM's guest-physical memory: RAM of a given size at [0, size), one page record per guest
 * frame, and the EPT that caches the records. Frames are allocated lazily on first touch and
 * zeroed; destroying the object returns every frame and table page.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernel/arch_slat.h"
#include "kernel/error.h"
#include "mm/page_record.h"

struct guest_mem;

/* Where guest frames come from (the PMM in the kernel, malloc in tests): zeroed 4 KiB frames. */
struct guest_frame_source {
    void *(*alloc)(void *ctx, uint64_t *phys); /* NULL when out of memory */
    void (*free)(void *ctx, uint64_t phys);
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    void *ctx;
};

struct guest_mem_stats {
    uint64_t ram_pages;     /* guest RAM size in pages */
    uint64_t local_pages;   /* pages with a host frame */
    uint64_t zero_pages;    /* never touched */
    uint64_t table_pages;   /* EPT table pages */
    uint64_t faults;        /* first-touch faults handled */
};

/* ram_bytes: a positive multiple of 4 KiB, at most GUEST_MEM_MAX. */
#define GUEST_MEM_MAX (64ull << 30)
civic_err guest_mem_create(struct guest_mem **out, uint64_t ram_bytes,
                           const struct guest_frame_source *src, const struct slat_caps *caps);
void guest_mem_destroy(struct guest_mem *gm);
uint64_t guest_mem_size(const struct guest_mem *gm);
uint64_t guest_mem_eptp(const struct guest_mem *gm);

/* An EPT violation at gpa. CIVIC_OK: mapped, resume the guest. CIVIC_ERANGE: gpa is not RAM
 * (the caller emulates a device or the all-ones hole). CIVIC_ENOMEM: no host frame (the caller
 * pauses the VM with a message). CIVIC_EEXIST: already mapped (a permissions violation). */
civic_err guest_mem_fault(struct guest_mem *gm, uint64_t gpa, unsigned access);

/* Loader and device access: copies into guest RAM, allocating frames as needed; reads return
 * zeros for untouched pages without allocating. CIVIC_ERANGE when [gpa, gpa+len) leaves RAM. */
civic_err guest_mem_write(struct guest_mem *gm, uint64_t gpa, const void *src, size_t len);
civic_err guest_mem_read(struct guest_mem *gm, uint64_t gpa, void *dst, size_t len);

/* The EPT behind the records, for device emulation that maps pages outside RAM briefly. */
struct slat *guest_mem_slat(struct guest_mem *gm);

void guest_mem_get_stats(const struct guest_mem *gm, struct guest_mem_stats *st);
const struct page_record *guest_mem_record(const struct guest_mem *gm, uint64_t gfn);
