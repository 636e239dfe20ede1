/*
 * PCI configuration mechanism 1 with a lone i440FX host bridge (PCI Local Bus Specification
 * 3.0, 3.2.2.3.2 and 6.1; Intel 82441FX data sheet for the IDs and reset values).
 *
 * The bridge is a plain type 0 header: vendor/device, class 06/00/00 (host bridge), a command
 * register whose memory-space and bus-master bits are writable, a fixed status; every other
 * register reads 0 and ignores writes (no BARs, no capabilities, no PAM/SMRAM registers: the
 * guest's memory map is fixed by civic). Absent functions read all ones, so a probe sees vendor
 * 0xffff. CONFIG_DATA accesses straddling 0xcff (e.g. a dword at 0xcfd) read all ones.
 */
#include "kernel/vdev_pci.h"

#include "kernel/string.h"

#define PCI_STATE_VERSION 1
/* PCI 3.0, 6.2.2: command bits we let the guest flip (memory space, bus master). */
#define PCI_COMMAND_MEMORY 0x0002u
#define PCI_COMMAND_MASTER 0x0004u
#define HOST_COMMAND_WRITABLE (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
#define HOST_COMMAND_RESET (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
/* 82441FX: fast back-to-back capable, medium DEVSEL timing. */
#define HOST_STATUS 0x0280u
#define PCI_CLASS_BRIDGE_HOST 0x060000u /* base class 06, sub-class 00, prog-if 00 */

static bool is_host_bridge(uint32_t address)
{
    /* bus 0, device 0, function 0 */
    return ((address >> PCI_CONFIG_FUNCTION_SHIFT) & 0xffff) == 0;
}

/* The host bridge's configuration dword at reg (dword aligned). */
static uint32_t host_dword(const struct vdev_pci *pci, unsigned reg)
{
    switch (reg) {
    case PCI_VENDOR_ID: return VDEV_PCI_HOST_VENDOR | (uint32_t)VDEV_PCI_HOST_DEVICE << 16;
    case PCI_COMMAND: return pci->host_command | HOST_STATUS << 16;
    case PCI_REVISION_ID: return PCI_CLASS_BRIDGE_HOST << 8; /* revision 0 */
    default: return 0; /* header type 0, single function; no BARs */
    }
}

static uint32_t size_mask(unsigned size)
{
    return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static void config_data(struct vdev_pci *pci, unsigned byte, unsigned size, bool is_write,
                        uint32_t *value)
{
    uint32_t a = pci->config_address;
    bool hit = (a & PCI_CONFIG_ENABLE) && is_host_bridge(a) && byte + size <= 4;
    unsigned reg = a & PCI_CONFIG_REGISTER_MASK;
    if (!is_write) {
        *value = hit ? (host_dword(pci, reg) >> (byte * 8)) & size_mask(size) : size_mask(size);
        return;
    }
    if (!hit || reg != PCI_COMMAND)
        return;
    /* Only the command register (bytes 0-1 of dword 4) has writable bits. */
    uint32_t mask = size_mask(size) << (byte * 8);
    uint32_t merged = (host_dword(pci, reg) & ~mask) | ((*value << (byte * 8)) & mask);
    pci->host_command =
        (uint16_t)((pci->host_command & ~HOST_COMMAND_WRITABLE) | (merged & HOST_COMMAND_WRITABLE));
}

bool vdev_pci_io(struct vdev_pci *pci, uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
    if (size != 1 && size != 2 && size != 4)
        return false;
    if (port >= VDEV_PCI_CONFIG_ADDRESS && port < VDEV_PCI_CONFIG_ADDRESS + 4) {
        if (port != VDEV_PCI_CONFIG_ADDRESS || size != 4)
            return false;
        if (is_write)
            pci->config_address = *value & ~3u;
        else
            *value = pci->config_address;
        return true;
    }
    if (port < VDEV_PCI_CONFIG_DATA || port >= VDEV_PCI_CONFIG_DATA + 4)
        return false;
    config_data(pci, port - VDEV_PCI_CONFIG_DATA, size, is_write, value);
    return true;
}

void vdev_pci_reset(struct vdev_pci *pci)
{
    memset(pci, 0, sizeof *pci);
    pci->host_command = HOST_COMMAND_RESET;
}

void vdev_pci_save(const struct vdev_pci *pci, struct vdev_pci_state *out)
{
    memset(out, 0, sizeof *out);
    out->version = PCI_STATE_VERSION;
    out->pci = *pci;
}

int vdev_pci_restore(struct vdev_pci *pci, const struct vdev_pci_state *in)
{
    const struct vdev_pci *p = &in->pci;
    if (in->version != PCI_STATE_VERSION || (p->config_address & 3) ||
        (p->host_command & ~HOST_COMMAND_WRITABLE) || p->reserved)
        return -1;
    *pci = *p;
    return 0;
}
