/*
 * QEMU's firmware configuration device (fw_cfg), traditional I/O interface only, as QEMU's
 * docs/specs/fw_cfg.rst describes it for x86: a 16-bit selector at 0x510 and a byte-wide data
 * port at 0x511 that streams the selected item. Test kernels written for QEMU use it to learn
 * the RAM size and CPU count. A pure model; state in one struct with save/restore.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define VDEV_FWCFG_SELECTOR 0x510
#define VDEV_FWCFG_DATA 0x511

/* docs/specs/fw_cfg.rst: selector keys. */
#define FW_CFG_SIGNATURE 0x0000 /* "QEMU" */
#define FW_CFG_ID 0x0001        /* 32-bit feature bitmap */
#define FW_CFG_RAM_SIZE 0x0003  /* 64-bit, little-endian */
#define FW_CFG_NB_CPUS 0x0005   /* 16-bit */
#define FW_CFG_MAX_CPUS 0x000f  /* 16-bit */
/* FW_CFG_ID bits. */
#define FW_CFG_VERSION 0x01     /* traditional interface */
#define FW_CFG_VERSION_DMA 0x02 /* not offered */

struct vdev_fwcfg {
    uint64_t ram_bytes;
    uint16_t cpus;
    uint16_t selector; /* last key written */
    uint32_t offset;   /* next byte of the selected item; stops at the item's end */
};

struct vdev_fwcfg_state {
    uint32_t version;
    uint32_t reserved; /* 0 */
    struct vdev_fwcfg fwcfg;
};

/* The VM's RAM size and vCPU count (cpus >= 1) as the items report them; selector 0. */
void vdev_fwcfg_reset(struct vdev_fwcfg *fw, uint64_t ram_bytes, uint16_t cpus);
/*
 * 16-bit access to 0x510 (write selects an item and rewinds it; read gives 0), byte access to
 * 0x511 (read streams the item, 0 past its end or for an unknown key; writes ignored, the
 * write channel being deprecated). Returns false for other ports and other access sizes.
 */
bool vdev_fwcfg_io(struct vdev_fwcfg *fw, uint16_t port, unsigned size, bool is_write,
                   uint32_t *value);
void vdev_fwcfg_save(const struct vdev_fwcfg *fw, struct vdev_fwcfg_state *out);
/* Returns 0, or -1 (nothing changed) for an unknown version or impossible state. */
int vdev_fwcfg_restore(struct vdev_fwcfg *fw, const struct vdev_fwcfg_state *in);
