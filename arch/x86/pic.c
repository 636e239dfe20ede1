/* Remaps and masks the legacy 8259A PICs: the IOAPIC and LAPICs deliver every interrupt. */
#include "arch/x86/pic.h"

#include <stdint.h>

#include "arch/x86/idt.h"
#include "arch/x86/io.h"
#include "arch/x86/time.h"

void pic_disable(void)
{
    /* ICW1-ICW4: edge triggered, cascaded, vectors from VEC_PIC_BASE, 8086 mode. Even masked,
     * a stray or spurious line must land on a vector that cannot be an exception. */
    outb(PIC1_CMD, PIC_ICW1_INIT | PIC_ICW1_ICW4);
    io_delay();
    outb(PIC2_CMD, PIC_ICW1_INIT | PIC_ICW1_ICW4);
    io_delay();
    outb(PIC1_DATA, VEC_PIC_BASE);
    io_delay();
    outb(PIC2_DATA, VEC_PIC_BASE + 8);
    io_delay();
    outb(PIC1_DATA, 1u << PIC_CASCADE_LINE); /* master: slave on line 2 */
    io_delay();
    outb(PIC2_DATA, PIC_CASCADE_LINE); /* slave: its cascade identity */
    io_delay();
    outb(PIC1_DATA, PIC_ICW4_8086);
    io_delay();
    outb(PIC2_DATA, PIC_ICW4_8086);
    io_delay();
    /* OCW1: mask every line. */
    outb(PIC1_DATA, 0xff);
    outb(PIC2_DATA, 0xff);
}

static uint8_t pic_isr(uint16_t cmd_port)
{
    outb(cmd_port, PIC_OCW3_READ_ISR);
    return inb(cmd_port);
}

void pic_ack(unsigned line)
{
    if (line >= 16)
        return;
    if (line == 7 && !(pic_isr(PIC1_CMD) & 0x80))
        return; /* spurious on the master */
    if (line == 15 && !(pic_isr(PIC2_CMD) & 0x80)) {
        outb(PIC1_CMD, PIC_OCW2_EOI); /* the master did see its cascade line */
        return;
    }
    if (line >= 8)
        outb(PIC2_CMD, PIC_OCW2_EOI);
    outb(PIC1_CMD, PIC_OCW2_EOI);
}
