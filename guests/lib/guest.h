/*
 * The guests' freestanding runtime: a Multiboot v1 entry, a polled 16550 on COM1, printf, the
 * key=value command line, exit through QEMU's isa-debug-exit port and a minimal IDT. The guests
 * know nothing of the hypervisor that runs them; everything here works on a plain PC or QEMU.
 */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "multiboot.h"

/* Exit codes shared by the guests (the observer sees (code << 1) | 1). */
#define GUEST_EXIT_OK 0
#define GUEST_EXIT_FAIL 2      /* the property under test does not hold */
#define GUEST_EXIT_CONFIG 3    /* bad command line, not enough memory, not started by multiboot */
#define GUEST_EXIT_EXCEPTION 4 /* an exception nobody expected */

#define ISA_DEBUG_EXIT_PORT 0xf4

/* Each guest defines this; its return value is the exit code. */
int guest_main(const struct multiboot_info *mbi);

/* Port I/O. */
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

/* Serial (COM1, polled). serial_init runs before guest_main. */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
/* A received byte, or -1 when none is waiting (LSR data ready clear). */
int serial_getc_nowait(void);

/* printf subset: %d %i %u %x %X %s %c %p %%, flags '0' '-', a width, length l / ll / z. */
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Ends the guest: writes code to the isa-debug-exit port, then halts forever if that did nothing.
 */
__attribute__((noreturn)) void guest_exit(unsigned code);

/*
 * Command line: words "key=value" separated by spaces; words without '=' (the image path GRUB
 * and QEMU put first) are ignored. Empty when the loader passed none (flags bit 2 clear).
 */
const char *cmdline(void);
/* Copies the value of key into buf; false if the key is absent (or the value does not fit). */
bool cmdline_get(const char *key, char *buf, size_t size);
/*
 * Unsigned number (decimal or 0x hex) for key, *out = def when absent. False, after printing
 * "<who>: bad value for key: '...'", when present but malformed.
 */
bool cmdline_uint(const char *who, const char *key, uint64_t def, uint64_t *out);
/* False, after printing "<who>: unknown argument '...'", when a key is not in the NULL-ended list.
 */
bool cmdline_check_keys(const char *who, const char *const *known);

/* End of RAM that starts at 1 MiB, from mem_upper (0 when the loader gave no memory info). */
uint64_t ram_end(const struct multiboot_info *mbi);

/*
 * Exceptions. idt_init installs gates for vectors 0..31; an exception prints
 * "guest: unexpected exception ..." and exits GUEST_EXIT_EXCEPTION unless it was expected:
 * trap_expect(len) arms a one-shot catch (the next exception is recorded and the faulting
 * instruction, len bytes, skipped); trap_caught() disarms and returns the vector, or -1.
 */
void idt_init(void);
void trap_expect(unsigned insn_len);
int trap_caught(void);
uint32_t trap_error_code(void);
const char *trap_name(int vector); /* "#UD", "#GP", ... or "none" for -1 */
/*
 * Interrupts 32..255 (gates installed by idt_init): fn(vector) runs with interrupts off, and the
 * guest resumes where it was interrupted. An interrupt with no handler prints
 * "guest: unexpected interrupt vector 0x.." and exits GUEST_EXIT_EXCEPTION.
 */
typedef void (*irq_handler_fn)(unsigned vector);
void irq_set_handler(unsigned vector, irq_handler_fn fn);

/* Small helpers. */
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
