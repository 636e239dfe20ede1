/* The escape guest's shared pieces: the verdict lists, the report line and the memory probes
 * (escape.c), used by the sweeps in escape_sweep.c. */
#pragma once
#include "guest.h"

#define ESCAPE_LIST_LEN 512
#define VEC_UD 6
#define VEC_GP 13
#define ALL_ONES 0xffffffffu

extern bool expect_qemu;
/* Space-separated names of the tests that escaped or found the platform broken. */
extern char escaped[ESCAPE_LIST_LEN], broken[ESCAPE_LIST_LEN];
void add(char *list, const char *test);
/* Prints "escape: <test>: <result>". */
void report(const char *test, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One `mov (%eax),%edx` / `mov %edx,(%eax)`; *vec gets the exception it raised, or -1. */
uint32_t probe_read(uint32_t addr, int *vec);
void probe_write(uint32_t addr, uint32_t v, int *vec);

/* The sweeps (escape_sweep.c), one or two stages each. */
void test_mem_sweep(uint32_t ram_end);
void test_msr_sweep(void);
void test_apic_pages(void);
void test_port_sweep(void);
