# ---- fuzzing (libFuzzer, clang): included by the root Makefile ----
#
#   make fuzz [FUZZ_SECONDS=20]     build and run every fuzz target for FUZZ_SECONDS each
#
# Each tests/fuzz/fuzz_X.c names the kernel sources it compiles in a line
# "// fuzz-sources: a.c b.c" (like the unit tests). tests/fuzz/seeds_X.c, when present, is a
# small host program that writes X's seed corpus (generated from the encoders: no binary files in
# git). The corpus grows in $(BUILD)/fuzz/corpus/X between runs. A crash or a failed invariant
# fails the make; the input that caused it is kept as $(BUILD)/fuzz/X-crash-* and the log as
# $(BUILD)/fuzz/X.log. Writes "passed=N failed=N" (one per target) to $(BUILD)/fuzz-results.txt.

FUZZ_SECONDS ?= 20
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=gnu11 -O1 -g -I. -DCIVIC_HOST_TEST -Wall -Wextra -Werror -Wno-unused-parameter \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SEED_CFLAGS := -std=gnu11 -O1 -g -I. -DCIVIC_HOST_TEST -Wall -Wextra -Werror \
    -Wno-unused-parameter
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_SEEDERS := $(patsubst tests/fuzz/seeds_%.c,$(BUILD)/fuzz/seeds_%,\
    $(wildcard tests/fuzz/seeds_*.c))
fuzz_sources = $(shell sed -n 's|^// fuzz-sources: ||p' $(1))

.PHONY: fuzz
.SECONDEXPANSION:

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(call fuzz_sources,tests/fuzz/fuzz_%.c)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(call fuzz_sources,$<)

$(BUILD)/fuzz/seeds_%: tests/fuzz/seeds_%.c $$(call fuzz_sources,tests/fuzz/fuzz_$$*.c)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(FUZZ_SEED_CFLAGS) -o $@ $< $(call fuzz_sources,tests/fuzz/fuzz_$*.c)

fuzz: $(FUZZ_BINS) $(FUZZ_SEEDERS)
	@passed=0; failed=0; for n in $(FUZZ_NAMES); do \
	    corpus=$(BUILD)/fuzz/corpus/$$n; mkdir -p $$corpus; \
	    if [ -x $(BUILD)/fuzz/seeds_$$n ]; then $(BUILD)/fuzz/seeds_$$n $$corpus || exit 1; fi; \
	    echo "== fuzz $$n: $(FUZZ_SECONDS) s"; \
	    if $(BUILD)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -max_len=20000 \
	        -timeout=10 \
	        -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$$n- $$corpus \
	        >$(BUILD)/fuzz/$$n.log 2>&1; then \
	        passed=$$((passed + 1)); \
	        grep -E '^stat::number_of_executed_units|^Done ' $(BUILD)/fuzz/$$n.log | tail -n 1; \
	    else \
	        failed=$$((failed + 1)); tail -n 40 $(BUILD)/fuzz/$$n.log; \
	        echo "!! fuzz $$n failed: see $(BUILD)/fuzz/$$n.log and $(BUILD)/fuzz/$$n-crash-*"; \
	    fi; \
	done; \
	echo "passed=$$passed failed=$$failed" >$(BUILD)/fuzz-results.txt; \
	echo "fuzz: $$passed passed, $$failed failed"; \
	[ $$failed -eq 0 ]
