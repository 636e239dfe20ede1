/* 16550 UART driver for the management console (COM1, 115200 8N1). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define SERIAL_COM1 0x3f8

void serial_init(uint16_t port);
bool serial_present(void);
void serial_putc(char c);
/* The next received byte, or -1 if none is waiting. */
int serial_getc(void);
/* Receive interrupt: drains the UART FIFO into the input ring. */
void serial_irq(void);
/* Input bytes lost because the ring was full (0 in normal operation). */
uint64_t serial_rx_overruns(void);
