/*
 * `vm console NAME`: the operator's terminal talks to a guest's UART both ways until Ctrl-]
 * detaches. While attached, console input goes to the guest instead of the shell.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct vm;

#define CONSOLE_DETACH_KEY 0x1d /* Ctrl-] */

void console_attach(struct vm *vm);
bool console_attached(void);
/* Feeds one input byte to the attached guest; returns false if the guest's receive FIFO is full
 * (the caller keeps the byte and offers it again later). Ctrl-] detaches. */
bool console_attach_input(uint8_t byte);
/* A byte the guest sent: echoed to the terminal when that VM is attached. */
void console_attach_guest_output(struct vm *vm, uint8_t byte);
/* The VM goes away: detach if it is the attached one. */
void console_attach_forget(struct vm *vm);
