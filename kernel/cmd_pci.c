/* `pci`: the machine's PCI functions, one key=value line each, then count=N. */
#include "kernel/console.h"
#include "kernel/pci.h"
#include "kernel/shell.h"

static const char *bar_kind(const struct pci_bar *b)
{
    switch (b->kind) {
    case PCI_BAR_KIND_IO:
        return "io";
    case PCI_BAR_KIND_MEM32:
        return b->prefetchable ? "mem32p" : "mem32";
    case PCI_BAR_KIND_MEM64:
        return b->prefetchable ? "mem64p" : "mem64";
    default:
        return "none";
    }
}

static void print_function(const struct pci_device *d)
{
    kprintf("bdf=%02x:%02x.%x vendor=%04x device=%04x class=%06x rev=%02x hdr=%u",
            d->bus, d->dev, d->fn, d->vendor, d->device, d->class_code, d->revision,
            d->header_type);
    if (d->header_type == PCI_HEADER_TYPE_NORMAL)
        kprintf(" subsys=%04x:%04x", d->subsys_vendor, d->subsys_id);
    if (d->header_type == PCI_HEADER_TYPE_BRIDGE)
        kprintf(" secondary=%02x subordinate=%02x", d->secondary_bus, d->subordinate_bus);
    if (d->irq_pin)
        kprintf(" pin=%c irq=%u", 'A' + d->irq_pin - 1, d->irq_line);
    for (unsigned i = 0; i < d->bar_count; i++) {
        const struct pci_bar *b = &d->bars[i];
        if (b->kind == PCI_BAR_NONE)
            continue;
        char size[16];
        pci_format_size(b->size, size, sizeof(size));
        kprintf(" bar%u=%s:%#llx/%s", i, bar_kind(b), (unsigned long long)b->addr, size);
    }
    if (d->cap_count) {
        kprintf(" caps=");
        for (unsigned i = 0; i < d->cap_count; i++)
            kprintf("%s%02x@%02x", i ? "," : "", d->caps[i].id, d->caps[i].offset);
    }
    if (d->cap_list_broken)
        kprintf(" caps_broken=yes");
    kprintf("\n");
}

static civic_err cmd_pci(int argc, char **argv)
{
    if (argc != 1)
        return shell_usage_error("pci", "takes no arguments");
    size_t n;
    const struct pci_device *devs = pci_system_devices(&n);
    for (size_t i = 0; i < n; i++)
        print_function(&devs[i]);
    kprintf("count=%zu\n", n);
    return CIVIC_OK;
}
SHELL_COMMAND(pci, "pci", "", "list the PCI functions (ids, class, BARs, capabilities)", cmd_pci);
