/* The VM's timers and interrupt controller, advanced from the monitor loop: PIT channel 0 edges
 * raise IRQ 0 and RTC interrupts IRQ 8 on the 8259s, and the vector the PICs would hand the CPU
 * is injected. */
#pragma once

struct vm;

void vm_platform_poll(struct vm *vm);
