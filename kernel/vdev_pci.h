/*
 * The guest's PCI configuration space, configuration mechanism 1 (PCI Local Bus Specification
 * 3.0, 3.2.2.3.2): CONFIG_ADDRESS at 0xcf8, CONFIG_DATA at 0xcfc-0xcff. The bus holds one
 * device, an i440FX host bridge at 00:00.0; every other function is absent (reads all ones).
 * A pure model: the caller routes port I/O here. State in one struct with save/restore.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_PCI_CONFIG_ADDRESS 0xcf8
#define VDEV_PCI_CONFIG_DATA 0xcfc

/* PCI Local Bus Specification 3.0, 3.2.2.3.2: CONFIG_ADDRESS fields. */
#define PCI_CONFIG_ENABLE 0x80000000u
#define PCI_CONFIG_BUS_SHIFT 16
#define PCI_CONFIG_DEVICE_SHIFT 11
#define PCI_CONFIG_FUNCTION_SHIFT 8
#define PCI_CONFIG_REGISTER_MASK 0xfcu

/* PCI Local Bus Specification 3.0, 6.1: type 0 header offsets. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e

/* Intel 82441FX (PMC) data sheet: the host bridge's IDs. */
#define VDEV_PCI_HOST_VENDOR 0x8086
#define VDEV_PCI_HOST_DEVICE 0x1237

struct vdev_pci {
    uint32_t config_address; /* as written, low 2 bits clear */
    uint16_t host_command;   /* the host bridge's command register */
    uint16_t reserved;       /* 0; keeps the saved layout fixed */
};

struct vdev_pci_state {
    uint32_t version;
    struct vdev_pci pci;
};

void vdev_pci_reset(struct vdev_pci *pci);
/*
 * Port access of size 1, 2 or 4 bytes (value in the low bits). Returns false (nothing done) for
 * ports not its own: anything outside 0xcf8-0xcff, and accesses to 0xcf8-0xcfb that are not
 * 32 bits wide (mechanism 1 decodes only dword CONFIG_ADDRESS; 0xcf9 is the PIIX reset control
 * register, somebody else's).
 */
bool vdev_pci_io(struct vdev_pci *pci, uint16_t port, unsigned size, bool is_write,
                 uint32_t *value);
void vdev_pci_save(const struct vdev_pci *pci, struct vdev_pci_state *out);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_pci_restore(struct vdev_pci *pci, const struct vdev_pci_state *in);
