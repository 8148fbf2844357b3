# Linux partition payloads: the stock Debian arm64 kernel, a busybox
# initramfs and a small ext4 disk image (README "Linux guest payloads").
#   make linux-payloads   $(O)/linux/Image, initramfs.cpio.gz, disk.img
#   make linux-refresh    ask the Debian mirrors for newer packages
#   make linux-smoke      boot them on plain QEMU (developer check)
# Packages come through a private apt configuration in $(LINUX_CACHE):
# fetched once, then reused without network.

LINUX_DIR := $(O)/linux
LINUX_CACHE ?= $(LINUX_DIR)/cache
LINUX_MODULES ?= virtio_mmio virtio_blk ext4
LINUX_PAYLOADS := $(LINUX_DIR)/Image $(LINUX_DIR)/initramfs.cpio.gz $(LINUX_DIR)/disk.img
LINUX_ROOTFS := $(shell find tools/linux/rootfs -type f 2>/dev/null)
LINUX_FETCH = $(PYTHON) tools/linux/fetch.py --cache $(LINUX_CACHE) --out $(LINUX_DIR)/packages.json

.PHONY: linux-payloads linux-refresh linux-smoke linux-tools-test linux-clean
linux-payloads: $(LINUX_PAYLOADS)

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

linux-tools-test: | ensure-deps
	$(Q)$(PYTHON) -m pytest -q tools/linux/tests

# Keeps the package cache ($(LINUX_CACHE)); distclean removes everything.
linux-clean:
	$(Q)rm -rf $(LINUX_DIR)/Image $(LINUX_DIR)/busybox $(LINUX_DIR)/modules $(LINUX_DIR)/kernel.json \
		$(LINUX_DIR)/initramfs.cpio.gz $(LINUX_DIR)/disk.img $(LINUX_DIR)/modules.wanted \
		$(LINUX_DIR)/packages.json $(LINUX_DIR)/.fetched $(LINUX_DIR)/smoke

.PHONY: linux-force
linux-force:
