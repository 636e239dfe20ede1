/*
 * PCI enumeration, pure: everything goes through a configuration-space accessor, so the walk runs
 * on the host against a fake bus in the unit tests and on the machine through mechanism 1
 * (arch/x86/pci_cfg.c). Names and layouts from the PCI Local Bus Specification 3.0, chapter 6
 * ("Configuration Space") and the PCI-to-PCI Bridge Architecture Specification 1.2.
 *
 * The walk probes every bus 0-255, every device 0-31 and, where function 0's header type has
 * bit 7 (multi-function) set, functions 1-7: 8192 reads of a vendor ID at most. Brute force
 * rather than following bridges, so a bridge the firmware numbered oddly (or not at all) hides
 * nothing that is reachable with the bus numbers as they are.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"

/* Configuration header, common part (PCI 3.0, 6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08 /* class code in bytes 0x09-0x0b */
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c /* header type 0 */
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITIES_PTR 0x34    /* header types 0 and 1 */
#define PCI_CARDBUS_CAPABILITIES_PTR 0x14 /* header type 2 */
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
/* Type 1 (bridge) header. */
#define PCI_PRIMARY_BUS 0x18
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a

#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST (1u << 4)

#define PCI_HEADER_TYPE_MASK 0x7f
#define PCI_HEADER_TYPE_MULTIFUNCTION 0x80
#define PCI_HEADER_TYPE_NORMAL 0
#define PCI_HEADER_TYPE_BRIDGE 1
#define PCI_HEADER_TYPE_CARDBUS 2

/* Base address registers (PCI 3.0, 6.2.5.1). */
#define PCI_BAR_IO (1u << 0)
#define PCI_BAR_MEM_TYPE_MASK (3u << 1)
#define PCI_BAR_MEM_TYPE_32 (0u << 1)
#define PCI_BAR_MEM_TYPE_64 (2u << 1)
#define PCI_BAR_MEM_PREFETCH (1u << 3)
#define PCI_BAR_MEM_ADDR_MASK 0xfffffff0u
#define PCI_BAR_IO_ADDR_MASK 0xfffffffcu

/* Capability IDs (PCI Code and ID Assignment Specification). */
#define PCI_CAP_ID_PM 0x01
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_PCIX 0x07
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11

#define PCI_MAX_BUS 256
#define PCI_MAX_DEV 32
#define PCI_MAX_FN 8
#define PCI_MAX_BARS 6
#define PCI_MAX_CAPS 16

/* Reads and writes one aligned dword of configuration space; an absent function reads as all
 * ones. off is a multiple of 4 below 256. */
struct pci_config_access {
    uint32_t (*read32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
    void (*write32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v);
    void *ctx;
};

enum pci_bar_kind { PCI_BAR_NONE = 0, PCI_BAR_KIND_IO, PCI_BAR_KIND_MEM32, PCI_BAR_KIND_MEM64 };

struct pci_bar {
    enum pci_bar_kind kind; /* NONE: unimplemented, or the upper half of a 64-bit BAR */
    bool prefetchable;
    uint64_t addr;
    uint64_t size; /* 0 for NONE */
};

struct pci_cap {
    uint8_t id;
    uint8_t offset;
};

struct pci_device {
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint32_t class_code; /* base class << 16 | subclass << 8 | programming interface */
    uint8_t revision;
    uint8_t header_type; /* without the multi-function bit */
    bool multifunction;
    uint16_t subsys_vendor, subsys_id; /* header type 0 only */
    uint8_t irq_line, irq_pin;         /* pin: 0 none, 1-4 INTA#-INTD# */
    uint8_t secondary_bus, subordinate_bus; /* bridges only */
    struct pci_bar bars[PCI_MAX_BARS];
    unsigned bar_count; /* BAR slots the header type has: 6, 2 (bridge) or 0 */
    struct pci_cap caps[PCI_MAX_CAPS];
    unsigned cap_count;
    bool cap_list_broken; /* the list looped, pointed below 0x40 or was longer than we keep */
};

/* Enumerates every function, filling at most max entries in bus/device/function order; *count
 * is the number found (which may exceed max: the rest are not stored). Sizes the BARs, which
 * briefly disables I/O and memory decode of each function: call it before drivers use them. */
void pci_enumerate(const struct pci_config_access *acc, struct pci_device *out, size_t max,
                   size_t *count);
/* Fills one function's record; false if nothing answers at bus/dev/fn. */
bool pci_probe_function(const struct pci_config_access *acc, uint8_t bus, uint8_t dev, uint8_t fn,
                        struct pci_device *out);

/* Byte/word access on top of the dword accessor. */
uint8_t pci_read8(const struct pci_config_access *acc, uint8_t bus, uint8_t dev, uint8_t fn,
                  uint16_t off);
uint16_t pci_read16(const struct pci_config_access *acc, uint8_t bus, uint8_t dev, uint8_t fn,
                    uint16_t off);
void pci_write16(const struct pci_config_access *acc, uint8_t bus, uint8_t dev, uint8_t fn,
                 uint16_t off, uint16_t v);

/* The offset of capability id in d's list, or 0. */
uint8_t pci_find_cap(const struct pci_device *d, uint8_t id);
/* "4K", "128K", "16M", "64" (bytes): the largest binary unit that divides size. */
void pci_format_size(uint64_t size, char *buf, size_t len);

/* The machine's functions, enumerated once on first use through arch_pci_config() (kernel
 * only: kernel/pci_system.c). Later calls return the same list, so drivers and the `pci`
 * command never size BARs under a running device. */
const struct pci_device *pci_system_devices(size_t *count);
