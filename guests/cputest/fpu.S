/*
 * x87 / SSE / AVX register access for the fpu check (cdecl, 32-bit). The pattern lives in
 * st0-st5 and xmm0-xmm5 (ymm0-ymm5 with AVX), plus FCW and MXCSR; fpu_work computes only in
 * st6-st7 and xmm6-xmm7 (ymm6-ymm7), so it exercises the units without touching the pattern.
 *
 *   void fpu_load(const struct fpu_state *s, int avx)
 *   void fpu_save(struct fpu_state *s, int avx)     pops the x87 stack
 *   void fpu_work(uint32_t n, uint32_t out[13], int avx)
 *       out[0] = n (x87: n times fld1; faddp), out[1..4] = n * {1,2,3,4} (paddd),
 *       out[5..12] = n * {1..8} (AVX vaddps, converted back to integers), when avx
 */
/* struct fpu_state (cputest/fpu.c) */
#define FS_X87 0
#define FS_YMM 64 /* 32 bytes per register */
#define FS_MXCSR 256
#define FS_FCW 260

    .section .text
    .code32

    .globl fpu_load
fpu_load:
    movl 4(%esp), %eax
    movl 8(%esp), %ecx
    fninit
    fldcw FS_FCW(%eax)
    fildll FS_X87+40(%eax)          /* loaded last is st0: st(i) = x87[i] */
    fildll FS_X87+32(%eax)
    fildll FS_X87+24(%eax)
    fildll FS_X87+16(%eax)
    fildll FS_X87+8(%eax)
    fildll FS_X87(%eax)
    ldmxcsr FS_MXCSR(%eax)
    testl %ecx, %ecx
    jz 1f
    vmovdqu FS_YMM(%eax), %ymm0
    vmovdqu FS_YMM+32(%eax), %ymm1
    vmovdqu FS_YMM+64(%eax), %ymm2
    vmovdqu FS_YMM+96(%eax), %ymm3
    vmovdqu FS_YMM+128(%eax), %ymm4
    vmovdqu FS_YMM+160(%eax), %ymm5
    ret
1:  movdqu FS_YMM(%eax), %xmm0
    movdqu FS_YMM+32(%eax), %xmm1
    movdqu FS_YMM+64(%eax), %xmm2
    movdqu FS_YMM+96(%eax), %xmm3
    movdqu FS_YMM+128(%eax), %xmm4
    movdqu FS_YMM+160(%eax), %xmm5
    ret

    .globl fpu_save
fpu_save:
    movl 4(%esp), %eax
    movl 8(%esp), %ecx
    fistpll FS_X87(%eax)
    fistpll FS_X87+8(%eax)
    fistpll FS_X87+16(%eax)
    fistpll FS_X87+24(%eax)
    fistpll FS_X87+32(%eax)
    fistpll FS_X87+40(%eax)
    movl $0, FS_FCW(%eax)
    fnstcw FS_FCW(%eax)
    stmxcsr FS_MXCSR(%eax)
    testl %ecx, %ecx
    jz 1f
    vmovdqu %ymm0, FS_YMM(%eax)
    vmovdqu %ymm1, FS_YMM+32(%eax)
    vmovdqu %ymm2, FS_YMM+64(%eax)
    vmovdqu %ymm3, FS_YMM+96(%eax)
    vmovdqu %ymm4, FS_YMM+128(%eax)
    vmovdqu %ymm5, FS_YMM+160(%eax)
    ret
1:  movdqu %xmm0, FS_YMM(%eax)
    movdqu %xmm1, FS_YMM+32(%eax)
    movdqu %xmm2, FS_YMM+64(%eax)
    movdqu %xmm3, FS_YMM+96(%eax)
    movdqu %xmm4, FS_YMM+128(%eax)
    movdqu %xmm5, FS_YMM+160(%eax)
    ret

    .globl fpu_work
fpu_work:
    movl 4(%esp), %ecx
    movl 8(%esp), %edx
    fldz
    pxor %xmm6, %xmm6
    movdqu work_ints, %xmm7
    testl %ecx, %ecx
    jz 2f
1:  fld1
    faddp                           /* st0 += 1, st0 being the 7th register */
    paddd %xmm7, %xmm6
    decl %ecx
    jnz 1b
2:  fistpl (%edx)
    movdqu %xmm6, 4(%edx)
    cmpl $0, 12(%esp)
    je 4f
    movl 4(%esp), %ecx
    vxorps %ymm6, %ymm6, %ymm6
    vmovups work_floats, %ymm7
    testl %ecx, %ecx
    jz 3f
5:  vaddps %ymm7, %ymm6, %ymm6
    decl %ecx
    jnz 5b
3:  vcvttps2dq %ymm6, %ymm6
    vmovdqu %ymm6, 20(%edx)
4:  ret

    .section .rodata
    .balign 32
work_ints:
    .long 1, 2, 3, 4
work_floats:
    .float 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0

    .section .note.GNU-stack, "", @progbits
