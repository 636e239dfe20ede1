/*
 * civic's options on the GRUB command line (`multiboot2 /boot/civic.elf OPTION...`), parsed in
 * one place: log=err|warn|info|debug (what reaches the console),
 * vm=NAME,MODULE[,mem=SIZE][,cpus=N][,local=SIZE][,replicas=N] (create and start a VM at boot;
 * may repeat), store=SIZE (memory lent to peers' pages, net/store.h), and the network's
 * net=dhcp|off, ip=A.B.C.D/N, gw=A.B.C.D (net/net_config.h parses those words).
 * Unknown or malformed options are reported and ignored, never fatal.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/error.h"
#include "net/net_config.h"

#define BOOT_VMS_MAX 8
#define BOOT_VM_CPUS_MAX 8 /* VM_MAX_VCPUS; the VM registry checks it again */

struct boot_vm {
    char name[32];
    char module[64];
    uint64_t mem_bytes;   /* 0: default */
    unsigned cpus;        /* 0: one */
    uint64_t local_bytes; /* guest memory kept in local frames, the rest evicted; 0: no limit */
    unsigned replicas;    /* peers holding each evicted page, 1 or 2; 0: default 1 */
};

struct boot_options {
    int console_log_level; /* -1: default */
    struct boot_vm vms[BOOT_VMS_MAX];
    unsigned vm_count;
    struct net_config net; /* DHCP unless the options say otherwise */
    uint64_t store_bytes;  /* store=SIZE: bytes lent to peers, a multiple of 4 KiB */
    bool has_store;
};

typedef void (*boot_option_warn_fn)(void *ctx, const char *msg);

/* Pure: parses a copy of the command line. Returns the number of problems reported. */
unsigned boot_options_parse(const char *cmdline, struct boot_options *out, boot_option_warn_fn warn,
                            void *ctx);
