/*
 * platform: the PC odds and ends a simple kernel probes. Reads the PCI host bridge at 00:00.0
 * through configuration mechanism 1 (expects 8086:1237, class 06/00), an absent device
 * (00:1f.7 reads all ones), fw_cfg's signature ("QEMU") and RAM size (it must equal the RAM the
 * multiboot memory map implies, to the MiB), prints "platform: ok", then resets the machine: the
 * keyboard controller's pulse (0xFE to port 0x64), then after that reset the PIIX reset register
 * (6 to port 0xCF9, what the FADT names), then exits 0 ("platform: back after 2 resets"). The
 * stage is kept in CMOS RAM, which a reset does not clear, as on a PC (a VM that restarts
 * without its CMOS would loop). Reaching the line after a reset command is a failure. Exit 2
 * when a property fails.
 */
#include "guest.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
/* Two bytes of the CMOS's general-purpose RAM that PC firmware leaves alone. */
#define CMOS_MAGIC_REG 0x50
#define CMOS_STAGE_REG 0x51
#define CMOS_MAGIC 0xc5

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static uint32_t pci_read(unsigned dev, unsigned fn, unsigned reg)
{
    outl(PCI_ADDR, 0x80000000u | (dev << 11) | (fn << 8) | (reg & 0xfc));
    return inl(PCI_DATA);
}

static void fw_cfg_read(uint16_t item, uint8_t *buf, unsigned n)
{
    outw(FW_CFG_SEL, item);
    for (unsigned i = 0; i < n; i++)
        buf[i] = inb(FW_CFG_DATA);
}

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
    outb(CMOS_INDEX, reg);
    outb(CMOS_DATA, v);
}

static void spin(void)
{
    for (volatile int i = 0; i < 1000000; i++)
        ;
}

int guest_main(const struct multiboot_info *mbi)
{
    static const char *const known[] = {NULL};
    if (!cmdline_check_keys("platform", known))
        return GUEST_EXIT_CONFIG;
    int failed = 0;
    unsigned stage = cmos_read(CMOS_MAGIC_REG) == CMOS_MAGIC ? cmos_read(CMOS_STAGE_REG) : 0;
    if (stage == 1) {
        printf("platform: back after the keyboard-controller reset; resetting through 0xcf9\n");
        cmos_write(CMOS_STAGE_REG, 2);
        outb(0xcf9, 0x06);
        spin();
        printf("platform: FAILED: still running after writing 6 to 0xcf9\n");
        return GUEST_EXIT_FAIL;
    }
    if (stage == 2) {
        cmos_write(CMOS_MAGIC_REG, 0);
        printf("platform: back after 2 resets\n");
        return GUEST_EXIT_OK;
    }

    uint32_t id = pci_read(0, 0, 0x00);
    uint32_t cls = pci_read(0, 0, 0x08) >> 8;
    printf("platform: pci 00:00.0 id=%08x class=%06x\n", id, cls);
    if (id != 0x12378086u || (cls >> 8) != 0x0600) {
        printf("platform: FAILED: expected an i440FX host bridge 8086:1237 class 0600\n");
        failed = 1;
    }
    uint32_t absent = pci_read(0x1f, 7, 0x00);
    if (absent != 0xffffffffu) {
        printf("platform: FAILED: 00:1f.7 reads %08x, not all ones\n", absent);
        failed = 1;
    }

    uint8_t sig[4];
    fw_cfg_read(0x0000, sig, 4);
    uint8_t ram[8];
    fw_cfg_read(0x0003, ram, 8);
    uint64_t ram_bytes = 0;
    for (int i = 7; i >= 0; i--)
        ram_bytes = (ram_bytes << 8) | ram[i];
    printf("platform: fw_cfg signature=%c%c%c%c ram_mib=%u\n", sig[0], sig[1], sig[2], sig[3],
           (unsigned)(ram_bytes >> 20));
    if (sig[0] != 'Q' || sig[1] != 'E' || sig[2] != 'M' || sig[3] != 'U') {
        printf("platform: FAILED: fw_cfg signature\n");
        failed = 1;
    }
    /* mem_upper counts KiB above 1 MiB; firmware may keep a little at the top for itself. */
    uint64_t mb_ram = ram_end(mbi);
    if (ram_bytes < mb_ram || ram_bytes - mb_ram > (1u << 20)) {
        printf("platform: FAILED: fw_cfg RAM %u MiB, multiboot says %u MiB\n",
               (unsigned)(ram_bytes >> 20), (unsigned)(mb_ram >> 20));
        failed = 1;
    }
    if (failed)
        return GUEST_EXIT_FAIL;

    printf("platform: ok; resetting through the keyboard controller\n");
    cmos_write(CMOS_MAGIC_REG, CMOS_MAGIC);
    cmos_write(CMOS_STAGE_REG, 1);
    outb(0x64, 0xfe);
    spin();
    printf("platform: FAILED: still running after the reset command\n");
    return GUEST_EXIT_FAIL;
}
