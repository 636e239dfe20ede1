/* The two 8259A PICs (8259A datasheet; PC/AT wiring: slave on master line 2). civic keeps them
 * remapped to VEC_PIC_BASE and masked; only pic_disable() (arch/x86/time.h) and the stray-line
 * acknowledgement below are needed. */
#pragma once

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

#define PIC_ICW1_ICW4 0x01 /* ICW4 follows */
#define PIC_ICW1_INIT 0x10
#define PIC_ICW4_8086 0x01
#define PIC_OCW2_EOI 0x20 /* non-specific EOI */
#define PIC_OCW3_READ_ISR 0x0b
#define PIC_CASCADE_LINE 2

/* Acknowledges a line (0-15) that was delivered through the masked PICs: an EOI unless it was
 * a spurious IRQ 7 / 15 (in-service bit clear), which must not get one from its own PIC. */
void pic_ack(unsigned line);
