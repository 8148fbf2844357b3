# Formatting and static checks (README "Checks"; .ci/run runs `make lint`
# before `make test`).
#   make format        clang-format every C source and header in place
#   make lint          format-check, py-lint and check-layers
#   make format-check  clang-format --dry-run -Werror over the C sources
#   make py-lint       flake8 (pyflakes' errors, .flake8) over the Python
#   make check-layers  no circle of calls in core/; arch/ and drivers/
#                      include only core's interface headers
#                      (tools/check_layers.py)

C_SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h')
PY_SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.py')
FLAKE8 ?= flake8

.PHONY: format format-check py-lint check-layers lint
format: | ensure-deps
	$(Q)clang-format -i $(C_SOURCES)

format-check: | ensure-deps
	$(Q)clang-format --dry-run -Werror $(C_SOURCES)
	@echo "  FORMAT  $(words $(C_SOURCES)) C files as .clang-format says"

py-lint: | ensure-deps
	$(Q)$(FLAKE8) $(PY_SOURCES)
	@echo "  FLAKE8  $(words $(PY_SOURCES)) Python files"

# The call graph needs one object per source: the hypervisor's sources
# compiled as for the image but without LTO (which merges them).
LAYER_DIR := $(O)/layers
LAYER_CFLAGS = $(filter-out -flto,$(HYP_CFLAGS))
FLAGS_layers = $(CC) $(LAYER_CFLAGS) -D__ASSEMBLY__
LAYER_OBJS := $(patsubst %,$(LAYER_DIR)/%.o,$(HYP_SRCS))

$(LAYER_DIR)/%.c.o: %.c $(AUTOCONF) $(FLAGS_DIR)/layers
	$(Q)mkdir -p $(dir $@)
	@echo "  CC      $<  (layer check)"
	$(Q)$(CC) $(LAYER_CFLAGS) -c $< -o $@

$(LAYER_DIR)/%.S.o: %.S $(AUTOCONF) $(FLAGS_DIR)/layers
	$(Q)mkdir -p $(dir $@)
	@echo "  AS      $<  (layer check)"
	$(Q)$(CC) $(LAYER_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

.PHONY: layer-objects
layer-objects: $(LAYER_OBJS)

check-layers: $(LAYER_OBJS) tools/check_layers.py
	$(Q)$(PYTHON) tools/check_layers.py --objects $(LAYER_DIR) --nm $(CROSS_COMPILE)nm \
		--readelf $(CROSS_COMPILE)readelf $(HYP_SRCS)

lint: format-check py-lint check-layers
