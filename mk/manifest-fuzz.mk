# The manifest compiler's fuzz test (tests/fuzz_manifest.py).
#   make fuzz-manifests [N=cases] [SEED=n]   a longer run than `make test`'s
#   make manifest-hyp-flags                  how the tables and the
#                                            hypervisor are compiled (read
#                                            by the tests)
# The images, the autoconf header and the hypervisor objects of the
# default build must exist: both targets build them first.
.PHONY: fuzz-manifests manifest-hyp-flags

fuzz-manifests: ensure-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BULKHEAD_BUILD=$(O) $(PYTHON) tests/fuzz_manifest.py \
		--cases $(or $(N),20000) --seed $(or $(SEED),1) --build $(O)

manifest-hyp-flags: $(AUTOCONF)
	$(info CC=$(CC))
	$(info CFLAGS=$(HYP_CFLAGS))
	$(info OBJS=$(HYP_OBJS))
	@:
