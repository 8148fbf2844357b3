# Linux partition payloads: the stock Debian arm64 kernel, a busybox
# initramfs and a small ext4 disk image (README "Linux guest payloads").
#   make linux-payloads   $(O)/linux/Image, initramfs.cpio.gz, disk.img
#   make linux-refresh    ask the Debian mirrors for newer packages
#   make linux-smoke      boot them on plain QEMU (developer check)
#   make linux-dt-smoke   boot them on plain QEMU with the device tree and
#                         the addresses the manifest compiler generated for
#                         the Linux product (developer check)
# A product whose manifest names kernel = "linux/Image" (LINUX_PRODUCTS)
# gets the payloads copied into $(IMAGE_DIR)/linux/ before its manifest is
# compiled.
# Packages come through a private apt configuration in $(LINUX_CACHE):
# fetched once, then reused without network.

LINUX_DIR := $(O)/linux
LINUX_CACHE ?= $(LINUX_DIR)/cache
LINUX_MODULES ?= virtio_mmio virtio_blk ext4
LINUX_PAYLOADS := $(LINUX_DIR)/Image $(LINUX_DIR)/initramfs.cpio.gz $(LINUX_DIR)/disk.img
LINUX_ROOTFS := $(shell find tools/linux/rootfs -type f 2>/dev/null)
LINUX_FETCH = $(PYTHON) tools/linux/fetch.py --cache $(LINUX_CACHE) --out $(LINUX_DIR)/packages.json

.PHONY: linux-payloads linux-refresh linux-smoke linux-dt-smoke linux-tools-test linux-clean
linux-payloads: $(LINUX_PAYLOADS)

# The image directory's copies, which the manifests name.
LINUX_PRODUCTS ?= qemu-virt-linux
LINUX_IMAGES := $(IMAGE_DIR)/linux/Image $(IMAGE_DIR)/linux/initramfs.cpio.gz
$(IMAGE_DIR)/linux/%: $(LINUX_DIR)/%
	$(Q)mkdir -p $(@D)
	$(Q)cp -f $< $@
$(foreach p,$(LINUX_PRODUCTS),$(eval $(O)/products/$(p)/manifest.stamp: $(LINUX_IMAGES)))

# fetch.py rewrites packages.json only when the selection changes, so a
# re-run (new fetch.py, refresh finding nothing new) rebuilds nothing.
$(LINUX_DIR)/.fetched: tools/linux/fetch.py tools/linux/aptsources.py | ensure-deps
	$(Q)mkdir -p $(LINUX_DIR)
	@echo "  FETCH   Debian arm64 kernel, busybox-static ($(LINUX_CACHE))"
	$(Q)$(LINUX_FETCH)
	$(Q)touch $@
$(LINUX_DIR)/packages.json: $(LINUX_DIR)/.fetched ;

# The module list is a prerequisite through a file that changes with it.
$(LINUX_DIR)/modules.wanted: linux-force
	$(Q)mkdir -p $(@D)
	$(Q)echo "$(LINUX_MODULES)" | cmp -s - $@ 2>/dev/null || echo "$(LINUX_MODULES)" >$@

$(LINUX_DIR)/Image $(LINUX_DIR)/kernel.json &: $(LINUX_DIR)/packages.json $(LINUX_DIR)/modules.wanted \
		tools/linux/extract.py tools/linux/kmod.py
	@echo "  EXTRACT Image, busybox, modules: $(LINUX_MODULES) and their dependencies"
	$(Q)$(PYTHON) tools/linux/extract.py --packages $(LINUX_DIR)/packages.json --out-dir $(LINUX_DIR) \
		$(addprefix --module ,$(LINUX_MODULES))

$(LINUX_DIR)/initramfs.cpio.gz: $(LINUX_DIR)/kernel.json tools/linux/mkinitramfs.py tools/linux/newc.py \
		$(LINUX_ROOTFS)
	@echo "  CPIO    $@"
	$(Q)$(PYTHON) tools/linux/mkinitramfs.py --kernel-dir $(LINUX_DIR) --rootfs tools/linux/rootfs --out $@

# Tests boot a copy: Linux writes into the image it is given.
$(LINUX_DIR)/disk.img: tools/linux/disk.py | ensure-deps
	$(Q)mkdir -p $(@D)
	@echo "  EXT4    $@"
	$(Q)$(PYTHON) tools/linux/disk.py create --out $@

linux-refresh: | ensure-deps
	$(Q)mkdir -p $(LINUX_DIR)
	$(Q)$(LINUX_FETCH) --refresh
	$(Q)touch $(LINUX_DIR)/.fetched
	$(Q)$(MAKE) --no-print-directory linux-payloads

linux-smoke: linux-payloads
	$(Q)O=$(O) QEMU=$(QEMU) CROSS_COMPILE=$(CROSS_COMPILE) PYTHON=$(PYTHON) sh tools/linux/smoke-plain-qemu.sh

# The Linux product's generated device tree and blob addresses, proved on
# plain QEMU (tools/linux/smoke_dt_qemu.py).
LINUX_DT_PRODUCT ?= qemu-virt-linux
ifeq ($(filter $(LINUX_DT_PRODUCT),$(PRODUCT) $(SCENARIOS) $(DEMO_EXTRAS)),)
$(eval $(call product_rules,$(LINUX_DT_PRODUCT),manifests/$(LINUX_DT_PRODUCT).dts))
endif
linux-dt-smoke: $(LINUX_PAYLOADS) $(O)/products/$(LINUX_DT_PRODUCT)/manifest_tables.c
	$(Q)$(PYTHON) tools/linux/smoke_dt_qemu.py --linux-dir $(LINUX_DIR) \
		--product-dir $(O)/products/$(LINUX_DT_PRODUCT) --images $(IMAGE_DIR) \
		--partition linux --qemu $(QEMU) --cross-compile $(CROSS_COMPILE)

linux-tools-test: | ensure-deps
	$(Q)$(PYTHON) -m pytest -q tools/linux/tests

# Keeps the package cache ($(LINUX_CACHE)); distclean removes everything.
linux-clean:
	$(Q)rm -rf $(LINUX_DIR)/Image $(LINUX_DIR)/busybox $(LINUX_DIR)/modules $(LINUX_DIR)/kernel.json \
		$(LINUX_DIR)/initramfs.cpio.gz $(LINUX_DIR)/disk.img $(LINUX_DIR)/modules.wanted \
		$(LINUX_DIR)/packages.json $(LINUX_DIR)/.fetched $(LINUX_DIR)/smoke $(LINUX_DIR)/dt-smoke \
		$(IMAGE_DIR)/linux

.PHONY: linux-force
linux-force:

# The Linux product, interactive: what you type goes to the Linux
# partition (the manifest's console-input); Ctrl-a x quits QEMU. The disk
# is $(O)/linux/disk.img itself, so what Linux writes stays for the next run.
LINUX_PRODUCT_IMG := $(O)/products/$(LINUX_DT_PRODUCT)/bulkhead.img
.PHONY: linux-product run-linux
linux-product: $(LINUX_PRODUCT_IMG) $(LINUX_DIR)/disk.img

run-linux: ensure-deps
	$(Q)$(MAKE) --no-print-directory linux-product
	@echo "  QEMU    $(LINUX_PRODUCT_IMG) (type to the Linux shell; exit with Ctrl-a x)"
	$(Q)$(QEMU) $(QEMU_FLAGS) -kernel $(LINUX_PRODUCT_IMG) \
		-drive if=none,file=$(LINUX_DIR)/disk.img,format=raw,id=vd0 \
		-device virtio-blk-device,drive=vd0,bus=virtio-mmio-bus.0

# linux_boot (make bench): the stock kernel alone on one vCPU
# (tests/bench/linux-bench.dts) built with
# configs/qemu_virt_bench_linux_defconfig (CONFIG_BENCH_BOOT_COUNT) in its
# own build directory, booted under -icount until Linux runs /init.
BENCH_LINUX_O := $(O)/bench/linux
.PHONY: bench-linux
bench-linux: ensure-deps $(LINUX_PAYLOADS)
	$(Q)$(MAKE) --no-print-directory O=$(BENCH_LINUX_O) DEFCONFIG=qemu_virt_bench_linux_defconfig \
		MANIFEST=tests/bench/linux-bench.dts SCENARIOS= LINUX_DIR=$(abspath $(LINUX_DIR)) \
		LINUX_PRODUCTS=linux-bench all
	$(Q)$(PYTHON) tests/bench_linux.py --image $(BENCH_LINUX_O)/bulkhead.img \
		--out $(O)/bench --qemu $(QEMU)
