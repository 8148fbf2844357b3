# The FF-A Linux product (README "Linux as an FF-A client"): a small arm64
# kernel with Linux's arm_ffa driver built from Debian's linux-source-6.1,
# our self-test module (guest/linux/bulkhead-ffa-test/), a busybox
# initramfs, and manifests/qemu-virt-linux-ffa.dts.
#   make linux-ffa       $(LINUX_FFA_DIR)/Image and the kernel build tree
#   make run-linux-ffa   boot the product (init runs the self-test, powers off)
# The kernel is built once per (source package version, configuration
# fragment, cross compiler version) in its own tree
# $(LINUX_FFA_DIR)/kernel-<key>; a second make finds it and costs nothing.

LINUX_FFA_DIR := $(O)/linux-ffa
LINUX_FFA_PKG := linux-source-6.1
LINUX_FFA_TARBALL ?= /usr/src/$(LINUX_FFA_PKG).tar.xz
LINUX_FFA_FRAGMENT := guest/linux/linux-ffa.config
LINUX_FFA_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))
# (empty until `make deps` installed the package; the targets check)
LINUX_FFA_VERSION := $(shell dpkg-query -W -f='$${Version}' $(LINUX_FFA_PKG) 2>/dev/null)
LINUX_FFA_KEY := $(shell { echo "$(LINUX_FFA_VERSION)"; $(CC) -dumpfullversion 2>/dev/null; \
	cat $(LINUX_FFA_FRAGMENT); } | sha256sum | cut -c1-16)
LINUX_FFA_SRC := $(LINUX_FFA_DIR)/src-$(LINUX_FFA_VERSION)
LINUX_FFA_KTREE := $(LINUX_FFA_DIR)/kernel-$(LINUX_FFA_KEY)
# (KCONFIG_CONFIG is Bulkhead's own .config, exported by the Makefile)
LINUX_FFA_KMAKE = $(MAKE) --no-print-directory -C $(LINUX_FFA_SRC)/$(LINUX_FFA_PKG) \
	O=$(abspath $(LINUX_FFA_KTREE)) ARCH=arm64 CROSS_COMPILE=$(CROSS_COMPILE) \
	KCONFIG_CONFIG=.config

.PHONY: linux-ffa linux-ffa-kernel linux-ffa-check-source linux-ffa-clean
linux-ffa: ensure-deps
	$(Q)$(MAKE) --no-print-directory linux-ffa-kernel

linux-ffa-kernel: $(LINUX_FFA_DIR)/Image

linux-ffa-check-source:
	$(Q)test -n "$(LINUX_FFA_VERSION)" -a -f "$(LINUX_FFA_TARBALL)" || { \
		echo "linux-ffa: Debian's $(LINUX_FFA_PKG) is not installed ($(LINUX_FFA_TARBALL)): run 'make deps'" >&2; \
		exit 1; }

$(LINUX_FFA_SRC)/.extracted: | linux-ffa-check-source
	$(Q)rm -rf $(LINUX_FFA_SRC) && mkdir -p $(LINUX_FFA_SRC)
	@echo "  UNTAR   $(LINUX_FFA_TARBALL) ($(LINUX_FFA_VERSION))"
	$(Q)tar -xf $(LINUX_FFA_TARBALL) -C $(LINUX_FFA_SRC)
	$(Q)touch $@

# The configuration is the fragment on top of allnoconfig, checked line by
# line; the build log stays in the tree (its tail is shown on failure).
$(LINUX_FFA_KTREE)/.built: $(LINUX_FFA_SRC)/.extracted
	$(Q)rm -rf $(LINUX_FFA_KTREE) && mkdir -p $(LINUX_FFA_KTREE)
	@echo "  KCONFIG $(LINUX_FFA_FRAGMENT) on allnoconfig ($(LINUX_FFA_PKG) $(LINUX_FFA_VERSION))"
	$(Q)$(LINUX_FFA_KMAKE) KCONFIG_ALLCONFIG=$(abspath $(LINUX_FFA_FRAGMENT)) allnoconfig \
		>$(LINUX_FFA_KTREE)/build.log 2>&1 || { tail -n 30 $(LINUX_FFA_KTREE)/build.log; exit 1; }
	$(Q)$(PYTHON) tools/linux/kconfig_check.py $(LINUX_FFA_FRAGMENT) $(LINUX_FFA_KTREE)/.config
	@echo "  KBUILD  Image, modules ($(LINUX_FFA_KTREE); log: build.log; a few minutes, once)"
	$(Q)start=$$(date +%s); $(LINUX_FFA_KMAKE) $(LINUX_FFA_JOBS) Image modules \
		>>$(LINUX_FFA_KTREE)/build.log 2>&1 || { tail -n 40 $(LINUX_FFA_KTREE)/build.log; exit 1; }; \
		echo "  KBUILD  done in $$(( $$(date +%s) - start )) s"
	$(Q)touch $@

# A stable name for the rest of the build; copied only when the tree is new.
$(LINUX_FFA_DIR)/Image: $(LINUX_FFA_KTREE)/.built
	$(Q)cp -f $(LINUX_FFA_KTREE)/arch/arm64/boot/Image $@
	$(Q)ln -sfn $(notdir $(LINUX_FFA_KTREE)) $(LINUX_FFA_DIR)/kernel

# Keeps the kernel trees and the source; distclean removes everything.
linux-ffa-clean:
	$(Q)rm -rf $(LINUX_FFA_DIR)/Image $(LINUX_FFA_DIR)/kernel $(LINUX_FFA_DIR)/module \
		$(LINUX_FFA_DIR)/initramfs $(LINUX_FFA_DIR)/initramfs.cpio.gz $(IMAGE_DIR)/linux-ffa

# ---------------------------------------------------------------------------
# The self-test module, built out of tree against that kernel. Kbuild
# writes its objects next to the sources, so they are copied first.
LINUX_FFA_MOD_SRC := guest/linux/bulkhead-ffa-test
LINUX_FFA_MOD_FILES := $(LINUX_FFA_MOD_SRC)/Kbuild $(LINUX_FFA_MOD_SRC)/bulkhead_ffa_test.c \
	$(LINUX_FFA_MOD_SRC)/protocol.h
LINUX_FFA_MODULE := $(LINUX_FFA_DIR)/module/bulkhead_ffa_test.ko

$(LINUX_FFA_MODULE): $(LINUX_FFA_MOD_FILES) $(LINUX_FFA_DIR)/Image
	$(Q)rm -rf $(@D) && mkdir -p $(@D)
	$(Q)cp $(LINUX_FFA_MOD_FILES) $(@D)/
	@echo "  KMOD    $@"
	$(Q)$(MAKE) --no-print-directory -C $(LINUX_FFA_DIR)/kernel M=$(abspath $(@D)) ARCH=arm64 \
		CROSS_COMPILE=$(CROSS_COMPILE) KCONFIG_CONFIG=.config modules >$(@D)/build.log 2>&1 \
		|| { cat $(@D)/build.log; exit 1; }

# The initramfs: busybox (from the Linux payloads' package, mk/linux.mk),
# our /init and the module, packed by tools/linux/mkinitramfs.py.
LINUX_FFA_ROOTFS := guest/linux/linux-ffa-rootfs
$(LINUX_FFA_DIR)/initramfs.cpio.gz: $(LINUX_FFA_MODULE) $(O)/linux/kernel.json \
		$(shell find $(LINUX_FFA_ROOTFS) -type f) tools/linux/mkinitramfs.py tools/linux/newc.py
	$(Q)rm -rf $(LINUX_FFA_DIR)/initramfs && mkdir -p $(LINUX_FFA_DIR)/initramfs
	$(Q)cp $(O)/linux/busybox $(LINUX_FFA_DIR)/initramfs/busybox
	$(Q)echo '{"modules": []}' >$(LINUX_FFA_DIR)/initramfs/kernel.json
	$(Q)$(PYTHON) tools/linux/mkinitramfs.py --kernel-dir $(LINUX_FFA_DIR)/initramfs \
		--rootfs $(LINUX_FFA_ROOTFS) --out $@ \
		--file lib/modules/bulkhead_ffa_test.ko=$(LINUX_FFA_MODULE)

# ---------------------------------------------------------------------------
# The product. Its manifest names linux-ffa/Image and
# linux-ffa/initramfs.cpio.gz in the image directory.
LINUX_FFA_PRODUCT := qemu-virt-linux-ffa
LINUX_FFA_IMG := $(O)/products/$(LINUX_FFA_PRODUCT)/bulkhead.img
$(IMAGE_DIR)/linux-ffa/%: $(LINUX_FFA_DIR)/%
	$(Q)mkdir -p $(@D)
	$(Q)cp -f $< $@
ifeq ($(filter $(LINUX_FFA_PRODUCT),$(PRODUCT) $(SCENARIOS) $(DEMO_EXTRAS)),)
$(eval $(call product_rules,$(LINUX_FFA_PRODUCT),manifests/$(LINUX_FFA_PRODUCT).dts))
endif
$(O)/products/$(LINUX_FFA_PRODUCT)/manifest.stamp: $(IMAGE_DIR)/linux-ffa/Image \
	$(IMAGE_DIR)/linux-ffa/initramfs.cpio.gz

# What `make test` builds for tests/test_linux_ffa.py.
.PHONY: linux-ffa-product run-linux-ffa
linux-ffa-product: $(LINUX_FFA_IMG)

# Boots the product; exit status 0 when QEMU ended normally and the module
# reported every case passed (console also in $(LINUX_FFA_DIR)/run.log).
run-linux-ffa: ensure-deps
	$(Q)$(MAKE) --no-print-directory linux-ffa-product
	@echo "  QEMU    $(LINUX_FFA_IMG) (exit with Ctrl-a x)"
	$(Q){ $(QEMU) $(QEMU_FLAGS) -kernel $(LINUX_FFA_IMG); echo $$? >$(LINUX_FFA_DIR)/run.rc; } \
		| tee $(LINUX_FFA_DIR)/run.log
	$(Q)rc=$$(cat $(LINUX_FFA_DIR)/run.rc); test "$$rc" = 0 || { \
		echo "run-linux-ffa: QEMU exited with $$rc" >&2; exit 1; }
	$(Q)grep -q "bulkhead_ffa_test: SUMMARY at unload [0-9]* passed, 0 failed" $(LINUX_FFA_DIR)/run.log || { \
		echo "run-linux-ffa: the self-test did not report every case passed (see $(LINUX_FFA_DIR)/run.log)" >&2; \
		exit 1; }
	@echo "run-linux-ffa: every self-test case passed"
