# Bulkhead: static-partitioning hypervisor for AArch64.
# `make help` lists the targets.

VERSION := 0.1.0
PYTHON ?= /usr/bin/python3
CROSS_COMPILE ?= aarch64-linux-gnu-
O ?= build
DEFCONFIG ?= qemu_virt_defconfig
QEMU ?= qemu-system-aarch64
QEMU_SMP ?= 4
QEMU_FLAGS = -M virt,virtualization=on,gic-version=3 -cpu max -smp $(QEMU_SMP) \
	-m 1G -nographic -no-reboot -nic none

CC := $(CROSS_COMPILE)gcc
LD := $(CROSS_COMPILE)ld
OBJCOPY := $(CROSS_COMPILE)objcopy
SIZE := $(CROSS_COMPILE)size
HOSTCC ?= gcc

KCONFIG_CONFIG := $(O)/.config
AUTOCONF := $(O)/include/generated/autoconf.h
export KCONFIG_CONFIG

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
Q := $(if $(V),,@)

# ---------------------------------------------------------------------------
# Debian packages: `make run` and `make test` install what is missing.
DEPS_MISSING := $(shell PYTHON=$(PYTHON) sh tools/deps.sh check >/dev/null 2>&1 || echo yes)

.PHONY: deps ensure-deps
deps:
	$(Q)PYTHON=$(PYTHON) sh tools/deps.sh install

ensure-deps:
ifeq ($(DEPS_MISSING),yes)
	@echo "Some Debian packages Bulkhead needs are missing; running 'make deps'."
	$(Q)$(MAKE) --no-print-directory deps
endif

# ---------------------------------------------------------------------------
# Kconfig (kconfiglib). Without a .config the default product is used.
KCONFIG_TOOL = $(PYTHON) tools/kconfig.py Kconfig $(KCONFIG_CONFIG)

$(KCONFIG_CONFIG): | ensure-deps
	$(Q)mkdir -p $(O)
	@echo "  CONFIG  no $(KCONFIG_CONFIG): using configs/$(DEFCONFIG)"
	$(Q)$(KCONFIG_TOOL) defconfig configs/$(DEFCONFIG) >/dev/null

$(AUTOCONF): $(KCONFIG_CONFIG) Kconfig
	$(Q)mkdir -p $(dir $@)
	$(Q)$(KCONFIG_TOOL) olddefconfig >/dev/null
	$(Q)$(KCONFIG_TOOL) genheader $@ >/dev/null

.PHONY: menuconfig olddefconfig savedefconfig %_defconfig
%_defconfig: | ensure-deps
	$(Q)mkdir -p $(O)
	$(Q)test -f configs/$@ || { echo "no configs/$@ (see 'ls configs')"; exit 1; }
	$(Q)$(KCONFIG_TOOL) defconfig configs/$@

menuconfig: $(KCONFIG_CONFIG)
	$(Q)$(PYTHON) -m menuconfig Kconfig

olddefconfig: $(KCONFIG_CONFIG)
	$(Q)$(KCONFIG_TOOL) olddefconfig

savedefconfig: $(KCONFIG_CONFIG)
	$(Q)$(KCONFIG_TOOL) savedefconfig $(O)/defconfig
	@echo "  minimal config in $(O)/defconfig (copy it to configs/<name>_defconfig)"

# The .config is make syntax: include it (make creates it first if missing).
ifeq ($(filter deps help distclean clean %_defconfig,$(MAKECMDGOALS)),)
-include $(KCONFIG_CONFIG)
endif
MANIFEST ?= $(patsubst "%",%,$(CONFIG_MANIFEST))
PRODUCT := $(basename $(notdir $(MANIFEST)))

# ---------------------------------------------------------------------------
# Flags
# Freestanding code sees only the compiler's own headers (stddef.h,
# stdint.h, stdbool.h, stdarg.h) and ours (lib/include: string.h): no C
# library is needed, and none is looked at.
CC_INCLUDE := $(shell $(CC) -print-file-name=include 2>/dev/null)
# -ffile-prefix-map: no build path in any output (reproducible images).
COMMON_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g -ffreestanding \
	-ffile-prefix-map=$(CURDIR)=. \
	-nostdinc -isystem $(CC_INCLUDE) -Ilib/include \
	-fno-builtin -fno-common -fno-stack-protector -fno-strict-aliasing \
	-mgeneral-regs-only -mstrict-align -mno-outline-atomics \
	-include $(AUTOCONF) -include include/bulkhead/kconfig.h -Iinclude \
	-I$(O)/include -MMD -MP
# The hypervisor runs with its MMU on (unaligned normal-memory accesses
# allowed) except for arch/aarch64/mmu.c, whose functions carry
# target("strict-align") themselves; without strict alignment the
# compiler copies structs inline instead of calling memcpy.
HYP_CFLAGS := $(COMMON_CFLAGS) -mno-strict-align -fbuiltin -fno-tree-loop-distribute-patterns -flto -fno-pie -mcmodel=small -Icore/include \
	-fno-omit-frame-pointer -Iarch/aarch64/include -Iarch/aarch64 \
	-DBULKHEAD_VERSION='"$(VERSION)"'
GUEST_CFLAGS := $(COMMON_CFLAGS) -fpie -fvisibility=hidden -fno-toplevel-reorder -Iguest/include \
	-Iguest

# ---------------------------------------------------------------------------
# Guest SDK and partition images (position independent: one image runs
# wherever a manifest puts it).
GUEST_LIB_SRCS := guest/start.S guest/vectors.S guest/call.S guest/runtime.c guest/print.c \
	guest/test.c guest/ffa.c guest/shpool.c lib/fmt.c lib/string.c lib/ffa.c lib/ffa_mem.c lib/bitalloc.c
GUEST_LIB_OBJS := $(patsubst %,$(O)/guest/%.o,$(GUEST_LIB_SRCS))
GUEST_APPS := $(notdir $(patsubst %/,%,$(wildcard guest/apps/*/)))
TEST_APPS := $(notdir $(patsubst %/,%,$(wildcard tests/partitions/*/)))
IMAGE_DIR := $(O)/images
APP_IMAGES := $(GUEST_APPS:%=$(IMAGE_DIR)/%.bin) $(TEST_APPS:%=$(IMAGE_DIR)/%.bin)

$(O)/guest/%.c.o: %.c $(AUTOCONF)
	$(Q)mkdir -p $(dir $@)
	@echo "  CC      $<  (guest)"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(O)/guest/%.S.o: %.S $(AUTOCONF)
	$(Q)mkdir -p $(dir $@)
	@echo "  AS      $<  (guest)"
	$(Q)$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(O)/guest/libguest.a: $(GUEST_LIB_OBJS)
	$(Q)rm -f $@
	$(Q)$(CROSS_COMPILE)ar rcs $@ $^

define guest_app
$(O)/apps/$(1).elf: $(patsubst %,$(O)/guest/%.o,$(wildcard $(2)/$(1)/*.c)) $(O)/guest/libguest.a guest/guest.ld
	$(Q)mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(Q)$(LD) -pie --no-dynamic-linker -z norelro --no-warn-rwx-segments --hash-style=sysv -nostdlib \
		-T guest/guest.ld -o $$@ $$(filter %.o,$$^) $(O)/guest/libguest.a
$(IMAGE_DIR)/$(1).bin: $(O)/apps/$(1).elf
	$(Q)mkdir -p $$(dir $$@)
	$(Q)$(OBJCOPY) -O binary $$< $$@
endef
$(foreach app,$(GUEST_APPS),$(eval $(call guest_app,$(app),guest/apps)))
$(foreach app,$(TEST_APPS),$(eval $(call guest_app,$(app),tests/partitions)))

.PHONY: images
images: $(APP_IMAGES)

# ---------------------------------------------------------------------------
# Hypervisor objects (shared by every product) and per-product link.
HYP_SRCS := arch/aarch64/head.S arch/aarch64/vectors.S arch/aarch64/mmu.c \
	arch/aarch64/cpu.c arch/aarch64/fpsimd.S arch/aarch64/pte.c arch/aarch64/tlb.c \
	drivers/pl011.c drivers/gicv3.c \
	core/main.c core/cpu.c core/partition.c core/vcpu.c core/lifecycle.c core/call.c \
	core/ffa.c core/ffa_mem.c core/vconsole.c \
	core/log.c core/mm.c core/mpool.c lib/fmt.c lib/string.c lib/ffa.c lib/ffa_mem.c \
	core/boardcheck.c core/symbols.c core/debug_calls.c lib/fdt.c \
	arch/aarch64/backtrace.c arch/aarch64/poweroff.S
HYP_OBJS := $(patsubst %,$(O)/hyp/%.o,$(HYP_SRCS))

$(O)/hyp/%.c.o: %.c $(AUTOCONF)
	$(Q)mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HYP_CFLAGS) -c $< -o $@

$(O)/hyp/%.S.o: %.S $(AUTOCONF)
	$(Q)mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(HYP_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# product_rules(name, manifest): tables, ELF and flashable image of a product
define product_rules
$(O)/products/$(1)/manifest_tables.c: $(2) tools/manifestc.py $(wildcard tools/bulkhead_manifest/*.py) $(KCONFIG_CONFIG) $(APP_IMAGES)
	@echo "  MANIFEST $(2)"
	$(Q)$(PYTHON) tools/manifestc.py $(2) --config $(KCONFIG_CONFIG) \
		-I $(IMAGE_DIR) -i manifests --product $(1) --out-dir $(O)/products/$(1)
$(O)/products/$(1)/manifest_tables.o: $(O)/products/$(1)/manifest_tables.c $(AUTOCONF)
	$(Q)$(CC) $(HYP_CFLAGS) -c $$< -o $$@
# (linked twice by tools/board/symtab.py: the second link adds the table of
# function names that panic backtraces print)
$(O)/products/$(1)/bulkhead.elf: $(HYP_OBJS) $(O)/products/$(1)/manifest_tables.o arch/aarch64/bulkhead.ld tools/board/symtab.py
	@echo "  LD      $$@"
	$(Q)$(PYTHON) tools/board/symtab.py --cc $(CC) --nm $(CROSS_COMPILE)nm --work $(O)/products/$(1) -o $$@ -- \
		$(HYP_CFLAGS) -nostdlib -static -Wl,-L,$(O)/products/$(1) -Wl,-T,arch/aarch64/bulkhead.ld \
		-Wl,-Map,$$@.map -Wl,--build-id=none $(HYP_OBJS) $(O)/products/$(1)/manifest_tables.o -lgcc
$(O)/products/$(1)/bulkhead.img: $(O)/products/$(1)/bulkhead.elf tools/pack_image.py $(APP_IMAGES)
	@echo "  IMAGE   $$@"
	$(Q)$(PYTHON) tools/pack_image.py --elf $$< --layout $(O)/products/$(1)/layout.json \
		-I $(IMAGE_DIR) --objcopy $(OBJCOPY) -o $$@
-include $(O)/products/$(1)/manifest.d
endef

SCENARIOS := $(basename $(notdir $(wildcard tests/scenarios/*.dts)))
ifneq ($(MANIFEST),)
$(eval $(call product_rules,$(PRODUCT),$(MANIFEST)))
endif
$(foreach s,$(filter-out $(PRODUCT),$(SCENARIOS)),$(eval $(call product_rules,$(s),tests/scenarios/$(s).dts)))

# `make run` of the default demo also boots these products, one after the
# other: the block-device pair on both shared-memory pool back-ends.
DEMO_EXTRAS := $(if $(filter qemu-virt-demo,$(PRODUCT)),qemu-virt-blockdev qemu-virt-blockdev-static)
$(foreach p,$(DEMO_EXTRAS),$(eval $(call product_rules,$(p),manifests/$(p).dts)))

PRODUCT_DIR := $(O)/products/$(PRODUCT)

.PHONY: all image size run scenarios demos
all: $(O)/bulkhead.elf $(O)/bulkhead.img

$(O)/bulkhead.elf: $(PRODUCT_DIR)/bulkhead.elf
	$(Q)cp $< $@
$(O)/bulkhead.img: $(PRODUCT_DIR)/bulkhead.img
	$(Q)cp $< $@
	@echo "  memory map: $(PRODUCT_DIR)/memmap.txt (.json, .svg)"

image: $(O)/bulkhead.img
	@echo "  flashable image: $(O)/bulkhead.img"

size: $(O)/bulkhead.elf
	$(Q)$(SIZE) -A $< | awk '/^\.text|^\.rodata/ {t+=$$2} /^\.data/ {d+=$$2} \
		/^\.bss/ {b+=$$2} END {printf "%10s %10s %10s  %s\n", "text", "data", "bss", "(hypervisor alone: payload excluded)"; \
		printf "%10d %10d %10d  $<\n", t, d, b}'

scenarios: $(SCENARIOS:%=$(O)/products/%/bulkhead.img)

demos: $(DEMO_EXTRAS:%=$(O)/products/%/bulkhead.img)

# BOOT=u-boot: through Debian's U-Boot from the SD-card image (mk/board.mk)
run: ensure-deps
ifeq ($(BOOT),u-boot)
	$(Q)$(MAKE) --no-print-directory run-u-boot
else
	$(Q)$(MAKE) --no-print-directory all demos
	@echo "  QEMU    $(O)/bulkhead.img (exit with Ctrl-a x)"
	$(Q)$(QEMU) $(QEMU_FLAGS) -kernel $(O)/bulkhead.img
	$(Q)for p in $(DEMO_EXTRAS); do \
		echo "  QEMU    $(O)/products/$$p/bulkhead.img"; \
		$(QEMU) $(QEMU_FLAGS) -kernel $(O)/products/$$p/bulkhead.img || exit 1; \
	done
endif

# ---------------------------------------------------------------------------
# Tests and benchmarks
UNIT_SRCS := tests/unit/main.c tests/unit/fake_arch.c tests/unit/test_mm.c tests/unit/test_ffa.c tests/unit/test_ffa_mem.c tests/unit/test_ffa_mem_tx.c tests/unit/test_bitalloc.c \
	core/mm.c core/mpool.c core/partition.c core/ffa_mem.c arch/aarch64/pte.c lib/fmt.c lib/ffa.c \
	lib/ffa_mem.c lib/bitalloc.c
$(O)/unit/unit: $(UNIT_SRCS) $(AUTOCONF) $(wildcard tests/unit/*.h core/include/core/*.h)
	$(Q)mkdir -p $(dir $@)
	@echo "  HOSTCC  $@ (ASan, UBSan)"
	$(Q)$(HOSTCC) -std=gnu11 -Wall -Wextra -Werror -g -O1 \
		-fsanitize=address,undefined -fno-sanitize-recover=all \
		-include $(AUTOCONF) -include include/bulkhead/kconfig.h -Iinclude -Icore/include \
		-Iarch/aarch64/include -Itests/unit \
		-Wno-builtin-declaration-mismatch \
		$(filter %.c,$^) -o $@

.PHONY: unit-tests test bench bench-manifest bench-ffa
unit-tests: $(O)/unit/unit

# make test: J QEMU boots at once (default: one per CPU; J=1 one at a
# time), the JUnit report in $(TEST_RESULTS), pytest's summary last.
J ?= $(shell nproc 2>/dev/null || echo 1)
TEST_RESULTS := $(O)/test-results.xml
test: ensure-deps
	$(Q)$(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(J)) \
		all demos scenarios unit-tests board-test-images
	$(Q)BULKHEAD_BUILD=$(O) PYTHON=$(PYTHON) $(PYTHON) -m pytest -q -rfE tests \
		--boot-jobs $(J) --junitxml=$(TEST_RESULTS) -o junit_family=xunit2 \
		-o junit_suite_name=bulkhead $(PYTEST_ARGS)

bench-manifest: ensure-deps $(KCONFIG_CONFIG)
	$(Q)$(PYTHON) tests/bench_manifest.py --partitions 64 --work $(O)/bench

# FF-A path lengths: the bench product (tests/bench/ffa-bench.dts) built
# with configs/qemu_virt_bench_defconfig in its own build directory.
BENCH_O := $(O)/bench/build
bench-ffa: ensure-deps
	$(Q)$(MAKE) --no-print-directory O=$(BENCH_O) DEFCONFIG=qemu_virt_bench_defconfig \
		MANIFEST=tests/bench/ffa-bench.dts all
	$(Q)$(PYTHON) tests/bench_ffa.py --image $(BENCH_O)/bulkhead.img --out $(O)/bench \
		--qemu $(QEMU) --config qemu_virt_bench_defconfig

bench: bench-manifest bench-ffa

# Topic makefiles (Linux guests, boards, fuzzing ...) add their own targets.
include $(sort $(wildcard mk/*.mk))

# ---------------------------------------------------------------------------
.PHONY: format clean distclean help
format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	$(Q)rm -rf $(O)/hyp $(O)/guest $(O)/apps $(O)/images $(O)/products $(O)/unit \
		$(O)/bulkhead.elf $(O)/bulkhead.img $(O)/bench

distclean:
	$(Q)rm -rf $(O)

help:
	@echo "Bulkhead $(VERSION) — targets (O=$(O), config $(KCONFIG_CONFIG)):"
	@echo "  make / all          build $(O)/bulkhead.elf and $(O)/bulkhead.img"
	@echo "  make run            build and boot the product in QEMU"
	@echo "  make test           unit, manifest-compiler and QEMU boot tests (pytest)"
	@echo "  make image          the single flashable image $(O)/bulkhead.img, its build ID,"
	@echo "                      and the U-Boot FIT $(O)/bulkhead.itb (FIT_KEY=dir/name signs it)"
	@echo "  make flash          SD-card image $(O)/sdcard.img; DEVICE=/dev/sdX [YES=1] writes it"
	@echo "  make run BOOT=u-boot  boot the SD-card image through Debian's U-Boot in QEMU"
	@echo "  make debug / gdb    QEMU halted with its gdb stub / gdb-multiarch attached with symbols"
	@echo "  make symbolize LOG=file  name the addresses of a saved panic backtrace"
	@echo "  make size           text/data/bss of the hypervisor alone"
	@echo "  make bench          benchmarks: FF-A path lengths ($(O)/bench/results.json)"
	@echo "                      and the manifest compiler on 64 partitions"
	@echo "  make deps           install the Debian packages Bulkhead needs"
	@echo "  make <name>_defconfig   configure from configs/<name>_defconfig"
	@echo "  make menuconfig     edit the configuration"
	@echo "  make olddefconfig   update .config to the current Kconfig"
	@echo "  make savedefconfig  write a minimal config to $(O)/defconfig"
	@echo "  make scenarios      build the test scenarios' images"
	@echo "  make format         clang-format the C sources"
	@echo "  make clean / distclean"
	@echo "Variables: O=dir (build dir), MANIFEST=path (override the product"
	@echo "  manifest), V=1 (verbose), PYTEST_ARGS=... (e.g. -k boot)"

-include $(shell find $(O)/hyp $(O)/guest -name '*.d' 2>/dev/null)
