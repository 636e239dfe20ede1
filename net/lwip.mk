# lwIP 2.1.3, the upstream source from Debian's `lwip` source package, fetched by
# net/fetch-lwip.sh into the ignored cache (.cache/lwip/, never into the tree) and compiled
# freestanding with civic's port files: net/lwipopts.h, net/arch/cc.h, net/sys_arch.c.
# Included by the root Makefile right after KERNEL_OBJS is defined.

# Included before the root Makefile's first target: none of the rules here may become the
# default goal.
LWIP_SAVED_GOAL := $(.DEFAULT_GOAL)

LWIP_CACHE := .cache/lwip
LWIP_DIR := $(LWIP_CACHE)/lwip-2.1.3
LWIP_STAMP := $(LWIP_DIR)/.civic-verified

# IPv4 only: core, the IPv4 protocols with DHCP and ARP, Ethernet. No apps, no IPv6, no DNS.
LWIP_SRCS := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
    core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
    core/tcp_out.c core/timeouts.c core/udp.c \
    core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c core/ipv4/ip4_addr.c \
    core/ipv4/ip4_frag.c netif/ethernet.c
LWIP_OBJS := $(patsubst %.c,$(BUILD)/lwip/%.c.o,$(LWIP_SRCS))

# lwIP's own files get the kernel's code-generation flags but not civic's warning set, and no
# headers but the compiler's freestanding ones and civic's few in net/include.
LWIP_INCLUDES := -Inet -Inet/include -isystem $(LWIP_DIR)/src/include
LWIP_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
    -mno-red-zone -mgeneral-regs-only -mno-mmx -mno-sse -mno-sse2 -fno-stack-protector \
    -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-common -fno-strict-aliasing \
    -nostdinc $(LWIP_INCLUDES) -isystem $(shell $(CC) -print-file-name=include) \
    -MMD -MP

$(LWIP_STAMP):
	@net/fetch-lwip.sh $(LWIP_CACHE)

# The sources appear with the stamp.
$(addprefix $(LWIP_DIR)/src/,$(LWIP_SRCS)): | $(LWIP_STAMP)

$(BUILD)/lwip/%.c.o: $(LWIP_DIR)/src/%.c net/lwipopts.h net/arch/cc.h | $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      lwip/$*.c")
	$(Q)$(CC) $(LWIP_CFLAGS) -c $< -o $@

# civic's own net/ files include lwIP's headers (with civic's warnings: -isystem keeps lwIP's
# headers out of them).
LWIP_GLUE_OBJS := $(patsubst %.c,$(BUILD)/kernel/%.c.o,$(wildcard net/*.c))
$(LWIP_GLUE_OBJS): KERNEL_CFLAGS += -Inet -isystem $(LWIP_DIR)/src/include
$(LWIP_GLUE_OBJS): | $(LWIP_STAMP)

KERNEL_OBJS += $(LWIP_OBJS)

.PHONY: lwip-fetch
lwip-fetch: $(LWIP_STAMP)

.DEFAULT_GOAL := $(LWIP_SAVED_GOAL)
