/*
 * The host side of guest FPU/SSE/AVX state (Intel SDM Vol. 1, chapter 13). civic itself never
 * uses FP or vector registers (-mgeneral-regs-only), so the registers always hold the state of
 * one vCPU (vcpu.c: state_owner) and are saved and restored only when another vCPU runs.
 *
 * XCR0 policy: civic enables x87, SSE and AVX, plus the three AVX-512 components when the host
 * has all of them (XCR0_CIVIC_MAX). Saves and restores use that full mask, whatever the guest's
 * own XCR0 is, so that state a guest reaches without XCR0 (SSE through FXSAVE-era instructions,
 * registers of components it has disabled) never leaks to another vCPU.
 */
#include "arch/x86/xsave.h"

#include "arch/x86/cpu.h"
#include "arch/x86/cr.h"
#include "kernel/log.h"
#include "kernel/string.h"

#define CPUID_XSAVE_LEAF 0xd

static uint64_t supported; /* 0: FXSAVE only */
static uint32_t area_size = XSAVE_LEGACY_SIZE;

void xsave_host_init(void)
{
    if (!cpu_get()->xsave)
        return;
    uint32_t a, b, c, d;
    cpuid(CPUID_XSAVE_LEAF, 0, &a, &b, &c, &d);
    uint64_t host = ((uint64_t)d << 32) | a;
    uint64_t mask = host & (XCR0_X87 | XCR0_SSE | XCR0_AVX);
    if ((host & XCR0_AVX512) == XCR0_AVX512 && (mask & XCR0_AVX))
        mask |= XCR0_AVX512;
    if (!(mask & XCR0_X87) || !(mask & XCR0_SSE))
        return; /* cannot happen on a CPU with XSAVE; FXSAVE then */
    write_cr4(read_cr4() | CR4_OSXSAVE);
    xsetbv(0, mask);
    cpuid(CPUID_XSAVE_LEAF, 0, &a, &b, &c, &d); /* EBX: the size for XCR0 as now enabled */
    supported = mask;
    area_size = b;
    log_info("xsave: XCR0 %#llx for guests (host supports %#llx), %u-byte state areas",
             (unsigned long long)mask, (unsigned long long)host, b);
}

uint64_t xsave_supported(void)
{
    return supported;
}

uint32_t xsave_area_size(void)
{
    return area_size;
}

void xsave_area_init(void *area)
{
    uint8_t *p = area;
    memset(p, 0, area_size);
    uint16_t fcw = FCW_INIT;
    uint32_t mxcsr = MXCSR_INIT;
    memcpy(p + XSAVE_OFF_FCW, &fcw, sizeof fcw);
    memcpy(p + XSAVE_OFF_MXCSR, &mxcsr, sizeof mxcsr);
}

void xsave_save(void *area)
{
    if (supported)
        __asm__ volatile("xsave64 (%0)" ::"r"(area), "a"((uint32_t)supported),
                         "d"((uint32_t)(supported >> 32))
                         : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

void xsave_restore(const void *area)
{
    if (supported)
        __asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"((uint32_t)supported),
                         "d"((uint32_t)(supported >> 32))
                         : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}
