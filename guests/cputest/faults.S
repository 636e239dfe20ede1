/*
 * The #PF gate for the pf check: unlike the runtime's catch, which skips the faulting
 * instruction, this returns to it so the access is retried after pf_handle mapped the page.
 * Frame on entry: error code, EIP, CS, EFLAGS (Intel SDM Vol. 3 6.12.1, figure 6-4).
 */
    .section .text
    .code32
    .globl pf_stub
pf_stub:
    pushal
    pushl 36(%esp)              /* pf_handle(error, cr2, eip): EIP, above pushal and the error */
    movl %cr2, %eax
    pushl %eax
    pushl 40(%esp)              /* the error code, 8 bytes further down now */
    call pf_handle
    addl $12, %esp
    popal
    addl $4, %esp               /* the error code */
    iretl

    .section .note.GNU-stack, "", @progbits
