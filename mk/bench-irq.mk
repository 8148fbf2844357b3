# Interrupt path lengths (virtual timer, SGI between vCPUs): the product
# tests/bench/irq-bench.dts built like the FF-A bench's, in the same
# build directory, then booted under -icount by tests/bench_irq.py.
.PHONY: bench-irq
bench-irq: ensure-deps
	$(Q)$(MAKE) --no-print-directory O=$(BENCH_O) DEFCONFIG=qemu_virt_bench_defconfig \
		MANIFEST=tests/bench/irq-bench.dts SCENARIOS= all
	$(Q)$(PYTHON) tests/bench_irq.py --image $(BENCH_O)/products/irq-bench/bulkhead.img \
		--out $(O)/bench --qemu $(QEMU) --config qemu_virt_bench_defconfig

bench: bench-irq
