/*
 * XSAVE-managed processor state (Intel SDM Vol. 1, chapter 13): the XCR0 state components, the
 * rules XSETBV enforces on XCR0 (Vol. 1, 13.3; Vol. 2D, XSETBV), and the host side of switching
 * guest FPU/SSE/AVX state (xsave.c). Without XSAVE on the host, FXSAVE/FXRSTOR are used.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* XCR0 bits: state components (Vol. 1, 13.1). */
#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2) /* YMM_Hi128 */
#define XCR0_BNDREGS (1ull << 3)
#define XCR0_BNDCSR (1ull << 4)
#define XCR0_OPMASK (1ull << 5)
#define XCR0_ZMM_HI256 (1ull << 6)
#define XCR0_HI16_ZMM (1ull << 7)
#define XCR0_PKRU (1ull << 9)
#define XCR0_AVX512 (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)
/* The components civic can switch between vCPUs: MPX, PKRU and AMX are left out (their
 * instructions and control registers are hidden from guests). */
#define XCR0_CIVIC_MAX (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512)

/* The legacy region and the XSAVE header (Vol. 1, 13.4): FCW at 0, MXCSR at 24, XSTATE_BV at
 * 512, XCOMP_BV at 520; the extended components follow at offsets CPUID.0DH reports. */
#define XSAVE_LEGACY_SIZE 512
#define XSAVE_HEADER_SIZE 64
#define XSAVE_OFF_FCW 0
#define XSAVE_OFF_MXCSR 24
#define XSAVE_OFF_XSTATE_BV 512
#define FCW_INIT 0x037f   /* FINIT (Vol. 1, 8.1.5) */
#define MXCSR_INIT 0x1f80 /* all exceptions masked (Vol. 1, 10.2.3.1) */

/* Whether XSETBV may load `value` into XCR0 when civic supports `supported` (a valid XCR0
 * itself): bit 0 set, nothing unsupported, AVX only with SSE, the three AVX-512 components all
 * or none and only with AVX, BNDREGS and BNDCSR together (Vol. 1, 13.3). Pure. */
static inline bool xcr0_valid(uint64_t value, uint64_t supported)
{
    if (!(value & XCR0_X87) || (value & ~supported))
        return false;
    if ((value & XCR0_AVX) && !(value & XCR0_SSE))
        return false;
    uint64_t avx512 = value & XCR0_AVX512;
    if (avx512 && (avx512 != XCR0_AVX512 || !(value & XCR0_AVX)))
        return false;
    uint64_t mpx = value & (XCR0_BNDREGS | XCR0_BNDCSR);
    return mpx == 0 || mpx == (XCR0_BNDREGS | XCR0_BNDCSR);
}

#ifndef CIVIC_HOST_TEST
/* Sets CR4.OSXSAVE and XCR0 = the components civic switches, when the host has XSAVE (called
 * once VMX is on, before any VMCS takes the host CR4). Idempotent. */
void xsave_host_init(void);
/* Civic's XCR0 mask (0 without XSAVE: FXSAVE is used) and the bytes a vCPU's state area needs
 * (512 with FXSAVE). */
uint64_t xsave_supported(void);
uint32_t xsave_area_size(void);
/* Fills an area (zeroed, 64-byte aligned) with the INIT state: x87 after FINIT, MXCSR 1F80H,
 * every other register 0; XSTATE_BV = 0, so XRSTOR initialises every component. */
void xsave_area_init(void *area);
/* Saves the current register state into area, restores it from area. Under civic's full mask,
 * so XCR0 must equal xsave_supported() around them (vcpu.c switches it). */
void xsave_save(void *area);
void xsave_restore(const void *area);

static inline void xsetbv(uint32_t index, uint64_t value)
{
    __asm__ volatile("xsetbv" ::"c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}
#endif
