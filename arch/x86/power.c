/*
 * Power off and reset (kernel/arch.h): ACPI first where the firmware describes it (ACPI 6.5,
 * 4.8.3.2 PM1 control, 7.4.2 \_S5_, 4.8.3.6 reset register), then what PCs and emulators offer:
 * the chipset reset register, the keyboard controller, a triple fault; Bochs's shutdown port.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/acpi.h"
#include "arch/x86/acpi_tables.h"
#include "arch/x86/io.h"
#include "arch/x86/paging.h"
#include "kernel/arch.h"

/* Bochs: writing the bytes of "Shutdown" to this port ends the emulator. */
#define BOCHS_SHUTDOWN_PORT 0x8900
/* 8042 keyboard controller: status port, input-buffer-full bit, pulse-reset-line command. */
#define I8042_STATUS 0x64
#define I8042_COMMAND 0x64
#define I8042_STATUS_IBF (1u << 1)
#define I8042_CMD_PULSE_RESET 0xfe
/* Reset Control Register of Intel PIIX/ICH/PCH south bridges (82371AB datasheet, 4.1.17; also
 * decoded by AMD chipsets): SYS_RST (bit 1) selects a hard reset, RST_CPU (bit 2) starts it. */
#define RESET_CONTROL_PORT 0xcf9
#define RESET_CONTROL_SYS_RST (1u << 1)
#define RESET_CONTROL_RST_CPU (1u << 2)
/* PCI configuration mechanism #1 (PCI Local Bus Specification 3.0, 3.2.2.3.2). */
#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_CONFIG_ENABLE (1u << 31)

/* Each io_delay() takes about a microsecond on PC hardware. */
#define SCI_EN_WAIT_US 3000000u
#define SLEEP_WAIT_US 1000000u
#define RESET_WAIT_US 500000u

static void delay_us(unsigned us)
{
    while (us--)
        io_delay();
}

static uint64_t irq_save(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
    return flags;
}

static void irq_restore(uint64_t flags)
{
    __asm__ volatile("pushq %0; popfq" ::"r"(flags) : "memory", "cc");
}

static bool is_port(uint64_t a)
{
    return a != 0 && a <= 0xffff;
}

/* Firmware starts in legacy mode on some boards; SLP_EN is only honoured in ACPI mode. */
static void acpi_enable_mode(const struct acpi_info *a)
{
    uint16_t pm1a = (uint16_t)a->pm1a_cnt;
    if ((inw(pm1a) & ACPI_PM1_CNT_SCI_EN) || !is_port(a->smi_cmd) || a->acpi_enable == 0)
        return;
    outb((uint16_t)a->smi_cmd, a->acpi_enable);
    for (unsigned i = 0; i < SCI_EN_WAIT_US && !(inw(pm1a) & ACPI_PM1_CNT_SCI_EN); i++)
        io_delay();
}

static void acpi_sleep_write(uint16_t port, uint8_t slp_typ)
{
    uint16_t v = inw(port) & (uint16_t) ~(ACPI_PM1_CNT_SLP_TYP_MASK | ACPI_PM1_CNT_SLP_EN);
    v |= (uint16_t)(((slp_typ & 7u) << ACPI_PM1_CNT_SLP_TYP_SHIFT) | ACPI_PM1_CNT_SLP_EN);
    outw(port, v);
}

static void acpi_poweroff(void)
{
    const struct acpi_info *a = acpi_get();
    if (!a->present || !a->s5_valid || !is_port(a->pm1a_cnt))
        return;
    acpi_enable_mode(a);
    acpi_sleep_write((uint16_t)a->pm1a_cnt, a->slp_typa);
    if (is_port(a->pm1b_cnt))
        acpi_sleep_write((uint16_t)a->pm1b_cnt, a->slp_typb);
    delay_us(SLEEP_WAIT_US);
}

void arch_poweroff(void)
{
    uint64_t flags = irq_save();
    acpi_poweroff();
    for (const char *s = "Shutdown"; *s; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    delay_us(SLEEP_WAIT_US);
    irq_restore(flags);
}

static void acpi_reset(void)
{
    const struct acpi_info *a = acpi_get();
    if (!a->present || !a->reset_valid)
        return;
    switch (a->reset_space) {
    case ACPI_GAS_SYSTEM_IO:
        if (is_port(a->reset_addr))
            outb((uint16_t)a->reset_addr, a->reset_value);
        break;
    case ACPI_GAS_SYSTEM_MEMORY: {
        volatile uint8_t *r = paging_map_mmio(a->reset_addr, 1);
        if (r)
            *r = a->reset_value;
        break;
    }
    case ACPI_GAS_PCI_CONFIG: {
        /* Bus 0; the address holds device (bits 47:32), function (31:16), offset (15:0). */
        uint32_t dev = (uint32_t)(a->reset_addr >> 32) & 0x1f;
        uint32_t fn = (uint32_t)(a->reset_addr >> 16) & 0x7;
        uint32_t off = (uint32_t)a->reset_addr & 0xff;
        outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | dev << 11 | fn << 8 | (off & 0xfc));
        outb((uint16_t)(PCI_CONFIG_DATA + (off & 3)), a->reset_value);
        break;
    }
    default: return;
    }
    delay_us(RESET_WAIT_US);
}

/* A full hard reset. Ahead of the keyboard controller on purpose: its reset is only a CPU
 * (soft) reset, which leaves IA32_FEATURE_CONTROL locked, and the Bochs BIOS then faults
 * writing it on the way back up. */
static void chipset_reset(void)
{
    outb(RESET_CONTROL_PORT, RESET_CONTROL_SYS_RST);
    outb(RESET_CONTROL_PORT, RESET_CONTROL_SYS_RST | RESET_CONTROL_RST_CPU);
    delay_us(RESET_WAIT_US);
}

void arch_reboot(void)
{
    __asm__ volatile("cli");
    acpi_reset();
    chipset_reset();

    for (unsigned i = 0; i < RESET_WAIT_US && (inb(I8042_STATUS) & I8042_STATUS_IBF); i++)
        io_delay();
    outb(I8042_COMMAND, I8042_CMD_PULSE_RESET);
    delay_us(RESET_WAIT_US);

    /* An exception with an empty IDT is a triple fault, which resets the CPU. */
    static const struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) empty_idt = {0, 0};
    __asm__ volatile("lidt %0; int3" ::"m"(empty_idt));
    for (;;)
        __asm__ volatile("hlt");
}
