# Scenarios built again with configs/qemu_virt_debug_defconfig (the memory
# ownership checker after every FF-A memory call, assertions), in
# $(O)/debug; make test boots them (tests/test_boot.py: "debug/<name>").
DEBUG_O := $(O)/debug
DEBUG_SCENARIOS := ffa-mem hostile

.PHONY: debug-scenarios
debug-scenarios: | ensure-deps
	$(Q)$(MAKE) --no-print-directory O=$(DEBUG_O) DEFCONFIG=qemu_virt_debug_defconfig \
		MANIFEST=tests/scenarios/$(firstword $(DEBUG_SCENARIOS)).dts \
		$(DEBUG_SCENARIOS:%=$(DEBUG_O)/products/%/bulkhead.img)
