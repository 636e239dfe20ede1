/* PCI enumeration over a configuration accessor (see pci.h); pure, host-tested. */
#include "kernel/pci.h"

#include "kernel/format.h"

static uint32_t rd32(const struct pci_config_access *acc, uint8_t b, uint8_t d, uint8_t f,
                     uint16_t off)
{
    return acc->read32(acc->ctx, b, d, f, (uint16_t)(off & 0xfc));
}

uint8_t pci_read8(const struct pci_config_access *acc, uint8_t bus, uint8_t dev, uint8_t fn,
                  uint16_t off)
{
    return (uint8_t)(rd32(acc, bus, dev, fn, off) >> ((off & 3) * 8));
}

uint16_t pci_read16(const struct pci_config_access *acc, uint8_t bus, uint8_t dev, uint8_t fn,
                    uint16_t off)
{
    return (uint16_t)(rd32(acc, bus, dev, fn, off) >> ((off & 2) * 8));
}

/* A read-modify-write of the dword. The status register (RW1C bits) shares a dword with the
 * command register: writing the command writes zeros to status, which changes nothing there,
 * rather than writing back the bits just read, which would clear them. */
void pci_write16(const struct pci_config_access *acc, uint8_t bus, uint8_t dev, uint8_t fn,
                 uint16_t off, uint16_t v)
{
    unsigned shift = (off & 2) * 8;
    uint32_t old = (off & 0xfc) == PCI_COMMAND ? 0 : rd32(acc, bus, dev, fn, off);
    uint32_t val = (old & ~(0xffffu << shift)) | ((uint32_t)v << shift);
    acc->write32(acc->ctx, bus, dev, fn, (uint16_t)(off & 0xfc), val);
}

/* Sizes one BAR by writing all ones and reading back which address bits stick (PCI 3.0,
 * 6.2.5.1), then restores it. Returns how many BAR slots it used (2 for a 64-bit BAR). The
 * caller has disabled decode so the transient address decodes nothing. */
static unsigned size_bar(const struct pci_config_access *acc, const struct pci_device *d,
                         unsigned i, unsigned slots, struct pci_bar *bar)
{
    uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
    uint32_t orig = rd32(acc, d->bus, d->dev, d->fn, off);
    acc->write32(acc->ctx, d->bus, d->dev, d->fn, off, 0xffffffffu);
    uint32_t mask = rd32(acc, d->bus, d->dev, d->fn, off);
    acc->write32(acc->ctx, d->bus, d->dev, d->fn, off, orig);
    bar->kind = PCI_BAR_NONE;
    bar->prefetchable = false;
    bar->addr = 0;
    bar->size = 0;
    if (mask == 0 || mask == 0xffffffffu)
        return 1; /* unimplemented (or the function vanished) */

    if (orig & PCI_BAR_IO) {
        uint32_t m = mask & PCI_BAR_IO_ADDR_MASK;
        if (!(m & 0xffff0000u))
            m |= 0xffff0000u; /* 16-bit I/O decoders leave the upper half zero */
        bar->kind = PCI_BAR_KIND_IO;
        bar->addr = orig & PCI_BAR_IO_ADDR_MASK;
        bar->size = (uint32_t)(~m + 1u);
        return 1;
    }
    bar->prefetchable = (orig & PCI_BAR_MEM_PREFETCH) != 0;
    uint64_t m = mask & PCI_BAR_MEM_ADDR_MASK;
    uint64_t addr = orig & PCI_BAR_MEM_ADDR_MASK;
    unsigned used = 1;
    if ((orig & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && i + 1 < slots) {
        uint16_t hoff = (uint16_t)(off + 4);
        uint32_t horig = rd32(acc, d->bus, d->dev, d->fn, hoff);
        acc->write32(acc->ctx, d->bus, d->dev, d->fn, hoff, 0xffffffffu);
        uint32_t hmask = rd32(acc, d->bus, d->dev, d->fn, hoff);
        acc->write32(acc->ctx, d->bus, d->dev, d->fn, hoff, horig);
        m |= (uint64_t)hmask << 32;
        addr |= (uint64_t)horig << 32;
        bar->kind = PCI_BAR_KIND_MEM64;
        used = 2;
    } else {
        if (m == 0)
            return 1; /* no address bit sticks: unusable */
        m |= 0xffffffff00000000ull;
        bar->kind = PCI_BAR_KIND_MEM32;
    }
    bar->addr = addr;
    bar->size = ~m + 1u;
    if (bar->size == 0) { /* a mask with no address bit set: not a usable BAR */
        bar->kind = PCI_BAR_NONE;
        bar->addr = 0;
    }
    return used;
}

/* Walks the capability list with loop protection: at most the 48 dwords above the header, each
 * visited once, pointers below 0x40 refused (PCI 3.0, 6.7). */
static void walk_caps(const struct pci_config_access *acc, struct pci_device *d, uint16_t status)
{
    d->cap_count = 0;
    d->cap_list_broken = false;
    if (!(status & PCI_STATUS_CAP_LIST))
        return;
    uint16_t ptr_off = d->header_type == PCI_HEADER_TYPE_CARDBUS ? PCI_CARDBUS_CAPABILITIES_PTR
                                                                 : PCI_CAPABILITIES_PTR;
    uint8_t ptr = pci_read8(acc, d->bus, d->dev, d->fn, ptr_off) & 0xfc;
    uint64_t seen = 0; /* one bit per dword of the 256-byte space */
    while (ptr) {
        if (ptr < 0x40 || (seen >> (ptr >> 2)) & 1) {
            d->cap_list_broken = true;
            return;
        }
        seen |= 1ull << (ptr >> 2);
        uint32_t hdr = rd32(acc, d->bus, d->dev, d->fn, ptr);
        if (d->cap_count == PCI_MAX_CAPS) {
            d->cap_list_broken = true;
            return;
        }
        d->caps[d->cap_count].id = (uint8_t)hdr;
        d->caps[d->cap_count].offset = ptr;
        d->cap_count++;
        ptr = (uint8_t)(hdr >> 8) & 0xfc;
    }
}

bool pci_probe_function(const struct pci_config_access *acc, uint8_t bus, uint8_t dev, uint8_t fn,
                        struct pci_device *d)
{
    uint32_t id = rd32(acc, bus, dev, fn, PCI_VENDOR_ID);
    if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
        return false;
    *d = (struct pci_device){.bus = bus, .dev = dev, .fn = fn};
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    uint32_t rc = rd32(acc, bus, dev, fn, PCI_REVISION_ID);
    d->revision = (uint8_t)rc;
    d->class_code = rc >> 8;
    uint8_t ht = pci_read8(acc, bus, dev, fn, PCI_HEADER_TYPE);
    d->header_type = ht & PCI_HEADER_TYPE_MASK;
    d->multifunction = (ht & PCI_HEADER_TYPE_MULTIFUNCTION) != 0;
    uint32_t irq = rd32(acc, bus, dev, fn, PCI_INTERRUPT_LINE);
    d->irq_line = (uint8_t)irq;
    d->irq_pin = (uint8_t)(irq >> 8);

    switch (d->header_type) {
    case PCI_HEADER_TYPE_NORMAL: {
        uint32_t ss = rd32(acc, bus, dev, fn, PCI_SUBSYSTEM_VENDOR_ID);
        d->subsys_vendor = (uint16_t)ss;
        d->subsys_id = (uint16_t)(ss >> 16);
        d->bar_count = PCI_MAX_BARS;
        break;
    }
    case PCI_HEADER_TYPE_BRIDGE:
        d->secondary_bus = pci_read8(acc, bus, dev, fn, PCI_SECONDARY_BUS);
        d->subordinate_bus = pci_read8(acc, bus, dev, fn, PCI_SUBORDINATE_BUS);
        d->bar_count = 2;
        break;
    default:
        d->bar_count = 0; /* CardBus and unknown layouts: no BARs we understand */
        break;
    }

    uint32_t cmdsts = rd32(acc, bus, dev, fn, PCI_COMMAND);
    uint16_t cmd = (uint16_t)cmdsts;
    if (d->bar_count) {
        pci_write16(acc, bus, dev, fn, PCI_COMMAND,
                    cmd & (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
        for (unsigned i = 0; i < d->bar_count;) {
            unsigned used = size_bar(acc, d, i, d->bar_count, &d->bars[i]);
            if (used == 2)
                d->bars[i + 1] = (struct pci_bar){.kind = PCI_BAR_NONE};
            i += used;
        }
        pci_write16(acc, bus, dev, fn, PCI_COMMAND, cmd);
    }
    walk_caps(acc, d, (uint16_t)(cmdsts >> 16));
    return true;
}

void pci_enumerate(const struct pci_config_access *acc, struct pci_device *out, size_t max,
                   size_t *count)
{
    size_t n = 0;
    struct pci_device tmp;
    for (unsigned bus = 0; bus < PCI_MAX_BUS; bus++) {
        for (unsigned dev = 0; dev < PCI_MAX_DEV; dev++) {
            for (unsigned fn = 0; fn < PCI_MAX_FN; fn++) {
                struct pci_device *d = n < max ? &out[n] : &tmp;
                if (!pci_probe_function(acc, (uint8_t)bus, (uint8_t)dev, (uint8_t)fn, d)) {
                    if (fn == 0)
                        break; /* no function 0: no device (PCI 3.0, 6.2.1) */
                    continue;
                }
                n++;
                if (fn == 0 && !d->multifunction)
                    break;
            }
        }
    }
    *count = n;
}

uint8_t pci_find_cap(const struct pci_device *d, uint8_t id)
{
    for (unsigned i = 0; i < d->cap_count; i++)
        if (d->caps[i].id == id)
            return d->caps[i].offset;
    return 0;
}

void pci_format_size(uint64_t size, char *buf, size_t len)
{
    static const char units[] = {'K', 'M', 'G', 'T'};
    int u = -1;
    while (u < 3 && size >= 1024 && size % 1024 == 0) {
        size /= 1024;
        u++;
    }
    if (u < 0)
        ksnprintf(buf, len, "%llu", (unsigned long long)size);
    else
        ksnprintf(buf, len, "%llu%c", (unsigned long long)size, units[u]);
}
