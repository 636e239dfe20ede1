/*
 * ELF32 and ELF64 executables for the guest loader: validates the file and program headers and
 * copies the PT_LOAD segments to their physical addresses (p_paddr, as GRUB loads Multiboot
 * kernels), zero-filling p_memsz beyond p_filesz.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/loader_int.h"

struct elf_layout {
    unsigned elf_class;            /* ELFCLASS32 or ELFCLASS64 */
    uint64_t load_start, load_end; /* the span of the PT_LOAD segments (guest-physical) */
    uint64_t entry;                /* e_entry, moved from p_vaddr to p_paddr of its segment */
    unsigned segments;             /* PT_LOAD segments with p_memsz > 0 */
};

/* True when the image starts with the ELF magic (it may still be a malformed ELF file). */
bool elf_is_elf(const uint8_t *image, size_t size);

/* Checks everything that elf_load_segments() will rely on, and the entry point: it must lie in a
 * PT_LOAD segment (by virtual address, like GRUB), and below 4 GiB once physical. */
civic_err elf_check(struct loader_ctx *lc, struct elf_layout *out);

/* Writes the segments; call only after elf_check() succeeded. */
civic_err elf_load_segments(struct loader_ctx *lc, const struct elf_layout *layout);
