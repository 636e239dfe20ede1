/*
 * ELF loading for the guest loader. Both classes are read into one 64-bit view of each program
 * header, so the checks are written once. Every field comes from the guest image and is checked
 * before it is used: header sizes, the program header table against the file (in 64-bit
 * arithmetic, so phnum * phentsize cannot overflow), each segment against the file and the RAM.
 */
#include "kernel/loader_elf.h"

#include "kernel/elf.h"
#include "kernel/format.h"
#include "kernel/string.h"

struct phdr {
    uint32_t type;
    uint64_t offset, vaddr, paddr, filesz, memsz;
};

struct ehdr {
    unsigned elf_class;
    uint64_t entry, phoff;
    uint16_t phentsize, phnum;
};

bool elf_is_elf(const uint8_t *image, size_t size)
{
    return size >= 4 && image[EI_MAG0] == ELFMAG0 && image[EI_MAG1] == ELFMAG1 &&
           image[EI_MAG2] == ELFMAG2 && image[EI_MAG3] == ELFMAG3;
}

static civic_err read_ehdr(struct loader_ctx *lc, struct ehdr *h)
{
    const uint8_t *img = lc->req->image;
    size_t size = lc->req->size;
    if (size < EI_NIDENT || !elf_is_elf(img, size))
        return loader_fail(lc, CIVIC_EINVAL, "ELF header truncated: the image is %zu bytes", size);
    unsigned cls = img[EI_CLASS];
    size_t need = cls == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
    if (cls != ELFCLASS32 && cls != ELFCLASS64)
        return loader_fail(lc, CIVIC_EINVAL, "ELF class %u is neither ELFCLASS32 nor ELFCLASS64",
                           cls);
    if (size < need)
        return loader_fail(
            lc, CIVIC_EINVAL,
            "ELF header truncated: the image is %zu bytes, an ELF%s header needs %zu", size,
            cls == ELFCLASS32 ? "32" : "64", need);
    if (img[EI_DATA] != ELFDATA2LSB)
        return loader_fail(lc, CIVIC_EINVAL, "ELF data encoding %u is not little-endian",
                           img[EI_DATA]);
    if (img[EI_VERSION] != EV_CURRENT)
        return loader_fail(lc, CIVIC_EINVAL, "ELF version %u is not EV_CURRENT", img[EI_VERSION]);

    uint16_t type, machine, want_machine;
    size_t min_phent;
    if (cls == ELFCLASS32) {
        Elf32_Ehdr e;
        memcpy(&e, img, sizeof(e));
        type = e.e_type;
        machine = e.e_machine;
        want_machine = EM_386;
        h->entry = e.e_entry;
        h->phoff = e.e_phoff;
        h->phentsize = e.e_phentsize;
        h->phnum = e.e_phnum;
        min_phent = sizeof(Elf32_Phdr);
    } else {
        Elf64_Ehdr e;
        memcpy(&e, img, sizeof(e));
        type = e.e_type;
        machine = e.e_machine;
        want_machine = EM_X86_64;
        h->entry = e.e_entry;
        h->phoff = e.e_phoff;
        h->phentsize = e.e_phentsize;
        h->phnum = e.e_phnum;
        min_phent = sizeof(Elf64_Phdr);
    }
    h->elf_class = cls;
    if (type != ET_EXEC)
        return loader_fail(lc, CIVIC_EINVAL, "ELF type %u is not an executable (ET_EXEC)", type);
    if (machine != want_machine)
        return loader_fail(lc, CIVIC_EINVAL, "ELF%s machine %u is not %s",
                           cls == ELFCLASS32 ? "32" : "64", machine,
                           cls == ELFCLASS32 ? "EM_386" : "EM_X86_64");
    if (h->phnum == 0)
        return loader_fail(lc, CIVIC_EINVAL, "ELF file has no program headers");
    if (h->phnum == PN_XNUM)
        return loader_fail(lc, CIVIC_EINVAL,
                           "ELF file uses extended program header numbering "
                           "(PN_XNUM), which civic does not support");
    if (h->phentsize < min_phent)
        return loader_fail(lc, CIVIC_EINVAL,
                           "ELF e_phentsize %u is smaller than a program header "
                           "(%zu bytes)",
                           h->phentsize, min_phent);
    /* 16-bit phnum times 16-bit phentsize cannot overflow 64 bits; the offset can be anything. */
    uint64_t table = (uint64_t)h->phnum * h->phentsize;
    if (h->phoff > size || table > size - h->phoff)
        return loader_fail(lc, CIVIC_EINVAL,
                           "ELF program headers [0x%llx, +%u * %u bytes) lie outside the %zu-byte "
                           "image",
                           (unsigned long long)h->phoff, h->phnum, h->phentsize, size);
    return CIVIC_OK;
}

static void read_phdr(struct loader_ctx *lc, const struct ehdr *h, unsigned i, struct phdr *p)
{
    const uint8_t *at = lc->req->image + h->phoff + (uint64_t)i * h->phentsize;
    if (h->elf_class == ELFCLASS32) {
        Elf32_Phdr q;
        memcpy(&q, at, sizeof(q));
        *p = (struct phdr){q.p_type, q.p_offset, q.p_vaddr, q.p_paddr, q.p_filesz, q.p_memsz};
    } else {
        Elf64_Phdr q;
        memcpy(&q, at, sizeof(q));
        *p = (struct phdr){q.p_type, q.p_offset, q.p_vaddr, q.p_paddr, q.p_filesz, q.p_memsz};
    }
}

static civic_err check_phdr(struct loader_ctx *lc, unsigned i, const struct phdr *p)
{
    size_t size = lc->req->size;
    if (p->memsz < p->filesz)
        return loader_fail(lc, CIVIC_EINVAL,
                           "ELF program header %u: p_memsz 0x%llx < p_filesz 0x%llx", i,
                           (unsigned long long)p->memsz, (unsigned long long)p->filesz);
    if (p->offset > size || p->filesz > size - p->offset)
        return loader_fail(lc, CIVIC_EINVAL,
                           "ELF program header %u: file bytes [0x%llx, +0x%llx) lie outside the "
                           "%zu-byte image",
                           i, (unsigned long long)p->offset, (unsigned long long)p->filesz, size);
    char what[32];
    ksnprintf(what, sizeof(what), "ELF program header %u", i);
    return loader_check_span(lc, p->paddr, p->memsz, what);
}

civic_err elf_check(struct loader_ctx *lc, struct elf_layout *out)
{
    struct ehdr h;
    civic_err e = read_ehdr(lc, &h);
    if (e != CIVIC_OK)
        return e;
    memset(out, 0, sizeof(*out));
    out->elf_class = h.elf_class;
    out->load_start = UINT64_MAX;
    bool entry_found = false;
    for (unsigned i = 0; i < h.phnum; i++) {
        struct phdr p;
        read_phdr(lc, &h, i, &p);
        if (p.type != PT_LOAD || p.memsz == 0)
            continue;
        e = check_phdr(lc, i, &p);
        if (e != CIVIC_OK)
            return e;
        out->segments++;
        if (p.paddr < out->load_start)
            out->load_start = p.paddr;
        if (p.paddr + p.memsz > out->load_end)
            out->load_end = p.paddr + p.memsz;
        /* The first segment holding e_entry by virtual address gives its physical address. */
        if (!entry_found && h.entry >= p.vaddr && h.entry - p.vaddr < p.memsz) {
            out->entry = h.entry - p.vaddr + p.paddr;
            entry_found = true;
        }
    }
    if (out->segments == 0)
        return loader_fail(lc, CIVIC_EINVAL, "ELF file has no loadable (PT_LOAD) segment");
    if (!entry_found)
        return loader_fail(lc, CIVIC_EINVAL,
                           "ELF entry point 0x%llx is not inside a loaded segment",
                           (unsigned long long)h.entry);
    return CIVIC_OK;
}

civic_err elf_load_segments(struct loader_ctx *lc, const struct elf_layout *layout)
{
    struct ehdr h;
    civic_err e = read_ehdr(lc, &h);
    if (e != CIVIC_OK)
        return e;
    for (unsigned i = 0; i < h.phnum; i++) {
        struct phdr p;
        read_phdr(lc, &h, i, &p);
        if (p.type != PT_LOAD || p.memsz == 0)
            continue;
        e = loader_write(lc, p.paddr, lc->req->image + p.offset, (size_t)p.filesz);
        if (e == CIVIC_OK)
            e = loader_zero(lc, p.paddr + p.filesz, p.memsz - p.filesz);
        if (e != CIVIC_OK)
            return e;
    }
    return CIVIC_OK;
}
