/*
 * The kernel's GDT and 64-bit TSS (Intel SDM Vol. 3A, 3.4.5 segment descriptors, 7.7 task
 * management in 64-bit mode). The TSS exists only for its interrupt stack table: a double fault,
 * an NMI or a machine check always runs on a stack of its own, even when the kernel stack is
 * the thing that broke.
 */
#include "arch/x86/gdt.h"

#include <stdint.h>

#include "arch/x86/trap.h"

/* 64-bit TSS (SDM Vol. 3A, Figure 7-11). */
struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7]; /* ist[0] is IST1 */
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

struct gdt_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* Segment descriptor bits (SDM Vol. 3A, Figure 3-8). */
#define DESC_ACCESSED (1ull << 40)
#define DESC_RW (1ull << 41)
#define DESC_EXEC (1ull << 43)
#define DESC_S (1ull << 44) /* code or data, not system */
#define DESC_P (1ull << 47)
#define DESC_L (1ull << 53) /* 64-bit code */
#define DESC_DB (1ull << 54)
#define DESC_G (1ull << 55)
#define DESC_LIMIT_MAX (0xffffull | (0xfull << 48))
#define DESC_TYPE_TSS_AVAIL (0x9ull << 40) /* system type 1001b: 64-bit TSS (available) */

static struct tss64 tss;
static uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));

static uint64_t gdt[5] __attribute__((aligned(16)));

void gdt_ist_stack_range(unsigned ist, uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)ist_stacks[ist - 1];
    *hi = *lo + IST_STACK_SIZE;
}

void gdt_init(void)
{
    gdt[0] = 0;
    gdt[GDT_KERNEL_CS / 8] =
        DESC_LIMIT_MAX | DESC_ACCESSED | DESC_RW | DESC_EXEC | DESC_S | DESC_P | DESC_L | DESC_G;
    gdt[GDT_KERNEL_DS / 8] =
        DESC_LIMIT_MAX | DESC_ACCESSED | DESC_RW | DESC_S | DESC_P | DESC_DB | DESC_G;

    tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(uintptr_t)(ist_stacks[0] + IST_STACK_SIZE);
    tss.ist[IST_NMI - 1] = (uint64_t)(uintptr_t)(ist_stacks[1] + IST_STACK_SIZE);
    tss.ist[IST_MACHINE_CHECK - 1] = (uint64_t)(uintptr_t)(ist_stacks[2] + IST_STACK_SIZE);
    tss.iomap_base = sizeof tss; /* no I/O permission bitmap */

    /* The TSS descriptor takes two slots in 64-bit mode (SDM Vol. 3A, Figure 7-4). */
    uint64_t base = (uint64_t)(uintptr_t)&tss;
    uint64_t limit = sizeof tss - 1;
    gdt[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | DESC_TYPE_TSS_AVAIL | DESC_P |
                       (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[GDT_TSS / 8 + 1] = base >> 32;

    struct gdt_ptr ptr = {sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
    /* CS can only be reloaded by a far transfer: a far return to the next instruction. */
    __asm__ volatile("lgdt %0\n\t"
                     "mov %1, %%ds\n\t"
                     "mov %1, %%es\n\t"
                     "mov %1, %%ss\n\t"
                     "mov %2, %%fs\n\t"
                     "mov %2, %%gs\n\t"
                     "pushq %3\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "ltr %w4"
                     :
                     : "m"(ptr), "r"((uint16_t)GDT_KERNEL_DS), "r"((uint16_t)0), "i"(GDT_KERNEL_CS),
                       "r"((uint16_t)GDT_TSS)
                     : "rax", "memory");
}
