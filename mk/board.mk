# Board bring-up: the U-Boot FIT (make image), the SD-card image and
# flashing (make flash), booting through U-Boot (make run BOOT=u-boot),
# the debugger (make debug / make gdb) and crash symbolization
# (make symbolize LOG=file). README: "Flashing a board".

UBOOT_BIN ?= /usr/lib/u-boot/qemu_arm64/u-boot.bin
MKIMAGE ?= mkimage
GDB ?= gdb-multiarch
GDB_PORT ?= 1234
NM := $(CROSS_COMPILE)nm
ADDR2LINE := $(CROSS_COMPILE)addr2line
# FIT_KEY=dir/name signs the FIT configuration with dir/name.key (.crt).
# The FIT depends on $(FLAGS_DIR)/fit, which records the key (rewritten
# only when that changes): dropping FIT_KEY rebuilds it unsigned. With a
# key it is rebuilt every time (the key file itself may have changed).
FIT_KEY ?=
FLAGS_fit = fit key: $(FIT_KEY)
# SEMIHOSTING=1: QEMU offers semihosting, so that a failed board check
# exits with status 1 (SYS_EXIT); without it the hypervisor powers off
# (status 0). Off by default: semihosting is reachable from a guest's EL1
# too (HLT #0xf000 reads and writes host files), which no partition may
# have.
SEMIHOSTING_FLAGS := -semihosting-config enable=on,target=native
ifeq ($(SEMIHOSTING),1)
QEMU_FLAGS += $(SEMIHOSTING_FLAGS)
endif
UBOOT_QEMU_DISK = -drive if=none,file=$(1),format=raw,id=bootdisk,readonly=on \
	-device virtio-blk-device,drive=bootdisk

.PHONY: board-force
board-force:

# board_rules(product): FIT and SD-card image of a product.
define board_rules
$(O)/products/$(1)/bulkhead.itb: $(O)/products/$(1)/bulkhead.img tools/board/fit.py \
		tools/board/repro.py $(FLAGS_DIR)/fit $(if $(FIT_KEY),board-force)
	@echo "  FIT     $$@$(if $(FIT_KEY), (signed with $(FIT_KEY).key))"
	$(Q)$(PYTHON) tools/board/fit.py --image $$< --layout $(O)/products/$(1)/layout.json \
		--product $(1) --version $(VERSION) --mkimage $(MKIMAGE) \
		$(if $(FIT_KEY),--key $(FIT_KEY)) -o $$@
$(O)/products/$(1)/sdcard.img: $(O)/products/$(1)/bulkhead.itb tools/board/sdcard.py \
		tools/board/repro.py
	@echo "  SDCARD  $$@"
	$(Q)$(PYTHON) tools/board/sdcard.py --fit $$< --layout $(O)/products/$(1)/layout.json \
		--mkimage $(MKIMAGE) -o $$@
endef
ifneq ($(MANIFEST),)
$(foreach p,$(PRODUCT) $(DEMO_EXTRAS),$(eval $(call board_rules,$(p))))
endif

$(O)/bulkhead.itb: $(PRODUCT_DIR)/bulkhead.itb
	$(Q)cp $< $@
$(O)/sdcard.img: $(PRODUCT_DIR)/sdcard.img
	$(Q)cp $< $@

.PHONY: board-build-id board-fit flash run-u-boot debug gdb symbolize board-test-images
image: board-fit
board-build-id: $(O)/bulkhead.img
	@echo "  build ID $$($(PYTHON) tools/pack_image.py --show-id $(O)/bulkhead.img)"
# (make image only: make flash puts the FIT in the SD-card image, not here)
board-fit: $(O)/bulkhead.itb board-build-id
	@echo "  U-Boot FIT: $(O)/bulkhead.itb"

# Not a recursive make: with `make -j image flash` two makes would build
# the same files at once. Everything built depends on the .config, which
# waits for ensure-deps.
flash: $(O)/sdcard.img board-build-id
	@echo "  SD-card image: $(O)/sdcard.img (FAT boot partition: bulkhead.itb, boot.scr, boot.cmd)"
ifneq ($(DEVICE),)
	$(Q)$(PYTHON) tools/board/flash.py $(if $(filter 1 y yes,$(YES)),--yes) \
		$(O)/sdcard.img $(DEVICE)
endif

# The demo (and its extras) booted by Debian's U-Boot from the SD image.
run-u-boot: ensure-deps
	$(Q)$(MAKE) --no-print-directory $(O)/sdcard.img \
		$(DEMO_EXTRAS:%=$(O)/products/%/sdcard.img)
	@echo "  QEMU    U-Boot $(UBOOT_BIN), disk $(O)/sdcard.img (exit with Ctrl-a x)"
	$(Q)$(QEMU) $(QEMU_FLAGS) -bios $(UBOOT_BIN) \
		$(call UBOOT_QEMU_DISK,$(O)/sdcard.img)
	$(Q)for p in $(DEMO_EXTRAS); do \
		echo "  QEMU    U-Boot, disk $(O)/products/$$p/sdcard.img"; \
		$(QEMU) $(QEMU_FLAGS) -bios $(UBOOT_BIN) \
			$(call UBOOT_QEMU_DISK,$(O)/products/$$p/sdcard.img) || exit 1; \
	done

debug: ensure-deps
	$(Q)$(MAKE) --no-print-directory all
	@echo "  QEMU    $(O)/bulkhead.img halted, gdb stub on 127.0.0.1:$(GDB_PORT)"
	@echo "  attach from another terminal with:  make gdb$(if $(filter-out build,$(O)), O=$(O))$(if $(filter-out 1234,$(GDB_PORT)), GDB_PORT=$(GDB_PORT))"
	$(Q)$(QEMU) $(QEMU_FLAGS) -kernel $(O)/bulkhead.img \
		-gdb tcp:127.0.0.1:$(GDB_PORT) -S

$(O)/gdb/bulkhead.gdb: $(O)/bulkhead.elf $(MANIFEST) tools/board/gdbscript.py board-force
	$(Q)mkdir -p $(dir $@)
	$(Q)$(PYTHON) tools/board/gdbscript.py --manifest $(MANIFEST) -i manifests \
		--elf $(O)/bulkhead.elf --apps $(O)/apps --config $(KCONFIG_CONFIG) \
		--images $(IMAGE_DIR) --remote 127.0.0.1:$(GDB_PORT) -o $@

gdb: ensure-deps $(O)/gdb/bulkhead.gdb
	$(Q)$(GDB) -q -x $(O)/gdb/bulkhead.gdb

symbolize: ensure-deps
	$(Q)test -n "$(LOG)" || { echo "usage: make symbolize LOG=file"; exit 2; }
	$(Q)$(MAKE) --no-print-directory $(O)/bulkhead.elf
	$(Q)$(PYTHON) tools/board/symbolize.py --elf $(O)/bulkhead.elf \
		--addr2line $(ADDR2LINE) $(LOG)

# What the board tests boot (make test builds it).
board-test-images: $(O)/sdcard.img $(O)/bulkhead.itb

# The crash-report test's product: CONFIG_DEBUG_CALLS, own build directory.
DEBUGCALLS_O := $(O)/debug-calls
board-test-images: board-debugcalls
.PHONY: board-debugcalls
board-debugcalls:
	$(Q)$(MAKE) --no-print-directory O=$(DEBUGCALLS_O) \
		DEFCONFIG=qemu_virt_debugcalls_defconfig MANIFEST=tests/board/panic.dts SCENARIOS= all

.PHONY: board-clean
clean: board-clean
board-clean:
	$(Q)rm -rf $(O)/bulkhead.itb $(O)/sdcard.img $(O)/gdb $(DEBUGCALLS_O)
