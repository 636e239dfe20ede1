/* Multiboot2 header (Multiboot2 specification, section 3.1): magic, architecture 0 (i386
 * protected mode), header length, checksum, then tags ending with the end tag. */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386    0

    .section .multiboot2, "a"
    .balign 8
mb2_header_start:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header_start
    .long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header_start))

    /* Information request tag (type 1): we rely on these; GRUB fails the boot if it lacks one. */
    .balign 8
mb2_info_request:
    .short 1, 0
    .long mb2_info_request_end - mb2_info_request
    .long 1     /* boot command line */
    .long 6     /* memory map */
mb2_info_request_end:

    /* End tag. */
    .balign 8
    .short 0, 0
    .long 8
mb2_header_end:
