# The configuration matrix: the hypervisor and the default product built
# under each configs/matrix/<entry>.config (Kconfig assignments on top of
# configs/$(MATRIX_BASE)), each in its own build directory
# $(O)/matrix/<entry>, in parallel. `make test` builds them all and boots
# the entries its tests name (tests/test_config_matrix.py).
#   make config-matrix          every entry
#   make matrix-<entry>         one entry
# The scenario products are left out of these builds (SCENARIOS=).

MATRIX_BASE := qemu_virt_defconfig
MATRIX := $(basename $(notdir $(wildcard configs/matrix/*.config)))
MATRIX_DIR := $(O)/matrix

.PHONY: config-matrix $(MATRIX:%=matrix-%)
config-matrix: $(MATRIX:%=matrix-%)

# Kconfig refuses a value outside a symbol's range silently (it falls back
# to the default); the merge fails instead, naming the line.
$(MATRIX_DIR)/%/.config: configs/matrix/%.config configs/$(MATRIX_BASE) Kconfig tools/kconfig.py \
		| ensure-deps
	$(Q)mkdir -p $(@D)
	$(Q)$(PYTHON) tools/kconfig.py Kconfig $@ merge configs/$(MATRIX_BASE) $< >/dev/null

$(MATRIX:%=matrix-%): matrix-%: $(MATRIX_DIR)/%/.config
	$(Q)$(MAKE) --no-print-directory O=$(MATRIX_DIR)/$* SCENARIOS= all
