/* PCI configuration mechanism 1 (PCI Local Bus Specification 3.0, 3.2.2.3.2): the address of a
 * dword goes to CONFIG_ADDRESS (0xcf8), the data moves through CONFIG_DATA (0xcfc). */
#include "arch/x86/io.h"
#include "kernel/arch_io.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CONFIG_ENABLE (1u << 31)

static uint32_t cfg_address(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    return PCI_CONFIG_ENABLE | (uint32_t)bus << 16 | (uint32_t)(dev & 31) << 11 |
           (uint32_t)(fn & 7) << 8 | (off & 0xfc);
}

/* One CPU and no interrupt handler touches configuration space, so the address/data pair
 * needs no lock. */
static uint32_t cfg_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    (void)ctx;
    outl(PCI_CONFIG_ADDRESS, cfg_address(bus, dev, fn, off));
    return inl(PCI_CONFIG_DATA);
}

static void cfg_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
    (void)ctx;
    outl(PCI_CONFIG_ADDRESS, cfg_address(bus, dev, fn, off));
    outl(PCI_CONFIG_DATA, v);
}

static const struct pci_config_access mech1 = {
    .read32 = cfg_read32,
    .write32 = cfg_write32,
    .ctx = NULL,
};

const struct pci_config_access *arch_pci_config(void)
{
    return &mech1;
}
