#include "arch/x86/exc_decode.h"

#include "kernel/format.h"

struct exc_desc {
    const char *mnemonic;
    const char *name;
};

/* SDM Vol. 3A, Table 6-1; 29 and 30 are AMD's (APM Vol. 2, 8.2). */
static const struct exc_desc exceptions[32] = {
    [0] = {"#DE", "Divide Error"},
    [1] = {"#DB", "Debug Exception"},
    [2] = {"NMI", "Nonmaskable Interrupt"},
    [3] = {"#BP", "Breakpoint"},
    [4] = {"#OF", "Overflow"},
    [5] = {"#BR", "BOUND Range Exceeded"},
    [6] = {"#UD", "Invalid Opcode"},
    [7] = {"#NM", "Device Not Available"},
    [8] = {"#DF", "Double Fault"},
    [9] = {"CSO", "Coprocessor Segment Overrun"}, /* the SDM gives no mnemonic */
    [10] = {"#TS", "Invalid TSS"},
    [11] = {"#NP", "Segment Not Present"},
    [12] = {"#SS", "Stack-Segment Fault"},
    [13] = {"#GP", "General Protection"},
    [14] = {"#PF", "Page Fault"},
    [16] = {"#MF", "x87 FPU Floating-Point Error"},
    [17] = {"#AC", "Alignment Check"},
    [18] = {"#MC", "Machine Check"},
    [19] = {"#XM", "SIMD Floating-Point Exception"},
    [20] = {"#VE", "Virtualization Exception"},
    [21] = {"#CP", "Control Protection Exception"},
    [28] = {"#HV", "Hypervisor Injection Exception"},
    [29] = {"#VC", "VMM Communication Exception"},
    [30] = {"#SX", "Security Exception"},
};

const char *exc_mnemonic(unsigned vector)
{
    if (vector < 32 && exceptions[vector].mnemonic)
        return exceptions[vector].mnemonic;
    return "#??";
}

const char *exc_name(unsigned vector)
{
    if (vector < 32 && exceptions[vector].name)
        return exceptions[vector].name;
    return "Reserved";
}

bool exc_has_error_code(unsigned vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
           vector == 29 || vector == 30;
}

int exc_describe_error(unsigned vector, uint64_t err, char *buf, size_t size)
{
    if (size > 0)
        buf[0] = '\0';
    if (!exc_has_error_code(vector))
        return 0;
    if (vector == 14) {
        return ksnprintf(
            buf, size, "%s, %s, %s%s%s%s%s%s",
            (err & PF_ERR_P) ? "protection violation" : "page not present",
            (err & PF_ERR_I) ? "instruction fetch" : ((err & PF_ERR_W) ? "write" : "read"),
            (err & PF_ERR_U) ? "user mode" : "supervisor mode",
            (err & PF_ERR_RSVD) ? ", reserved bit set" : "",
            (err & PF_ERR_PK) ? ", protection key" : "", (err & PF_ERR_SS) ? ", shadow stack" : "",
            (err & PF_ERR_HLAT) ? ", HLAT" : "", (err & PF_ERR_SGX) ? ", SGX" : "");
    }
    if (vector >= 10 && vector <= 13) {
        if (err == 0)
            return ksnprintf(buf, size, "no selector");
        const char *table = (err & SEL_ERR_IDT) ? "IDT" : ((err & SEL_ERR_TI) ? "LDT" : "GDT");
        return ksnprintf(buf, size, "%s index %llu (selector %#llx)%s", table,
                         (unsigned long long)((err & 0xffff) >> 3),
                         (unsigned long long)(err & 0xfff8),
                         (err & SEL_ERR_EXT) ? ", external event" : "");
    }
    return 0;
}
