/* The machine's PCI functions, enumerated once (see pci_system_devices in pci.h). */
#include "kernel/arch_io.h"
#include "kernel/log.h"
#include "kernel/pci.h"

#define PCI_SYSTEM_MAX 64

const struct pci_device *pci_system_devices(size_t *count)
{
    static struct pci_device devs[PCI_SYSTEM_MAX];
    static size_t n;
    static bool scanned;
    if (!scanned) {
        size_t found;
        pci_enumerate(arch_pci_config(), devs, PCI_SYSTEM_MAX, &found);
        if (found > PCI_SYSTEM_MAX)
            log_warn("pci: %zu functions; only the first %d are kept", found, PCI_SYSTEM_MAX);
        n = found < PCI_SYSTEM_MAX ? found : PCI_SYSTEM_MAX;
        scanned = true;
    }
    *count = n;
    return devs;
}
