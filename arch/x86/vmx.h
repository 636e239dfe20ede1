/*
 * VMX instructions (Intel SDM Vol. 3C, chapter 31; Vol. 2C "VMX Instruction Reference") and the
 * per-CPU VMX state. Internal to arch/x86: kernel/ uses kernel/arch_vmx.h.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/vmcs.h"
#include "kernel/error.h"

/* Reports a failed VMREAD/VMWRITE (a civic bug: an unsupported field or no current VMCS). */
void vmx_field_error(const char *insn, uint32_t field, uint64_t value);

static inline uint64_t vmcs_read(enum vmcs_field field)
{
    uint64_t value = 0;
    uint8_t fail;
    __asm__ volatile("vmread %2, %0\n\tsetna %1"
                     : "=r"(value), "=qm"(fail)
                     : "r"((uint64_t)field)
                     : "cc");
    if (fail)
        vmx_field_error("vmread", field, 0);
    return value;
}

static inline uint32_t vmcs_read32(enum vmcs_field field)
{
    return (uint32_t)vmcs_read(field);
}

static inline void vmcs_write(enum vmcs_field field, uint64_t value)
{
    uint8_t fail;
    __asm__ volatile("vmwrite %1, %2\n\tsetna %0"
                     : "=qm"(fail)
                     : "rm"(value), "r"((uint64_t)field)
                     : "cc", "memory");
    if (fail)
        vmx_field_error("vmwrite", field, value);
}

/* VMCLEAR / VMPTRLD of the VMCS at a physical address. CIVIC_EIO on VMfail (logged). */
civic_err vmx_vmclear(uint64_t vmcs_phys);
civic_err vmx_vmptrld(uint64_t vmcs_phys);
/* INVEPT / INVVPID (types in vmcs.h). CIVIC_EIO on VMfail (logged). */
civic_err vmx_invept(unsigned type, uint64_t eptp);
civic_err vmx_invvpid(unsigned type, uint16_t vpid, uint64_t linear);
/* The SDM's meaning of a VM-instruction error number (Vol. 3C, 31.4). */
const char *vmx_instruction_error_name(uint32_t error);

/* Shared by every VMCS: trap-all I/O bitmaps A and B and the MSR bitmap (vmcs_setup.c). Valid
 * after arch_vmx_enable(). */
uint64_t vmx_io_bitmap_a_phys(void);
uint64_t vmx_io_bitmap_b_phys(void);
uint64_t vmx_msr_bitmap_phys(void);
civic_err vmx_bitmaps_init(void);
/* Whether the CPU has the "monitor trap flag" control (known after the first vmcs_setup()). */
bool vmx_has_monitor_trap_flag(void);
