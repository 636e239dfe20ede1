/* Names and error-code decoding for the architectural exceptions (Intel SDM Vol. 3A, 6.3 and
 * 6.15). Pure, so the fault dump's wording is unit-tested on the host. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Page-fault error code bits (SDM Vol. 3A, Figure 4-12). */
#define PF_ERR_P (1u << 0)    /* 0: not present; 1: protection violation */
#define PF_ERR_W (1u << 1)    /* write access */
#define PF_ERR_U (1u << 2)    /* user-mode access */
#define PF_ERR_RSVD (1u << 3) /* reserved bit set in a paging-structure entry */
#define PF_ERR_I (1u << 4)    /* instruction fetch */
#define PF_ERR_PK (1u << 5)   /* protection key */
#define PF_ERR_SS (1u << 6)   /* shadow-stack access */
#define PF_ERR_HLAT (1u << 7)
#define PF_ERR_SGX (1u << 15)

/* Selector error code bits (SDM Vol. 3A, Figure 6-7). */
#define SEL_ERR_EXT (1u << 0)
#define SEL_ERR_IDT (1u << 1)
#define SEL_ERR_TI (1u << 2)

/* "#PF", "NMI", ... ("#??" for reserved vectors); vector < 32. */
const char *exc_mnemonic(unsigned vector);
/* "Page Fault", ...; vector < 32. */
const char *exc_name(unsigned vector);
/* Whether the CPU pushes an error code for this vector. */
bool exc_has_error_code(unsigned vector);
/* Describes the error code in words into buf (always NUL-terminated); empty when the vector has
 * no error code. Returns the untruncated length. */
int exc_describe_error(unsigned vector, uint64_t err, char *buf, size_t size);
