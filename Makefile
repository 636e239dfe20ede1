# civic: build, run and test. `make help` lists the targets.
#
#   make run [EMU=bochs|qemu|kvm] [GUESTS=1]  boot the ISO (GUESTS=1: with the test guests),
#                                   terminal on civic's serial console
#   make test [EMU=...]             host unit tests, then the system tests under emulation
#   make bench-boot                 boot time under Bochs (wall seconds, guest instructions)
#   make bench-exits                exit round trips (CPUID, port I/O, EPT, APIC, timers) in a guest
#   make bench-net                  the emulated link and civic's network path (two instances)
#   make bench-paging               network paging: guests over a local limit (two instances)
#   make fuzz [FUZZ_SECONDS=20]     run each fuzz target (libFuzzer) for FUZZ_SECONDS
#   make CC=clang                   the kernel builds with clang too

BUILD   ?= build
EMU     ?= bochs
MEM     ?= 256
PYTHON  ?= python3

ifeq ($(origin CC),default)
CC := gcc
endif
HOSTCC  ?= gcc

KERNEL_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
    -mno-red-zone -mgeneral-regs-only -mno-mmx -mno-sse -mno-sse2 -fno-stack-protector \
    -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-common \
    -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
    -Wno-unused-parameter -I. -MMD -MP
KERNEL_ASFLAGS := -I. -MMD -MP -fno-pic -fno-pie
KERNEL_LDFLAGS := -nostdlib -static -Wl,--no-dynamic-linker -Wl,-z,max-page-size=0x1000 \
    -Wl,-z,noexecstack -Wl,--build-id=none -T linker.ld

# Every kernel source file in the module folders is part of the image.
KERNEL_DIRS := boot arch/x86 kernel mm net drivers/e1000
KERNEL_SRCS := $(foreach d,$(KERNEL_DIRS),$(wildcard $(d)/*.c) $(wildcard $(d)/*.S))
KERNEL_OBJS := $(patsubst %,$(BUILD)/kernel/%.o,$(KERNEL_SRCS))
include net/lwip.mk

ISO := $(BUILD)/civic.iso
ELF := $(BUILD)/civic.elf
TEST_ISO := $(BUILD)/civic-test.iso

# Quiet by default (V=1 shows the commands).
ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all iso run test unit system deps clean help format-check bench-boot bench-exits bench-net

all: $(ELF) $(ISO) $(TEST_ISO)
iso: $(ISO)

$(BUILD)/kernel/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/kernel/%.S.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(KERNEL_ASFLAGS) -c $< -o $@

# The version string names the commit (and a dirty tree), so a boot log says what ran.
GIT_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/kernel/kernel/version.c.o: KERNEL_CFLAGS += -DCIVIC_GIT_VERSION='"$(GIT_VERSION)"'
$(BUILD)/kernel/kernel/version.c.o: .FORCE
.PHONY: .FORCE

$(ELF): $(KERNEL_OBJS) linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS)
	@size $@ | tail -n 1 | awk '{ printf "civic.elf: text %d, data %d, bss %d bytes\n", $$1, $$2, $$3 }'

$(ISO): $(ELF) boot/grub.cfg
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub
	@$(if $(Q),echo "  ISO     $@")
	$(Q)cp $(ELF) $(BUILD)/iso/boot/civic.elf
	$(Q)cp boot/grub.cfg $(BUILD)/iso/boot/grub/grub.cfg
	$(Q)grub-mkrescue -o $@ $(BUILD)/iso 2>$(BUILD)/grub-mkrescue.log || { cat $(BUILD)/grub-mkrescue.log; exit 1; }

include guests/guests.mk

# The system tests' ISO: the same kernel with boot options, a 5000-byte data module and the test
# guests as modules (tests/system/grub-test.cfg names them).
$(TEST_ISO): $(ELF) tests/system/grub-test.cfg $(GUEST_ELFS) $(GUEST_BINS)
	@rm -rf $(BUILD)/iso-test && mkdir -p $(BUILD)/iso-test/boot/grub $(BUILD)/iso-test/boot/guests
	@$(if $(Q),echo "  ISO     $@")
	$(Q)cp $(ELF) $(BUILD)/iso-test/boot/civic.elf
	$(Q)cp $(GUEST_ELFS) $(GUEST_BINS) $(BUILD)/iso-test/boot/guests/
	$(Q)cp tests/system/grub-test.cfg $(BUILD)/iso-test/boot/grub/grub.cfg
	$(Q)yes civic-test-module | head -c 5000 > $(BUILD)/iso-test/boot/testmod.bin
	$(Q)grub-mkrescue -o $@ $(BUILD)/iso-test 2>$(BUILD)/grub-mkrescue.log || { cat $(BUILD)/grub-mkrescue.log; exit 1; }

# Installs the Debian packages the build and the tests need (quick when all are present).
deps:
	@scripts/install-deps.sh

# GUESTS=1 boots the test ISO instead: the test guests as modules (see README, "Running guests").
RUN_ISO = $(if $(GUESTS),$(TEST_ISO),$(ISO))
run: deps
	@$(MAKE) --no-print-directory $(RUN_ISO)
	$(PYTHON) tests/system/civic_run.py --emu $(EMU) --mem $(MEM) --iso $(RUN_ISO)

# ---- host unit tests: each tests/unit/test_X.c names the kernel sources it compiles in a
# line "// unit-sources: a.c b.c" ----
UNIT_CFLAGS := -std=gnu11 -O1 -g -I. -DCIVIC_HOST_TEST -Wall -Wextra -Werror -Wno-unused-parameter \
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
unit_sources = $(shell sed -n 's|^// unit-sources: ||p' $(1))

.SECONDEXPANSION:
$(BUILD)/unit/%: tests/unit/%.c $$(call unit_sources,tests/unit/%.c) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -o $@ $< $(call unit_sources,$<) -lcmocka

unit: $(UNIT_TESTS)
	@$(PYTHON) tests/run_unit.py $(UNIT_TESTS)

include tests/fuzz/fuzz.mk

# The system tests run under each emulator in SYSTEM_EMUS (Bochs has VMX; QEMU TCG is the second
# CPU and device model, without VMX). `make system EMU=kvm` runs them once under KVM instead.
SYSTEM_EMUS ?= $(if $(filter command line,$(origin EMU)),$(EMU),bochs qemu)
system: $(ISO) $(TEST_ISO)
	@rm -f $(BUILD)/system-results-*.txt
	@status=0; for emu in $(SYSTEM_EMUS); do \
	    echo "== system tests under $$emu"; \
	    $(PYTHON) tests/system/run_tests.py --emu $$emu --iso $(ISO) --test-iso $(TEST_ISO) \
	        --results $(BUILD)/system-results-$$emu.txt || status=1; \
	done; exit $$status

test: deps
	@$(MAKE) --no-print-directory all
	@rm -f $(BUILD)/unit-results.txt $(BUILD)/system-results-*.txt $(BUILD)/guests-qemu-results.txt \
	    $(BUILD)/fuzz-results.txt
	-@$(MAKE) --no-print-directory unit
	-@$(MAKE) --no-print-directory fuzz
	-@$(MAKE) --no-print-directory test-guests-qemu
	-@$(MAKE) --no-print-directory system
	@$(PYTHON) tests/summary.py $(BUILD)/unit-results.txt $(BUILD)/fuzz-results.txt \
	    $(BUILD)/guests-qemu-results.txt $(foreach e,$(SYSTEM_EMUS),$(BUILD)/system-results-$(e).txt)

# Benchmarks print tables; their results are kept in docs/benchmarks.md.
bench-boot: deps
	@$(MAKE) --no-print-directory $(ISO)
	$(PYTHON) tests/system/bench_boot.py --iso $(ISO) --elf $(ELF)

bench-exits: deps
	@$(MAKE) --no-print-directory $(TEST_ISO)
	$(PYTHON) tests/system/bench_exits.py --iso $(TEST_ISO) --emu $(EMU)

bench-net: deps
	@$(MAKE) --no-print-directory $(ISO)
	$(PYTHON) tests/system/bench_net.py --iso $(ISO)

.PHONY: bench-paging
bench-paging: deps
	@$(MAKE) --no-print-directory $(TEST_ISO)
	$(PYTHON) tests/system/bench_paging.py --iso $(TEST_ISO) --out $(BUILD)/bench-paging.md

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

help:
	@sed -n 's/^#   //p' Makefile

-include $(KERNEL_OBJS:.o=.d)
