/*
 * The reset lines and their neighbours: the i8042 reset/A20 subset, port 0x92, the PIIX reset
 * control register at 0xCF9 (the reset register the guest's FADT names) and port 0x80.
 *
 * The controller always looks idle with its self-test passed (status = SYS), so a guest polling
 * for an empty input buffer before a command never waits, and one draining the output buffer
 * finds nothing. Commands other than 0xd1 and 0xfe are accepted and ignored; the data port
 * reads 0. Port 0x80 sits here because it is another legacy chipset port with no state.
 */
#include "kernel/vdev_kbc.h"

#include "kernel/string.h"

#define KBC_STATE_VERSION 1

static void kbc_command(struct vdev_kbc *kbc, uint8_t cmd, bool *reset_request)
{
    if (cmd == KBC_CMD_PULSE_RESET) {
        *reset_request = true;
        kbc->pending_cmd = 0;
    } else {
        kbc->pending_cmd = cmd == KBC_CMD_WRITE_OUTPUT ? cmd : 0;
    }
}

static void kbc_data_write(struct vdev_kbc *kbc, uint8_t v, bool *reset_request)
{
    if (kbc->pending_cmd != KBC_CMD_WRITE_OUTPUT)
        return; /* a byte for the keyboard: there is none */
    kbc->pending_cmd = 0;
    kbc->output_port = v & KBC_OUT_A20;
    if (!(v & KBC_OUT_RESET))
        *reset_request = true;
}

bool vdev_kbc_io(struct vdev_kbc *kbc, uint16_t port, unsigned size, bool is_write, uint32_t *value,
                 bool *reset_request)
{
    *reset_request = false;
    if (port == VDEV_KBC_POST) {
        if (size != 1 && size != 2 && size != 4)
            return false;
        if (!is_write)
            *value = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
        return true;
    }
    if (port != VDEV_KBC_DATA && port != VDEV_KBC_STATUS && port != VDEV_KBC_PORT92 &&
        port != VDEV_KBC_RESET_CONTROL)
        return false;
    if (size != 1)
        return false;
    if (port == VDEV_KBC_RESET_CONTROL) {
        if (!is_write) {
            *value = kbc->reset_control;
            return true;
        }
        uint8_t v = (uint8_t)*value;
        kbc->reset_control = v & (RC_SYSTEM_RESET | RC_FULL_RESET);
        if (v & RC_RESET_CPU)
            *reset_request = true;
        return true;
    }
    uint8_t v = (uint8_t)*value;
    switch (port) {
    case VDEV_KBC_DATA:
        if (is_write)
            kbc_data_write(kbc, v, reset_request);
        else
            *value = 0;
        break;
    case VDEV_KBC_STATUS:
        if (is_write)
            kbc_command(kbc, v, reset_request);
        else
            *value = KBC_STATUS_SYS;
        break;
    default: /* port 0x92 */
        if (is_write) {
            kbc->port92 = v & PORT92_A20;
            if (v & PORT92_RESET)
                *reset_request = true;
        } else {
            *value = kbc->port92;
        }
        break;
    }
    return true;
}

bool vdev_kbc_a20(const struct vdev_kbc *kbc)
{
    return (kbc->port92 & PORT92_A20) || (kbc->output_port & KBC_OUT_A20);
}

void vdev_kbc_reset(struct vdev_kbc *kbc)
{
    memset(kbc, 0, sizeof *kbc);
    kbc->port92 = PORT92_A20;
    kbc->output_port = KBC_OUT_A20;
}

void vdev_kbc_save(const struct vdev_kbc *kbc, struct vdev_kbc_state *out)
{
    memset(out, 0, sizeof *out);
    out->version = KBC_STATE_VERSION;
    out->kbc = *kbc;
}

int vdev_kbc_restore(struct vdev_kbc *kbc, const struct vdev_kbc_state *in)
{
    const struct vdev_kbc *k = &in->kbc;
    if (in->version != KBC_STATE_VERSION || (k->port92 & ~PORT92_A20) ||
        (k->output_port & ~KBC_OUT_A20) ||
        (k->reset_control & ~(RC_SYSTEM_RESET | RC_FULL_RESET)) ||
        (k->pending_cmd && k->pending_cmd != KBC_CMD_WRITE_OUTPUT))
        return -1;
    *kbc = *k;
    return 0;
}
