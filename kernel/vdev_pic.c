/*
 * Guest 8259A pair, per the Intel 8259A data sheet (ICW1-4, OCW1-3) and the PIIX ELCR.
 *
 * Modelled: the initialisation sequence, IMR, fixed and rotating priority, all OCW2 EOI and
 * rotate commands, OCW3 IRR/ISR read select, poll and special mask mode, AEOI (with rotate),
 * special fully nested mode, edge/level per line (ICW1 LTIM or ELCR), the cascade on master
 * line 2 and the spurious IRQ 7 / 15.
 * Simplifications: an edge-triggered request stays latched in IRR when the line falls before
 * INTA (callers pulse lines, as the PIT output does); only a level-triggered request can go
 * away and give a spurious vector. The slave always sits on master line 2 (ICW3 is stored, not
 * used). MCS-80/85 mode (ICW4 uPM = 0) is stored but vectors are given as in 8086 mode. The
 * buffered-mode bits of ICW4 and ICW1 ADI are ignored.
 */
#include "kernel/vdev_pic.h"

#include "kernel/string.h"

/* 8259A data sheet: command word bits. */
#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_SELECT 0x10 /* A0 = 0, D4 = 1 */
#define OCW3_SELECT 0x08 /* A0 = 0, D4 = 0, D3 = 1 */
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_P 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40
#define ICW4_UPM 0x01
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
/* OCW2 R, SL, EOI (bits 7-5) */
enum {
    OCW2_ROTATE_AEOI_CLEAR = 0,
    OCW2_NONSPECIFIC_EOI = 1,
    OCW2_NOP = 2,
    OCW2_SPECIFIC_EOI = 3,
    OCW2_ROTATE_AEOI_SET = 4,
    OCW2_ROTATE_NONSPECIFIC_EOI = 5,
    OCW2_SET_PRIORITY = 6,
    OCW2_ROTATE_SPECIFIC_EOI = 7,
};
/* PIIX: IRQ 0, 1, 2, 8 and 13 are always edge-triggered. */
#define ELCR_MASK_MASTER 0xf8
#define ELCR_MASK_SLAVE 0xde
#define CASCADE_IR 2
#define SPURIOUS_IR 7
#define PIC_STATE_VERSION 1

static bool chip_level(const struct vdev_pic_chip *c, unsigned ir)
{
    return c->ltim || (c->elcr & (1u << ir));
}

static void chip_set_line(struct vdev_pic_chip *c, unsigned ir, bool level)
{
    uint8_t bit = (uint8_t)(1u << ir);
    if (chip_level(c, ir)) {
        c->irr = level ? (c->irr | bit) : (c->irr & ~bit);
    } else if (level && !(c->lines & bit)) {
        c->irr |= bit;
    }
    c->lines = level ? (c->lines | bit) : (c->lines & ~bit);
}

/* Level-triggered IRR bits follow their lines; called when the trigger mode changes. */
static void chip_resync_level(struct vdev_pic_chip *c)
{
    for (unsigned ir = 0; ir < 8; ir++)
        if (chip_level(c, ir))
            c->irr = (c->lines & (1u << ir)) ? (c->irr | (1u << ir)) : (c->irr & ~(1u << ir));
}

/* Priority 0 (highest) .. 7 of the highest-priority set bit of mask, 8 if none. */
static unsigned chip_priority(const struct vdev_pic_chip *c, uint8_t mask)
{
    for (unsigned p = 0; p < 8; p++)
        if (mask & (1u << ((p + c->priority_add) & 7)))
            return p;
    return 8;
}

/* The IR this chip's INT output asks for, or -1. */
static int chip_output(const struct vdev_pic_chip *c, bool is_master)
{
    if (c->icw_step != 0)
        return -1;
    unsigned req = chip_priority(c, c->irr & ~c->imr);
    if (req == 8)
        return -1;
    uint8_t busy = c->isr;
    if (c->special_mask)
        busy &= ~c->imr; /* SMM: a masked in-service level does not block lower ones */
    if (c->sfnm && is_master && !c->single)
        busy &= (uint8_t) ~(1u << CASCADE_IR); /* SFNM: the slave may nest inside itself */
    if (req >= chip_priority(c, busy))
        return -1;
    return (int)((req + c->priority_add) & 7);
}

/* The slave's INT drives master line 2. */
static void update_cascade(struct vdev_pic *pic)
{
    if (!pic->chip[0].single)
        chip_set_line(&pic->chip[0], CASCADE_IR, chip_output(&pic->chip[1], false) >= 0);
}

/* What INTA does to the chip that answers with ir. */
static void chip_intack(struct vdev_pic_chip *c, unsigned ir)
{
    if (c->aeoi) {
        if (c->rotate_aeoi)
            c->priority_add = (uint8_t)((ir + 1) & 7);
    } else {
        c->isr |= (uint8_t)(1u << ir);
    }
    if (!chip_level(c, ir))
        c->irr &= (uint8_t) ~(1u << ir);
}

/* The in-service IR with the highest priority, or -1. */
static int chip_highest_isr(const struct vdev_pic_chip *c)
{
    unsigned p = chip_priority(c, c->isr);
    return p == 8 ? -1 : (int)((p + c->priority_add) & 7);
}

static void chip_ocw2(struct vdev_pic_chip *c, uint8_t value)
{
    unsigned level = value & 7;
    int ir;
    switch (value >> 5) {
    case OCW2_ROTATE_AEOI_CLEAR: c->rotate_aeoi = 0; break;
    case OCW2_ROTATE_AEOI_SET: c->rotate_aeoi = 1; break;
    case OCW2_NONSPECIFIC_EOI:
    case OCW2_ROTATE_NONSPECIFIC_EOI:
        ir = chip_highest_isr(c);
        if (ir < 0)
            break;
        c->isr &= (uint8_t) ~(1u << ir);
        if ((value >> 5) == OCW2_ROTATE_NONSPECIFIC_EOI)
            c->priority_add = (uint8_t)((ir + 1) & 7);
        break;
    case OCW2_SPECIFIC_EOI: c->isr &= (uint8_t) ~(1u << level); break;
    case OCW2_ROTATE_SPECIFIC_EOI:
        c->isr &= (uint8_t) ~(1u << level);
        c->priority_add = (uint8_t)((level + 1) & 7);
        break;
    case OCW2_SET_PRIORITY: c->priority_add = (uint8_t)((level + 1) & 7); break;
    default: break; /* OCW2_NOP */
    }
}

static void chip_write_even(struct vdev_pic_chip *c, uint8_t value)
{
    if (value & ICW1_SELECT) {
        /* ICW1 clears IMR and the edge-sense latches, gives IR7 lowest priority, reads IRR. */
        c->icw4_needed = value & ICW1_IC4 ? 1 : 0;
        c->single = value & ICW1_SNGL ? 1 : 0;
        c->ltim = value & ICW1_LTIM ? 1 : 0;
        c->imr = c->isr = c->irr = 0;
        c->priority_add = c->read_isr = c->poll = c->special_mask = c->rotate_aeoi = 0;
        c->aeoi = c->sfnm = c->mode_8086 = 0;
        c->icw_step = 2;
        chip_resync_level(c);
    } else if (value & OCW3_SELECT) {
        if (value & OCW3_P)
            c->poll = 1;
        if (value & OCW3_RR)
            c->read_isr = value & OCW3_RIS ? 1 : 0;
        if (value & OCW3_ESMM)
            c->special_mask = value & OCW3_SMM ? 1 : 0;
    } else {
        chip_ocw2(c, value);
    }
}

static void chip_write_odd(struct vdev_pic_chip *c, uint8_t value)
{
    switch (c->icw_step) {
    case 2:
        c->vector_base = value & 0xf8;
        c->icw_step = c->single ? (c->icw4_needed ? 4 : 0) : 3;
        break;
    case 3:
        c->icw3 = value;
        c->icw_step = c->icw4_needed ? 4 : 0;
        break;
    case 4:
        c->mode_8086 = value & ICW4_UPM ? 1 : 0;
        c->aeoi = value & ICW4_AEOI ? 1 : 0;
        c->sfnm = value & ICW4_SFNM ? 1 : 0;
        c->icw_step = 0;
        break;
    default: c->imr = value; break; /* OCW1 */
    }
}

/* Poll command: the read is an INTA that returns 0x80 | IR, or 0 with nothing pending. */
static uint8_t chip_poll(struct vdev_pic *pic, unsigned which)
{
    struct vdev_pic_chip *c = &pic->chip[which];
    c->poll = 0;
    int ir = chip_output(c, which == 0);
    if (ir < 0)
        return 0;
    chip_intack(c, (unsigned)ir);
    return (uint8_t)(0x80 | ir);
}

bool vdev_pic_io(struct vdev_pic *pic, uint16_t port, bool is_write, uint8_t *value)
{
    unsigned which;
    if ((port & ~1u) == VDEV_PIC_MASTER_BASE) {
        which = 0;
    } else if ((port & ~1u) == VDEV_PIC_SLAVE_BASE) {
        which = 1;
    } else if ((port & ~1u) == VDEV_PIC_ELCR_BASE) {
        struct vdev_pic_chip *c = &pic->chip[port & 1];
        if (is_write) {
            c->elcr = *value & ((port & 1) ? ELCR_MASK_SLAVE : ELCR_MASK_MASTER);
            chip_resync_level(c);
            update_cascade(pic);
        } else {
            *value = c->elcr;
        }
        return true;
    } else {
        return false;
    }
    struct vdev_pic_chip *c = &pic->chip[which];
    if (is_write) {
        if (port & 1)
            chip_write_odd(c, *value);
        else
            chip_write_even(c, *value);
    } else if (port & 1) {
        *value = c->imr;
    } else if (c->poll) {
        *value = chip_poll(pic, which);
    } else {
        *value = c->read_isr ? c->isr : c->irr;
    }
    update_cascade(pic);
    return true;
}

void vdev_pic_set_irq(struct vdev_pic *pic, unsigned irq, bool level)
{
    if (irq >= VDEV_PIC_LINES || (irq == CASCADE_IR && !pic->chip[0].single))
        return;
    chip_set_line(&pic->chip[irq / 8], irq % 8, level);
    update_cascade(pic);
}

int vdev_pic_pending_vector(const struct vdev_pic *pic)
{
    const struct vdev_pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
    int ir = chip_output(m, true);
    if (ir < 0)
        return -1;
    if (ir == CASCADE_IR && !m->single) {
        int sir = chip_output(s, false);
        return s->vector_base + (sir < 0 ? SPURIOUS_IR : sir);
    }
    return m->vector_base + ir;
}

int vdev_pic_acknowledge(struct vdev_pic *pic)
{
    struct vdev_pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
    int ir = chip_output(m, true);
    if (ir < 0)
        return m->vector_base + SPURIOUS_IR;
    chip_intack(m, (unsigned)ir);
    int vector = m->vector_base + ir;
    if (ir == CASCADE_IR && !m->single) {
        int sir = chip_output(s, false);
        if (sir < 0) {
            vector = s->vector_base + SPURIOUS_IR;
        } else {
            chip_intack(s, (unsigned)sir);
            vector = s->vector_base + sir;
        }
        /* INTA resamples the cascade, so a slave that still asserts INT (AEOI, or a request
         * of higher priority) latches master line 2 again. */
        m->lines &= (uint8_t) ~(1u << CASCADE_IR);
    }
    update_cascade(pic);
    return vector;
}

static void chip_bios_init(struct vdev_pic_chip *c, uint8_t base, uint8_t icw3)
{
    memset(c, 0, sizeof *c);
    c->vector_base = base;
    c->icw3 = icw3;
    c->icw4_needed = 1;
    c->mode_8086 = 1;
    c->imr = 0xff;
}

void vdev_pic_reset(struct vdev_pic *pic)
{
    chip_bios_init(&pic->chip[0], 0x08, 1u << CASCADE_IR);
    chip_bios_init(&pic->chip[1], 0x70, CASCADE_IR);
}

void vdev_pic_save(const struct vdev_pic *pic, struct vdev_pic_state *out)
{
    memset(out, 0, sizeof *out);
    out->version = PIC_STATE_VERSION;
    out->pic = *pic;
}

static bool chip_valid(const struct vdev_pic_chip *c, uint8_t elcr_mask)
{
    const uint8_t flags[] = {c->icw4_needed, c->single,   c->ltim, c->mode_8086,   c->aeoi, c->sfnm,
                             c->rotate_aeoi, c->read_isr, c->poll, c->special_mask};
    for (unsigned i = 0; i < sizeof flags; i++)
        if (flags[i] > 1)
            return false;
    if (c->icw_step != 0 && (c->icw_step < 2 || c->icw_step > 4))
        return false;
    if (c->priority_add > 7 || (c->vector_base & 7) || (c->elcr & ~elcr_mask))
        return false;
    /* A level-triggered request is exactly its line. */
    for (unsigned ir = 0; ir < 8; ir++)
        if (chip_level(c, ir) && ((c->irr ^ c->lines) & (1u << ir)))
            return false;
    return true;
}

int vdev_pic_restore(struct vdev_pic *pic, const struct vdev_pic_state *in)
{
    if (in->version != PIC_STATE_VERSION || !chip_valid(&in->pic.chip[0], ELCR_MASK_MASTER) ||
        !chip_valid(&in->pic.chip[1], ELCR_MASK_SLAVE))
        return -1;
    *pic = in->pic;
    update_cascade(pic);
    return 0;
}
