# The hostile partition (tests/partitions/hostile, README "The hostile
# partition"):
#   make fuzz [SEED=n] [CALLS=n] [CHECKER=no]
#        a run as long as asked (default: a new random seed, 1,000,000
#        calls) in the debug configuration; CHECKER=no: in the build's own
#        configuration (.config: no memory checker, about ten times as
#        many calls per second)
# `make test` boots the scenario tests/scenarios/hostile.dts built in the
# debug configuration (mk/debug.mk: debug/hostile, with the memory checker
# after every FF-A memory call), whose image carries the fixed seed and
# 100,000 calls of tests/partitions/hostile/config.c. `make fuzz` links
# the same objects with a generated config ($(O)/fuzz/config.c) into
# hostile-fuzz.bin and builds the product hostile-fuzz
# (tests/partitions/hostile/fuzz.dts: the same scenario with that image)
# in the debug configuration too ($(DEBUG_O), configs/
# qemu_virt_debug_defconfig), then boots it with tests/fuzz_hostile.py,
# which judges the run like the test does.

HOSTILE_DIR := tests/partitions/hostile
HOSTILE_OBJS := $(patsubst %,$(O)/guest/%.o,$(filter-out $(HOSTILE_DIR)/config.c,\
	$(wildcard $(HOSTILE_DIR)/*.c)))
FUZZ_CONFIG := $(O)/fuzz/config.c
FUZZ_IMAGE := $(O)/products/hostile-fuzz/bulkhead.img
# where make fuzz builds: the debug configuration unless CHECKER=no
CHECKER ?= yes
FUZZ_O = $(if $(filter no,$(CHECKER)),$(O),$(DEBUG_O))
FUZZ_DEFCONFIG = $(if $(filter no,$(CHECKER)),$(DEFCONFIG),qemu_virt_debug_defconfig)
FUZZ_RUN_IMAGE = $(FUZZ_O)/products/hostile-fuzz/bulkhead.img
FUZZ_CALLS_DEFAULT := 1000000
# (set by `make fuzz` for its inner make; these serve a direct build of
# $(FUZZ_IMAGE))
FUZZ_SEED ?= 0x5eed
FUZZ_CALLS ?= $(FUZZ_CALLS_DEFAULT)

.PHONY: fuzz fuzz-config-force
fuzz-config-force:

# Rewritten only when the values change (then hostile-fuzz.bin relinks).
# The values reach the shell through the environment, unquoted by make.
$(FUZZ_CONFIG): export HOSTILE_SEED = $(FUZZ_SEED)
$(FUZZ_CONFIG): export HOSTILE_CALLS = $(FUZZ_CALLS)
$(FUZZ_CONFIG): fuzz-config-force tests/fuzz_hostile.py
	$(Q)$(PYTHON) tests/fuzz_hostile.py config --seed "$$HOSTILE_SEED" \
		--calls "$$HOSTILE_CALLS" --out $@

$(O)/fuzz/config.o: $(FUZZ_CONFIG) $(AUTOCONF)
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(O)/apps/hostile-fuzz.elf: $(HOSTILE_OBJS) $(O)/fuzz/config.o $(O)/guest/libguest.a guest/guest.ld
	$(Q)mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(LD) -pie --no-dynamic-linker -z norelro --no-warn-rwx-segments --hash-style=sysv -nostdlib \
		-T guest/guest.ld -o $@ $(filter %.o,$^) $(O)/guest/libguest.a

$(IMAGE_DIR)/hostile-fuzz.bin: $(O)/apps/hostile-fuzz.elf
	$(Q)mkdir -p $(dir $@)
	$(Q)$(OBJCOPY) -O binary $< $@

$(eval $(call product_rules,hostile-fuzz,$(HOSTILE_DIR)/fuzz.dts))

# SEED empty: a new random one. Both are checked (numbers, in range)
# before anything is built.
fuzz: export HOSTILE_SEED = $(SEED)
fuzz: export HOSTILE_CALLS = $(or $(CALLS),$(FUZZ_CALLS_DEFAULT))
fuzz: ensure-deps
	$(Q)case "$(CHECKER)" in yes|no) ;; \
		*) echo "fuzz: CHECKER must be yes or no, not '$(CHECKER)'" >&2; exit 2;; esac; \
	if [ -z "$$HOSTILE_SEED" ]; then \
		HOSTILE_SEED=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); fi; \
	$(PYTHON) tests/fuzz_hostile.py config --seed "$$HOSTILE_SEED" \
		--calls "$$HOSTILE_CALLS" && \
	$(MAKE) --no-print-directory O=$(FUZZ_O) DEFCONFIG=$(FUZZ_DEFCONFIG) \
		MANIFEST=tests/scenarios/hostile.dts FUZZ_SEED="$$HOSTILE_SEED" \
		FUZZ_CALLS="$$HOSTILE_CALLS" $(FUZZ_RUN_IMAGE) && \
	$(PYTHON) tests/fuzz_hostile.py run --image $(FUZZ_RUN_IMAGE) \
		--seed "$$HOSTILE_SEED" --calls "$$HOSTILE_CALLS"
$(FUZZ_IMAGE): $(IMAGE_DIR)/hostile-fuzz.bin
