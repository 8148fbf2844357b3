# Bulkhead: static-partitioning hypervisor for AArch64.
# `make help` lists the targets.

VERSION := 0.1.0
PYTHON ?= /usr/bin/python3
CROSS_COMPILE ?= aarch64-linux-gnu-
O ?= build
# One spelling of the build directory (relative to the tree when it is
# inside it): the same directory always gets the same command lines, which
# objects depend on (build/flags/).
override O := $(patsubst $(CURDIR)/%,%,$(abspath $(O)))
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

# kconfiglib rewrites the header only when a value changed, so editing the
# .config rebuilds exactly when the configuration did; the stamp records
# that the header was checked against the current .config.
AUTOCONF_STAMP := $(O)/include/generated/autoconf.stamp
$(AUTOCONF_STAMP): $(KCONFIG_CONFIG) Kconfig
	$(Q)mkdir -p $(dir $@)
	$(Q)$(KCONFIG_TOOL) olddefconfig >/dev/null
	$(Q)$(KCONFIG_TOOL) genheader $(AUTOCONF) >/dev/null
	$(Q)touch $@
$(AUTOCONF): $(AUTOCONF_STAMP) ;

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
# So are the generated dependency files, read by every goal that builds.
READ_GENERATED := $(if $(filter deps help distclean clean %_defconfig,$(MAKECMDGOALS)),no,yes)
ifeq ($(READ_GENERATED),yes)
-include $(KCONFIG_CONFIG)
endif
MANIFEST ?= $(patsubst "%",%,$(CONFIG_MANIFEST))
PRODUCT := $(basename $(notdir $(MANIFEST)))

# ---------------------------------------------------------------------------
# Flags
# Warnings for all C. -Wconversion is on for the code that runs on the
# target (hypervisor, guest SDK, partitions): there an implicit narrowing
# of a guest-controlled value is a bug. Host unit tests leave it off (loop
# indices and rand() arithmetic); the sources they share with the
# hypervisor are checked by the hypervisor's build.
WARN_CFLAGS := -Wall -Wextra -Werror -Wshadow -Wundef -Wmissing-prototypes \
	-Wstrict-prototypes
TARGET_WARN_CFLAGS := $(WARN_CFLAGS) -Wconversion
# Freestanding code sees only the compiler's own headers (stddef.h,
# stdint.h, stdbool.h, stdarg.h) and ours (lib/include: string.h): no C
# library is needed, and none is looked at.
CC_INCLUDE := $(shell $(CC) -print-file-name=include 2>/dev/null)
# -ffile-prefix-map: no build path in any output (reproducible images).
COMMON_CFLAGS := -std=gnu11 $(TARGET_WARN_CFLAGS) -O2 -g -ffreestanding \
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
GUEST_LDFLAGS := -pie --no-dynamic-linker -z norelro --no-warn-rwx-segments --hash-style=sysv \
	-nostdlib -T guest/guest.ld
HYP_LDFLAGS = -nostdlib -static -Wl,-L,$(O)/products/$(1) -Wl,-T,arch/aarch64/bulkhead.ld \
	-Wl,-Map,$(O)/products/$(1)/bulkhead.elf.map -Wl,--build-id=none

# Each kind of object depends on a file holding the command line it is
# built with, rewritten only when that changes: a flag edited in the
# Makefile or given on the command line rebuilds what it affects, and
# nothing else. (The .config reaches objects through autoconf.h.)
FLAGS_DIR := $(O)/flags
FLAGS_hyp = $(CC) $(HYP_CFLAGS) -D__ASSEMBLY__ | link: $(call HYP_LDFLAGS,PRODUCT) -lgcc
FLAGS_guest = $(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ | link: $(LD) $(GUEST_LDFLAGS)
FLAGS_unit = $(HOSTCC) $(UNIT_CFLAGS) | link: $(UNIT_LDFLAGS)
.PHONY: FORCE
FORCE:
$(FLAGS_DIR):
	$(Q)mkdir -p $@
$(FLAGS_DIR)/%: FORCE | $(FLAGS_DIR)
	$(file >$@.new,$(FLAGS_$*))
	$(Q)if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
# (kept even when only pattern rules name them)
.PRECIOUS: $(FLAGS_DIR)/%

# ---------------------------------------------------------------------------
# Guest SDK and partition images (position independent: one image runs
# wherever a manifest puts it).
GUEST_LIB_SRCS := guest/start.S guest/vectors.S guest/call.S guest/runtime.c guest/print.c \
	guest/test.c guest/ffa.c guest/shpool.c guest/dt.c guest/irq.c guest/notify.c lib/fmt.c lib/string.c lib/ffa.c lib/ffa_mem.c \
	lib/bitalloc.c lib/fdt.c
GUEST_LIB_OBJS := $(patsubst %,$(O)/guest/%.o,$(GUEST_LIB_SRCS))
GUEST_APPS := $(notdir $(patsubst %/,%,$(wildcard guest/apps/*/)))
TEST_APPS := $(notdir $(patsubst %/,%,$(wildcard tests/partitions/*/)))
IMAGE_DIR := $(O)/images
APP_IMAGES := $(GUEST_APPS:%=$(IMAGE_DIR)/%.bin) $(TEST_APPS:%=$(IMAGE_DIR)/%.bin)

$(O)/guest/%.c.o: %.c $(AUTOCONF) $(FLAGS_DIR)/guest
	$(Q)mkdir -p $(dir $@)
	@echo "  CC      $<  (guest)"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(O)/guest/%.S.o: %.S $(AUTOCONF) $(FLAGS_DIR)/guest
	$(Q)mkdir -p $(dir $@)
	@echo "  AS      $<  (guest)"
	$(Q)$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(O)/guest/libguest.a: $(GUEST_LIB_OBJS)
	$(Q)rm -f $@
	$(Q)$(CROSS_COMPILE)ar rcs $@ $^

define guest_app
$(O)/apps/$(1).elf: $(patsubst %,$(O)/guest/%.o,$(wildcard $(2)/$(1)/*.c)) $(O)/guest/libguest.a \
		guest/guest.ld $(FLAGS_DIR)/guest
	$(Q)mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(Q)$(LD) $(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^) $(O)/guest/libguest.a
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
	core/ffa.c core/ffa_mem.c core/vconsole.c core/vgic.c core/bench.c arch/aarch64/vgic_hw.c \
	core/log.c core/mm.c core/mpool.c lib/fmt.c lib/string.c lib/ffa.c lib/ffa_mem.c \
	core/boardcheck.c core/symbols.c core/debug_calls.c lib/fdt.c \
	arch/aarch64/backtrace.c arch/aarch64/poweroff.S \
	core/ffa_notify.c core/deadline.c
HYP_OBJS := $(patsubst %,$(O)/hyp/%.o,$(HYP_SRCS))

$(O)/hyp/%.c.o: %.c $(AUTOCONF) $(FLAGS_DIR)/hyp
	$(Q)mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HYP_CFLAGS) -c $< -o $@

$(O)/hyp/%.S.o: %.S $(AUTOCONF) $(FLAGS_DIR)/hyp
	$(Q)mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(HYP_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# product_rules(name, manifest): tables, ELF and flashable image of a product.
# manifest.d (from tools/manifest_deps.py, before anything else) names the
# files the product is built from: the manifest, the files it includes and
# its partition images. The manifest step runs when one of them, the
# compiler or the .config changed; it rewrites only the outputs whose text
# changed, and the stamp records that it ran. The ELF is relinked when an
# object, the generated tables or either linker script changed; the image
# is repacked when the ELF or layout.json changed, and layout.json holds
# the SHA-256 of every partition image: a partition whose bytes changed is
# packed anew even when its size did not.
MANIFEST_TOOL := tools/manifestc.py $(wildcard tools/bulkhead_manifest/*.py)
define product_rules
$(O)/products/$(1)/manifest.d: $(2) tools/manifest_deps.py $(MANIFEST_TOOL) | ensure-deps
	$(Q)$(PYTHON) tools/manifest_deps.py $(2) -I $(IMAGE_DIR) -i manifests \
		--target $(O)/products/$(1)/manifest.stamp -o $$@
$(O)/products/$(1)/manifest.stamp: $(2) $(MANIFEST_TOOL) $(KCONFIG_CONFIG) Kconfig
	@echo "  MANIFEST $(2)"
	$(Q)$(PYTHON) tools/manifestc.py $(2) --config $(KCONFIG_CONFIG) \
		-I $(IMAGE_DIR) -i manifests --product $(1) --out-dir $(O)/products/$(1)
	$(Q)touch $$@
$(addprefix $(O)/products/$(1)/,manifest_tables.c hyp.ld layout.json): $(O)/products/$(1)/manifest.stamp
	$(Q)test -f $$@ || { rm -f $$<; echo "$$@ was removed: run make again"; exit 1; }
$(O)/products/$(1)/manifest_tables.o: $(O)/products/$(1)/manifest_tables.c $(AUTOCONF) $(FLAGS_DIR)/hyp
	$(Q)$(CC) $(HYP_CFLAGS) -c $$< -o $$@
# (linked twice by tools/board/symtab.py: the second link adds the table of
# function names that panic backtraces print)
$(O)/products/$(1)/bulkhead.elf: $(HYP_OBJS) $(O)/products/$(1)/manifest_tables.o arch/aarch64/bulkhead.ld \
		$(O)/products/$(1)/hyp.ld tools/board/symtab.py $(FLAGS_DIR)/hyp
	@echo "  LD      $$@"
	$(Q)$(PYTHON) tools/board/symtab.py --cc $(CC) --nm $(CROSS_COMPILE)nm --work $(O)/products/$(1) -o $$@ -- \
		$(HYP_CFLAGS) $(call HYP_LDFLAGS,$(1)) $(HYP_OBJS) $(O)/products/$(1)/manifest_tables.o -lgcc
$(O)/products/$(1)/bulkhead.img: $(O)/products/$(1)/bulkhead.elf $(O)/products/$(1)/layout.json \
		tools/pack_image.py tools/bulkhead_manifest/paths.py
	@echo "  IMAGE   $$@"
	$(Q)$(PYTHON) tools/pack_image.py --elf $$< --layout $(O)/products/$(1)/layout.json \
		-I $(IMAGE_DIR) --objcopy $(OBJCOPY) -o $$@
ifeq ($(READ_GENERATED),yes)
-include $(O)/products/$(1)/manifest.d
endif
endef

# The test scenarios are products of every build; `SCENARIOS=` on the
# command line leaves them out of a build of one product (the matrix, the
# benchmark), which then does not read their dependency files either.
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
UNIT_SRCS := tests/unit/main.c tests/unit/fake_arch.c tests/unit/test_mm.c tests/unit/test_ffa.c tests/unit/test_ffa_mem.c tests/unit/test_ffa_mem_tx.c tests/unit/test_bitalloc.c tests/unit/test_vgic.c tests/unit/test_string.c \
	tests/unit/test_ffa_notify.c core/ffa_notify.c \
	tests/unit/test_ffa_msg.c core/ffa.c core/deadline.c \
	core/mm.c core/mpool.c core/partition.c core/ffa_mem.c core/vgic.c core/vcpu.c arch/aarch64/pte.c \
	lib/fmt.c lib/ffa.c \
	lib/ffa_mem.c lib/bitalloc.c
UNIT_OBJS := $(patsubst %.c,$(O)/unit/obj/%.o,$(UNIT_SRCS))
UNIT_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_CFLAGS := -std=gnu11 $(WARN_CFLAGS) -g -O1 $(UNIT_SANITIZE) \
	-include $(AUTOCONF) -include include/bulkhead/kconfig.h -Iinclude -Icore/include \
	-Iarch/aarch64/include -Itests/unit -Wno-builtin-declaration-mismatch -MMD -MP \
	-DCONFIG_FFA_MEM_CHECKER=1
UNIT_LDFLAGS := $(UNIT_SANITIZE)
$(O)/unit/obj/%.o: %.c $(AUTOCONF) $(FLAGS_DIR)/unit
	$(Q)mkdir -p $(dir $@)
	@echo "  HOSTCC  $<  (unit tests)"
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -c $< -o $@
$(O)/unit/unit: $(UNIT_OBJS) $(FLAGS_DIR)/unit
	@echo "  HOSTLD  $@ (ASan, UBSan)"
	$(Q)$(HOSTCC) $(UNIT_LDFLAGS) $(UNIT_OBJS) -o $@

.PHONY: unit-tests test bench bench-manifest bench-ffa
unit-tests: $(O)/unit/unit

# make test: J QEMU boots at once (default: one per CPU; J=1 one at a
# time), the JUnit report in $(TEST_RESULTS), pytest's summary last.
J ?= $(shell nproc 2>/dev/null || echo 1)
TEST_RESULTS := $(O)/test-results.xml
test: ensure-deps
	$(Q)$(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(J)) \
		all images demos scenarios linux-product unit-tests board-test-images debug-scenarios config-matrix layer-objects \
		linux-ffa-product
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
		MANIFEST=tests/bench/ffa-bench.dts SCENARIOS= all
	$(Q)$(PYTHON) tests/bench_ffa.py --image $(BENCH_O)/bulkhead.img --out $(O)/bench \
		--qemu $(QEMU) --config qemu_virt_bench_defconfig

bench: bench-manifest bench-ffa bench-linux

# Topic makefiles (Linux guests, boards, fuzzing ...) add their own targets.
include $(sort $(wildcard mk/*.mk))

# ---------------------------------------------------------------------------
.PHONY: clean distclean help
clean:
	$(Q)rm -rf $(O)/hyp $(O)/guest $(O)/apps $(O)/images $(O)/products $(O)/unit \
		$(O)/bulkhead.elf $(O)/bulkhead.img $(O)/bench $(O)/flags $(O)/layers $(O)/matrix

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
	@echo "  make debug / gdb    QEMU halted with its gdb stub on 127.0.0.1:$(GDB_PORT) (GDB_PORT=)"
	@echo "                      / gdb-multiarch attached to it with symbols"
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
	@echo "  make lint           check formatting, Python (flake8) and the layers"
	@echo "  make config-matrix  build the configuration matrix (configs/matrix)"
	@echo "  make clean / distclean"
	@echo "Variables: O=dir (build dir), MANIFEST=path (override the product"
	@echo "  manifest), V=1 (verbose), PYTEST_ARGS=... (e.g. -k boot),"
	@echo "  SEMIHOSTING=1 (make run/debug: QEMU exits 1 when the board check fails)"

# Header dependencies (-MMD) of every object: hypervisor, guest, unit
# tests and each product's tables.
ifeq ($(READ_GENERATED),yes)
-include $(shell find $(O)/hyp $(O)/guest $(O)/unit $(O)/products $(O)/layers -name '*.d' \
	! -name manifest.d 2>/dev/null)
endif
