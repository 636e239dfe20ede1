#include "kernel/console.h"
#include "kernel/serial.h"
#include <stdint.h>
#include "kernel/arch.h"

void kmain(uint32_t magic, uint32_t mbi_phys);
uint64_t arch_time_ns(void) { return 0; }

void kmain(uint32_t magic, uint32_t mbi_phys)
{
    serial_init(SERIAL_COM1);
    kprintf("civic: hello magic=%#x mbi=%#x\n", magic, mbi_phys);
    kprintf("Shutdown");
    const char *s = "Shutdown";
    while (*s) __asm__ volatile("outb %0, %1" :: "a"(*s++), "Nd"((uint16_t)0x8900));
    for (;;) __asm__ volatile("cli; hlt");
}
