# Test guests (guests/README.md): freestanding 32-bit Multiboot v1 kernels and one flat real-mode
# binary, knowing nothing of civic. Included by the root Makefile; builds into $(BUILD)/guests/.
#
#   GUEST_ELFS  the multiboot ELF guests      GUEST_BINS  the flat binaries
#   make guests                               make test-guests-qemu (each guest under plain QEMU)

GUEST_CC ?= $(CC)
GUEST_NAMES := hello memtest kvstore spin escape bench_exits irqtest pittest platform rtctest cputest smp
GUEST_CFLAGS := -m32 -march=i686 -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie \
    -fno-stack-protector -fno-asynchronous-unwind-tables \
    -nostdlib -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
    -Wno-unused-parameter -Iguests/lib -MMD -MP
GUEST_ASFLAGS := -m32 -fno-pic -fno-pie -Iguests/lib -MMD -MP
GUEST_LDFLAGS := -m32 -nostdlib -static -Wl,-m,elf_i386 -Wl,--build-id=none \
    -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
    -T guests/linker.ld

GUEST_LIB_SRCS := $(wildcard guests/lib/*.c guests/lib/*.S)
GUEST_LIB_OBJS := $(patsubst guests/%,$(BUILD)/guests/obj/%.o,$(GUEST_LIB_SRCS))
GUEST_ELFS := $(patsubst %,$(BUILD)/guests/%.elf,$(GUEST_NAMES))
GUEST_FLAT_NAMES := realmode triple
GUEST_BINS := $(patsubst %,$(BUILD)/guests/%.bin,$(GUEST_FLAT_NAMES))
# A multiboot guest is every .c and .S file in guests/NAME/.
guest_objs = $(patsubst guests/%,$(BUILD)/guests/obj/%.o,$(wildcard guests/$(1)/*.c guests/$(1)/*.S))
GUEST_OBJS := $(GUEST_LIB_OBJS) $(foreach g,$(GUEST_NAMES),$(call guest_objs,$(g))) \
    $(patsubst %,$(BUILD)/guests/obj/%/%.S.o,$(GUEST_FLAT_NAMES))

.PHONY: guests test-guests-qemu
guests: $(GUEST_ELFS) $(GUEST_BINS)

$(BUILD)/guests/obj/%.c.o: guests/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/obj/%.S.o: guests/%.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(GUEST_CC) $(GUEST_ASFLAGS) -c $< -o $@

# Each guest is guests/NAME/*.c and *.S linked with the runtime.
define GUEST_ELF_RULE
$(BUILD)/guests/$(1).elf: $(call guest_objs,$(1)) $(GUEST_LIB_OBJS) guests/linker.ld
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(GUEST_CC) $$(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^)
endef
$(foreach g,$(GUEST_NAMES),$(eval $(call GUEST_ELF_RULE,$(g))))

# The flat real-mode guests (guests/NAME/NAME.S) are position independent 16-bit code: the raw
# bytes of .text, padded to a 512-byte boot sector (signature 0x55 0xaa) so that a PC BIOS can
# start them too.
define GUEST_BIN_RULE
$(BUILD)/guests/$(1).bin: $(BUILD)/guests/obj/$(1)/$(1).S.o
	@$$(if $$(Q),echo "  BIN     $$@")
	$$(Q)objcopy -O binary -j .text $$< $$@
	$$(Q)test $$$$(stat -c %s $$@) -eq 512 || { echo "$$@ is not 512 bytes"; rm -f $$@; exit 1; }
endef
$(foreach g,$(GUEST_FLAT_NAMES),$(eval $(call GUEST_BIN_RULE,$(g))))

test-guests-qemu: guests
	$(PYTHON) tests/system/guest_tests_qemu.py --dir $(BUILD)/guests \
	    --results $(BUILD)/guests-qemu-results.txt

-include $(GUEST_OBJS:.o=.d)
