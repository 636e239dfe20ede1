/*
 * fw_cfg items are produced on demand from the VM's size and CPU count rather than stored, so
 * the state is small and a restore cannot smuggle in item contents. MAX_CPUS equals NB_CPUS:
 * civic does not hot-plug vCPUs. No file directory (key 0x0019 is unknown, reading 0 files).
 */
#include "kernel/vdev_fwcfg.h"

#include "kernel/string.h"

#define FWCFG_STATE_VERSION 1

/* Length of the item behind key, 0 if unknown. */
static uint32_t item_length(uint16_t key)
{
    switch (key) {
    case FW_CFG_SIGNATURE: return 4;
    case FW_CFG_ID: return 4;
    case FW_CFG_RAM_SIZE: return 8;
    case FW_CFG_NB_CPUS: return 2;
    case FW_CFG_MAX_CPUS: return 2;
    default: return 0;
    }
}

/* Byte off (< item_length) of the selected item; items are little-endian integers. */
static uint8_t item_byte(const struct vdev_fwcfg *fw, uint32_t off)
{
    uint64_t v;
    switch (fw->selector) {
    case FW_CFG_SIGNATURE: return (uint8_t) "QEMU"[off];
    case FW_CFG_ID: v = FW_CFG_VERSION; break;
    case FW_CFG_RAM_SIZE: v = fw->ram_bytes; break;
    default: v = fw->cpus; break; /* NB_CPUS, MAX_CPUS */
    }
    return (uint8_t)(v >> (off * 8));
}

bool vdev_fwcfg_io(struct vdev_fwcfg *fw, uint16_t port, unsigned size, bool is_write,
                   uint32_t *value)
{
    if (port == VDEV_FWCFG_SELECTOR && size == 2) {
        if (is_write) {
            fw->selector = (uint16_t)*value;
            fw->offset = 0;
        } else {
            *value = 0;
        }
        return true;
    }
    if (port != VDEV_FWCFG_DATA || size != 1)
        return false;
    if (is_write)
        return true;
    if (fw->offset < item_length(fw->selector)) {
        *value = item_byte(fw, fw->offset);
        fw->offset++;
    } else {
        *value = 0;
    }
    return true;
}

void vdev_fwcfg_reset(struct vdev_fwcfg *fw, uint64_t ram_bytes, uint16_t cpus)
{
    memset(fw, 0, sizeof *fw);
    fw->ram_bytes = ram_bytes;
    fw->cpus = cpus;
}

void vdev_fwcfg_save(const struct vdev_fwcfg *fw, struct vdev_fwcfg_state *out)
{
    memset(out, 0, sizeof *out);
    out->version = FWCFG_STATE_VERSION;
    out->fwcfg = *fw;
}

int vdev_fwcfg_restore(struct vdev_fwcfg *fw, const struct vdev_fwcfg_state *in)
{
    const struct vdev_fwcfg *f = &in->fwcfg;
    if (in->version != FWCFG_STATE_VERSION || in->reserved || f->cpus == 0 ||
        f->offset > item_length(f->selector))
        return -1;
    *fw = *f;
    return 0;
}
