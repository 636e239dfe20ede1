/*
 * Guest local APIC (Intel SDM Vol. 3A, chapter 11): the register file in xAPIC (MMIO) and x2APIC
 * (MSR) mode, IA32_APIC_BASE transitions, acceptance, priority, INTA, EOI, the ICR and
 * destination matching. The timer is in vdev_lapic_timer.c.
 *
 * Choices where the SDM leaves room: IPIs and interrupts are accepted at once, so delivery
 * status bits read 0; an interrupt is dropped while the APIC is software-disabled (the IRR is
 * held, not delivered); the error LVT fires when an error bit newly sets in the ESR, so a
 * misprogrammed error vector cannot loop; the BSP flag of IA32_APIC_BASE is read-only. Every
 * access first brings the timer up to now_ns, so reads see the state at that time.
 */
#include "kernel/vdev_lapic.h"

#include "arch/x86/lapic_regs.h"
#include "kernel/string.h"
#include "kernel/vdev_lapic_int.h"

#define LAPIC_STATE_VERSION 1
#define VEC_WORDS 8
#define FIRST_LEGAL_VECTOR 16 /* vectors 0-15 are illegal (11.5.3) */

/* Writable LVT bits per entry (Figure 11-8), and the read-only ones, in MMIO order. */
#define LVT_COMMON (LAPIC_LVT_VECTOR_MASK | LAPIC_LVT_MASKED)
static const uint32_t lvt_writable[VDEV_LAPIC_LVT_COUNT] = {
    LVT_COMMON | LAPIC_LVT_TIMER_MODE_MASK,
    LVT_COMMON | LAPIC_LVT_DELIVERY_MODE_MASK,
    LVT_COMMON | LAPIC_LVT_DELIVERY_MODE_MASK,
    LVT_COMMON | LAPIC_LVT_DELIVERY_MODE_MASK | LAPIC_LVT_PIN_POLARITY | LAPIC_LVT_TRIGGER_LEVEL,
    LVT_COMMON | LAPIC_LVT_DELIVERY_MODE_MASK | LAPIC_LVT_PIN_POLARITY | LAPIC_LVT_TRIGGER_LEVEL,
    LVT_COMMON,
};

/* Bits a guest may write but that read as the APIC's own state (ignored, never #GP). */
static uint32_t lvt_read_only(unsigned i)
{
    bool lint = i == VDEV_LAPIC_LVT_LINT0 || i == VDEV_LAPIC_LVT_LINT1;
    return LAPIC_LVT_DELIVERY_STATUS | (lint ? LAPIC_LVT_REMOTE_IRR : 0);
}

#define SVR_WRITABLE (LAPIC_SVR_VECTOR_MASK | LAPIC_SVR_ENABLE | LAPIC_SVR_FOCUS_DISABLE)
#define ICR_DEFINED                                                                                \
    (LAPIC_ICR_VECTOR_MASK | LAPIC_ICR_DELIVERY_MODE_MASK | LAPIC_ICR_DEST_LOGICAL |               \
     LAPIC_ICR_LEVEL_ASSERT | LAPIC_ICR_TRIGGER_LEVEL | LAPIC_ICR_SHORTHAND_MASK)
#define XAPIC_DEST_MASK (0xffu << LAPIC_XAPIC_ID_SHIFT)
#define ESR_DEFINED 0xffu
#define BASE_ADDR_BITS (((1ull << VDEV_LAPIC_MAXPHYADDR) - 1) & ~0xfffull)
#define BASE_DEFINED (BASE_ADDR_BITS | IA32_APIC_BASE_BSP | IA32_APIC_BASE_EXTD | IA32_APIC_BASE_EN)

static bool vec_test(const uint32_t *v, unsigned vec)
{
    return (v[vec / 32] >> (vec % 32)) & 1u;
}

static void vec_set(uint32_t *v, unsigned vec)
{
    v[vec / 32] |= 1u << (vec % 32);
}

static void vec_clear(uint32_t *v, unsigned vec)
{
    v[vec / 32] &= ~(1u << (vec % 32));
}

static int vec_highest(const uint32_t *v)
{
    for (int w = VEC_WORDS - 1; w >= 0; w--)
        if (v[w])
            return w * 32 + 31 - __builtin_clz(v[w]);
    return -1;
}

bool vdev_lapic_hw_enabled(const struct vdev_lapic *l)
{
    return l->apic_base & IA32_APIC_BASE_EN;
}

bool vdev_lapic_x2apic_mode(const struct vdev_lapic *l)
{
    return l->apic_base & IA32_APIC_BASE_EXTD;
}

bool vdev_lapic_mmio_enabled(const struct vdev_lapic *l)
{
    return vdev_lapic_hw_enabled(l) && !vdev_lapic_x2apic_mode(l);
}

static bool sw_enabled(const struct vdev_lapic *l)
{
    return l->svr & LAPIC_SVR_ENABLE;
}

uint32_t vdev_lapic_id(const struct vdev_lapic *l)
{
    return vdev_lapic_x2apic_mode(l) ? l->x2apic_id : l->xapic_id;
}

/* 11.12.10.2: the logical x2APIC ID, derived from the x2APIC ID. */
static uint32_t x2apic_ldr(uint32_t id)
{
    return ((id >> 4) << X2APIC_LDR_CLUSTER_SHIFT) | (1u << (id & 0xf));
}

/* 11.4.7.1 power-on values (also INIT, 11.4.7.3, and EN going to 0): IDs and base kept. */
static void power_on_regs(struct vdev_lapic *l)
{
    l->tpr = l->ldr = 0;
    l->dfr = 0xffffffffu;
    l->svr = 0xff;
    l->esr = l->esr_pending = 0;
    l->icr_low = l->icr_high = 0;
    for (unsigned i = 0; i < VDEV_LAPIC_LVT_COUNT; i++)
        l->lvt[i] = LAPIC_LVT_MASKED;
    l->timer_initial = l->timer_dcr = 0;
    l->timer_armed = 0;
    l->timer_start_ns = 0;
    l->tsc_deadline = 0;
    memset(l->isr, 0, sizeof l->isr);
    memset(l->tmr, 0, sizeof l->tmr);
    memset(l->irr, 0, sizeof l->irr);
    if (vdev_lapic_x2apic_mode(l))
        l->ldr = x2apic_ldr(l->x2apic_id);
}

void vdev_lapic_reset(struct vdev_lapic *l, uint32_t apic_id, bool bsp, uint64_t tsc_hz)
{
    memset(l, 0, sizeof *l);
    l->apic_base = LAPIC_DEFAULT_BASE | IA32_APIC_BASE_EN | (bsp ? IA32_APIC_BASE_BSP : 0);
    l->tsc_hz = tsc_hz ? tsc_hz : VDEV_LAPIC_BUS_HZ;
    l->x2apic_id = apic_id;
    l->xapic_id = apic_id & 0xff;
    power_on_regs(l);
    if (bsp) {
        /* What the BIOS leaves: software-enabled, virtual wire mode through LINT0 (MP spec). */
        l->svr = LAPIC_SVR_ENABLE | 0xff;
        l->lvt[VDEV_LAPIC_LVT_LINT0] = LAPIC_LVT_DELIVERY_EXTINT;
        l->lvt[VDEV_LAPIC_LVT_LINT1] = LAPIC_LVT_DELIVERY_NMI;
    }
}

void vdev_lapic_init_signal(struct vdev_lapic *l)
{
    power_on_regs(l);
}

uint64_t vdev_lapic_get_base(const struct vdev_lapic *l)
{
    return l->apic_base;
}

/* 11.12.5, Figure 11-27. */
int vdev_lapic_set_base(struct vdev_lapic *l, uint64_t value)
{
    bool en = value & IA32_APIC_BASE_EN, extd = value & IA32_APIC_BASE_EXTD;
    bool was_en = vdev_lapic_hw_enabled(l), was_x2 = vdev_lapic_x2apic_mode(l);
    if (value & ~BASE_DEFINED)
        return -1;
    if (extd && !en)
        return -1; /* the invalid state */
    if (was_x2 && en && !extd)
        return -1; /* x2APIC -> xAPIC only through disabled */
    if (!was_en && extd)
        return -1; /* disabled -> x2APIC only through xAPIC */
    l->apic_base = (value & ~IA32_APIC_BASE_BSP) | (l->apic_base & IA32_APIC_BASE_BSP);
    if (was_en && !en)
        power_on_regs(l);
    if (!was_x2 && extd)
        l->ldr = x2apic_ldr(l->x2apic_id);
    return 0;
}

/* 11.8.3.1. */
static uint32_t ppr(const struct vdev_lapic *l)
{
    int isrv = vec_highest(l->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & LAPIC_PRIORITY_CLASS_MASK;
    if ((l->tpr & LAPIC_PRIORITY_CLASS_MASK) >= isr_class)
        return l->tpr;
    return isr_class;
}

/* 11.5.3: errors collect in esr_pending until the next ESR write. */
static void record_error(struct vdev_lapic *l, uint32_t bits)
{
    uint32_t fresh = bits & ~l->esr_pending;
    l->esr_pending |= bits;
    if (fresh)
        vdev_lapic_raise_lvt(l, VDEV_LAPIC_LVT_ERROR);
}

bool vdev_lapic_accept(struct vdev_lapic *l, uint8_t vector, bool level)
{
    if (!vdev_lapic_hw_enabled(l))
        return false;
    if (vector < FIRST_LEGAL_VECTOR) {
        record_error(l, LAPIC_ESR_RECEIVE_ILLEGAL_VECTOR);
        return false;
    }
    if (!sw_enabled(l))
        return false;
    vec_set(l->irr, vector);
    if (level)
        vec_set(l->tmr, vector);
    else
        vec_clear(l->tmr, vector);
    return true;
}

void vdev_lapic_raise_lvt(struct vdev_lapic *l, unsigned lvt)
{
    uint32_t e = l->lvt[lvt];
    if (!(e & LAPIC_LVT_MASKED))
        vdev_lapic_accept(l, (uint8_t)(e & LAPIC_LVT_VECTOR_MASK), false);
}

int vdev_lapic_pending(const struct vdev_lapic *l)
{
    if (!vdev_lapic_hw_enabled(l) || !sw_enabled(l))
        return -1;
    int v = vec_highest(l->irr);
    if (v < 0 || ((uint32_t)v & LAPIC_PRIORITY_CLASS_MASK) <= (ppr(l) & LAPIC_PRIORITY_CLASS_MASK))
        return -1;
    return v;
}

int vdev_lapic_acknowledge(struct vdev_lapic *l)
{
    int v = vdev_lapic_pending(l);
    if (v >= 0) {
        vec_clear(l->irr, (unsigned)v);
        vec_set(l->isr, (unsigned)v);
    }
    return v;
}

/* 11.8.5: the highest in-service vector ends; a level-triggered one is broadcast to the IOAPICs
 * (no EOI-broadcast suppression: the version register does not offer it). */
static void eoi(struct vdev_lapic *l, struct vdev_lapic_effects *out)
{
    int v = vec_highest(l->isr);
    if (v < 0)
        return;
    vec_clear(l->isr, (unsigned)v);
    if (vec_test(l->tmr, (unsigned)v))
        out->eoi_vector = v;
}

bool vdev_lapic_extint_enabled(const struct vdev_lapic *l)
{
    uint32_t lint0 = l->lvt[VDEV_LAPIC_LVT_LINT0];
    return !vdev_lapic_hw_enabled(l) ||
           (lint0 & (LAPIC_LVT_MASKED | LAPIC_LVT_DELIVERY_MODE_MASK)) == LAPIC_LVT_DELIVERY_EXTINT;
}

/* A message in xAPIC format reaching an x2APIC-mode receiver is compared as zero-extended
 * (x2APIC compatibility, 11.12.10.1); logical addressing always follows the receiver's mode. */
bool vdev_lapic_matches(const struct vdev_lapic *l, bool logical, uint32_t dest, bool x2apic_format)
{
    if (!vdev_lapic_hw_enabled(l))
        return false;
    if (!x2apic_format)
        dest &= XAPIC_BROADCAST;
    if (dest == (x2apic_format ? X2APIC_BROADCAST : XAPIC_BROADCAST))
        return true;
    if (!logical)
        return dest == vdev_lapic_id(l);
    if (vdev_lapic_x2apic_mode(l)) {
        /* 11.12.10.2: same cluster, and a member bit in common. */
        return (dest >> X2APIC_LDR_CLUSTER_SHIFT) == (l->ldr >> X2APIC_LDR_CLUSTER_SHIFT) &&
               (dest & l->ldr & X2APIC_LDR_MEMBER_MASK) != 0;
    }
    uint32_t ldr = (l->ldr >> LAPIC_LDR_SHIFT) & 0xff;
    dest &= 0xff;
    if ((l->dfr & LAPIC_DFR_MODEL_MASK) == LAPIC_DFR_MODEL_FLAT)
        return (dest & ldr) != 0; /* 11.6.2.2: flat model */
    /* Cluster model: cluster address in bits 7-4, one of four members in bits 3-0. */
    return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf) != 0;
}

/* 11.6.1: the ICR write sends at once; reserved delivery modes send nothing. */
static void send_ipi(struct vdev_lapic *l, uint32_t low, uint32_t dest,
                     struct vdev_lapic_effects *out)
{
    uint8_t mode = (uint8_t)((low & LAPIC_ICR_DELIVERY_MODE_MASK) >> LAPIC_ICR_DELIVERY_MODE_SHIFT);
    uint8_t vector = (uint8_t)(low & LAPIC_ICR_VECTOR_MASK);
    if (mode == 3 || mode == 7)
        return;
    if ((mode == LAPIC_ICR_DM_FIXED || mode == LAPIC_ICR_DM_LOWEST) &&
        vector < FIRST_LEGAL_VECTOR) {
        record_error(l, LAPIC_ESR_SEND_ILLEGAL_VECTOR);
        return;
    }
    out->ipi = (struct vdev_lapic_ipi){
        .valid = true,
        .vector = vector,
        .delivery_mode = mode,
        .level_assert = (low & LAPIC_ICR_LEVEL_ASSERT) != 0,
        .trigger_level = (low & LAPIC_ICR_TRIGGER_LEVEL) != 0,
        .shorthand = (uint8_t)((low & LAPIC_ICR_SHORTHAND_MASK) >> LAPIC_ICR_SHORTHAND_SHIFT),
        .logical = (low & LAPIC_ICR_DEST_LOGICAL) != 0,
        .dest = dest,
    };
}

static void write_svr(struct vdev_lapic *l, uint32_t value)
{
    l->svr = value & SVR_WRITABLE;
    /* 11.4.7.2: software-disabling sets every LVT mask bit. */
    if (!sw_enabled(l))
        for (unsigned i = 0; i < VDEV_LAPIC_LVT_COUNT; i++)
            l->lvt[i] |= LAPIC_LVT_MASKED;
}

static void write_lvt(struct vdev_lapic *l, unsigned i, uint32_t value,
                      struct vdev_lapic_effects *out)
{
    uint32_t v = value & lvt_writable[i];
    if (i == VDEV_LAPIC_LVT_TIMER) {
        /* Mode 11b is reserved: an xAPIC write of it is taken as periodic. */
        if ((v & LAPIC_LVT_TIMER_MODE_MASK) == LAPIC_LVT_TIMER_MODE_MASK)
            v &= ~LAPIC_LVT_TIMER_TSC_DEADLINE;
        if ((v ^ l->lvt[i]) & LAPIC_LVT_TIMER_MODE_MASK)
            vdev_lapic_timer_disarm(l);
        out->timer_changed = true;
    }
    /* 11.4.7.2: while software-disabled the mask bits cannot be cleared. */
    if (!sw_enabled(l))
        v |= LAPIC_LVT_MASKED;
    l->lvt[i] = v;
}

static void effects_init(struct vdev_lapic_effects *out)
{
    memset(out, 0, sizeof *out);
    out->eoi_vector = -1;
}

static bool is_lvt(unsigned offset)
{
    return offset >= LAPIC_LVT_TIMER && offset <= LAPIC_LVT_ERROR;
}

static unsigned lvt_index(unsigned offset)
{
    return (offset - LAPIC_LVT_TIMER) / LAPIC_REG_STRIDE;
}

/* Registers common to both modes; false for an offset that is none of them. */
static bool read_common(struct vdev_lapic *l, unsigned offset, uint64_t now_ns, uint32_t *val)
{
    unsigned word = (offset & 0x7f) / LAPIC_REG_STRIDE;
    if (offset >= LAPIC_ISR0 && offset < LAPIC_ISR0 + 0x80)
        *val = l->isr[word];
    else if (offset >= LAPIC_TMR0 && offset < LAPIC_TMR0 + 0x80)
        *val = l->tmr[word];
    else if (offset >= LAPIC_IRR0 && offset < LAPIC_IRR0 + 0x80)
        *val = l->irr[word];
    else if (is_lvt(offset))
        *val = l->lvt[lvt_index(offset)];
    else if (offset == LAPIC_VERSION)
        *val = VDEV_LAPIC_VERSION;
    else if (offset == LAPIC_TPR)
        *val = l->tpr;
    else if (offset == LAPIC_PPR)
        *val = ppr(l);
    else if (offset == LAPIC_LDR)
        *val = l->ldr;
    else if (offset == LAPIC_SVR)
        *val = l->svr;
    else if (offset == LAPIC_ESR)
        *val = l->esr;
    else if (offset == LAPIC_TIMER_INITIAL_COUNT)
        *val = l->timer_initial;
    else if (offset == LAPIC_TIMER_CURRENT_COUNT)
        *val = vdev_lapic_timer_current(l, now_ns);
    else if (offset == LAPIC_TIMER_DIVIDE_CONFIG)
        *val = l->timer_dcr;
    else
        return false;
    return true;
}

uint32_t vdev_lapic_read(struct vdev_lapic *l, unsigned offset, uint64_t now_ns, uint64_t guest_tsc)
{
    uint32_t val = 0;
    if (!vdev_lapic_mmio_enabled(l))
        return 0;
    vdev_lapic_tick(l, now_ns, guest_tsc);
    if (offset % LAPIC_REG_STRIDE == 0 && read_common(l, offset, now_ns, &val))
        return val;
    switch (offset) {
    case LAPIC_ID: return l->xapic_id << LAPIC_XAPIC_ID_SHIFT;
    case LAPIC_APR: return 0;
    case LAPIC_EOI: return 0; /* write-only */
    case LAPIC_DFR: return l->dfr;
    case LAPIC_ICR_LOW: return l->icr_low; /* delivery status: always idle */
    case LAPIC_ICR_HIGH: return l->icr_high;
    default: record_error(l, LAPIC_ESR_ILLEGAL_REGISTER); return 0;
    }
}

/* Registers written the same way in both modes (after the x2APIC reserved-bit checks). */
static bool write_common(struct vdev_lapic *l, unsigned offset, uint32_t value, uint64_t now_ns,
                         struct vdev_lapic_effects *out)
{
    if (is_lvt(offset)) {
        write_lvt(l, lvt_index(offset), value, out);
        return true;
    }
    switch (offset) {
    case LAPIC_TPR: l->tpr = value & LAPIC_PRIORITY_MASK; break;
    case LAPIC_EOI: eoi(l, out); break;
    case LAPIC_SVR: write_svr(l, value); break;
    case LAPIC_ESR:
        /* 11.5.3: a write latches the errors since the previous write and clears them. */
        l->esr = l->esr_pending;
        l->esr_pending = 0;
        break;
    case LAPIC_TIMER_INITIAL_COUNT:
        vdev_lapic_timer_write_initial(l, value, now_ns);
        out->timer_changed = true;
        break;
    case LAPIC_TIMER_DIVIDE_CONFIG:
        vdev_lapic_timer_write_dcr(l, value, now_ns);
        out->timer_changed = true;
        break;
    default: return false;
    }
    return true;
}

/* Read-only registers: writes ignored in xAPIC mode, #GP in x2APIC mode. */
static bool read_only(unsigned offset)
{
    return offset == LAPIC_VERSION || offset == LAPIC_PPR || offset == LAPIC_TIMER_CURRENT_COUNT ||
           (offset >= LAPIC_ISR0 && offset < LAPIC_IRR0 + 0x80);
}

void vdev_lapic_write(struct vdev_lapic *l, unsigned offset, uint32_t value, uint64_t now_ns,
                      uint64_t guest_tsc, struct vdev_lapic_effects *out)
{
    effects_init(out);
    if (!vdev_lapic_mmio_enabled(l))
        return;
    vdev_lapic_tick(l, now_ns, guest_tsc);
    if (offset % LAPIC_REG_STRIDE != 0) {
        record_error(l, LAPIC_ESR_ILLEGAL_REGISTER);
        return;
    }
    if (write_common(l, offset, value, now_ns, out) || read_only(offset))
        return;
    switch (offset) {
    case LAPIC_ID: l->xapic_id = value >> LAPIC_XAPIC_ID_SHIFT; break;
    case LAPIC_APR: break; /* read-only */
    case LAPIC_LDR: l->ldr = value & (0xffu << LAPIC_LDR_SHIFT); break;
    case LAPIC_DFR: l->dfr = (value & LAPIC_DFR_MODEL_MASK) | LAPIC_DFR_RESERVED_ONES; break;
    case LAPIC_ICR_LOW:
        l->icr_low = value & ICR_DEFINED;
        send_ipi(l, l->icr_low, l->icr_high >> LAPIC_XAPIC_ID_SHIFT, out);
        break;
    case LAPIC_ICR_HIGH: l->icr_high = value & XAPIC_DEST_MASK; break;
    default: record_error(l, LAPIC_ESR_ILLEGAL_REGISTER); break;
    }
}

static bool x2apic_msr(const struct vdev_lapic *l, uint32_t msr)
{
    return msr >= IA32_X2APIC_BASE && msr <= IA32_X2APIC_BASE + 0xff && vdev_lapic_x2apic_mode(l);
}

int vdev_lapic_msr_read(struct vdev_lapic *l, uint32_t msr, uint64_t *val, uint64_t now_ns,
                        uint64_t guest_tsc)
{
    unsigned offset = (msr - IA32_X2APIC_BASE) * LAPIC_REG_STRIDE;
    uint32_t v;
    if (!x2apic_msr(l, msr))
        return -1;
    vdev_lapic_tick(l, now_ns, guest_tsc);
    if (read_common(l, offset, now_ns, &v)) {
        *val = v;
    } else if (offset == LAPIC_ID) {
        *val = l->x2apic_id;
    } else if (offset == LAPIC_ICR_LOW) {
        *val = (uint64_t)l->icr_high << X2APIC_ICR_DEST_SHIFT | l->icr_low;
    } else {
        return -1; /* EOI and SELF IPI are write-only; APR, DFR, ICR high, CMCI absent */
    }
    return 0;
}

/* 11.12.1.3: a set reserved bit #GPs; Table 11-6 for the registers that exist. */
static bool x2apic_write_ok(const struct vdev_lapic *l, unsigned offset, uint64_t val)
{
    uint32_t v = (uint32_t)val;
    if (offset == LAPIC_ICR_LOW) {
        /* Delivery status (bit 12) does not exist in x2APIC mode (11.12.9). */
        return (v & ~ICR_DEFINED) == 0;
    }
    if (val >> 32)
        return false;
    if (is_lvt(offset)) {
        unsigned i = lvt_index(offset);
        if (i == VDEV_LAPIC_LVT_TIMER &&
            (v & LAPIC_LVT_TIMER_MODE_MASK) == LAPIC_LVT_TIMER_MODE_MASK)
            return false;
        return (v & ~(lvt_writable[i] | lvt_read_only(i))) == 0;
    }
    switch (offset) {
    case LAPIC_TPR: return v <= LAPIC_PRIORITY_MASK;
    case LAPIC_EOI: return v == 0;
    case LAPIC_ESR: return v == 0;
    case LAPIC_SVR: return (v & ~SVR_WRITABLE) == 0;
    case LAPIC_TIMER_INITIAL_COUNT: return true;
    case LAPIC_TIMER_DIVIDE_CONFIG: return (v & ~LAPIC_DIVIDE_MASK) == 0;
    case LAPIC_LAST_REG: return v <= LAPIC_ICR_VECTOR_MASK; /* SELF IPI */
    default: return false;                                  /* read-only or absent */
    }
}

int vdev_lapic_msr_write(struct vdev_lapic *l, uint32_t msr, uint64_t val, uint64_t now_ns,
                         uint64_t guest_tsc, struct vdev_lapic_effects *out)
{
    unsigned offset = (msr - IA32_X2APIC_BASE) * LAPIC_REG_STRIDE;
    effects_init(out);
    if (!x2apic_msr(l, msr) || !x2apic_write_ok(l, offset, val))
        return -1;
    vdev_lapic_tick(l, now_ns, guest_tsc);
    if (write_common(l, offset, (uint32_t)val, now_ns, out))
        return 0;
    if (offset == LAPIC_ICR_LOW) {
        l->icr_low = (uint32_t)val;
        l->icr_high = (uint32_t)(val >> X2APIC_ICR_DEST_SHIFT);
        send_ipi(l, l->icr_low, l->icr_high, out);
    } else {
        /* SELF IPI (11.12.11): a fixed edge interrupt to this APIC; the vector is checked on
         * receipt. */
        out->ipi = (struct vdev_lapic_ipi){.valid = true,
                                           .vector = (uint8_t)val,
                                           .delivery_mode = LAPIC_ICR_DM_FIXED,
                                           .level_assert = true,
                                           .shorthand = LAPIC_ICR_SHORTHAND_SELF,
                                           .dest = l->x2apic_id};
    }
    return 0;
}

void vdev_lapic_save(const struct vdev_lapic *l, struct vdev_lapic_state *out, uint64_t now_ns)
{
    memset(out, 0, sizeof *out);
    out->version = LAPIC_STATE_VERSION;
    out->lapic = *l;
    out->lapic.timer_start_ns = 0;
    out->timer_elapsed_ns = l->timer_armed ? now_ns - l->timer_start_ns : 0;
}

static bool state_valid(const struct vdev_lapic *s, uint64_t elapsed)
{
    bool en = s->apic_base & IA32_APIC_BASE_EN, x2 = s->apic_base & IA32_APIC_BASE_EXTD;
    unsigned mode = vdev_lapic_timer_mode(s);
    if ((s->apic_base & ~BASE_DEFINED) || (x2 && !en) || s->tsc_hz == 0 || s->xapic_id > 0xff)
        return false;
    if (s->tpr > LAPIC_PRIORITY_MASK ||
        (s->dfr & LAPIC_DFR_RESERVED_ONES) != LAPIC_DFR_RESERVED_ONES)
        return false;
    if (x2 ? s->ldr != x2apic_ldr(s->x2apic_id) : (s->ldr & ~(0xffu << LAPIC_LDR_SHIFT)) != 0)
        return false;
    if ((s->svr & ~SVR_WRITABLE) || ((s->esr | s->esr_pending) & ~ESR_DEFINED) ||
        (s->icr_low & ~ICR_DEFINED) || (s->timer_dcr & ~LAPIC_DIVIDE_MASK))
        return false;
    for (unsigned i = 0; i < VDEV_LAPIC_LVT_COUNT; i++)
        if ((s->lvt[i] & ~lvt_writable[i]) ||
            (!(s->svr & LAPIC_SVR_ENABLE) && !(s->lvt[i] & LAPIC_LVT_MASKED)))
            return false;
    if (mode > LAPIC_TIMER_TSC_DEADLINE || s->timer_armed > 1 ||
        (s->timer_armed && (s->timer_initial == 0 || mode == LAPIC_TIMER_TSC_DEADLINE)) ||
        (!s->timer_armed && elapsed != 0) ||
        (s->tsc_deadline != 0 && mode != LAPIC_TIMER_TSC_DEADLINE))
        return false;
    /* Illegal vectors never reach IRR, ISR or TMR. */
    return ((s->irr[0] | s->isr[0] | s->tmr[0]) & 0xffffu) == 0;
}

int vdev_lapic_restore(struct vdev_lapic *l, const struct vdev_lapic_state *in, uint64_t now_ns)
{
    if (in->version != LAPIC_STATE_VERSION || !state_valid(&in->lapic, in->timer_elapsed_ns))
        return -1;
    *l = in->lapic;
    l->timer_start_ns = now_ns - in->timer_elapsed_ns;
    return 0;
}
