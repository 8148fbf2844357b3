"""Facts of the AArch64 hypervisor build that bound what a manifest and a
board may ask for. Keep them equal to the C code they describe."""

# Physical address size the hypervisor programs (TCR_EL2.PS and
# VTCR_EL2.PS = 40 bits, arch/aarch64/mmu.c): every board region lies below.
PA_LIMIT = 1 << 40

# Stage 2 translates a 39-bit IPA space (arch/aarch64/pte.c,
# STAGE2_IPA_BITS): everything a partition sees (RAM, devices, shared
# regions, its console page) lies below. IPA == PA for partition memory.
IPA_LIMIT = 1 << 39

# The hypervisor's own stage 1 (arch/aarch64/mmu.c) covers 4 GiB: the first
# GiB as device memory (the GIC and the console UART must be there), the
# board RAM within the other three as normal memory. The hypervisor copies
# images into, and reads FF-A buffers from, partition RAM through it, so
# every RAM region it or a partition uses lies in [1 GiB, 4 GiB).
HYP_MMIO_LIMIT = 1 << 30
HYP_VA_LIMIT = 1 << 32

# MPIDR_EL1 affinity fields: Aff3 [39:32], Aff2..Aff0 [23:0].
MPIDR_AFFINITY_MASK = 0xFF00FFFFFF

# GICv3: a 64 KiB distributor; per CPU two 64 KiB redistributor frames
# (RD_base and SGI_base), 64 KiB aligned.
GICD_SIZE = 0x10000
GICR_FRAME_ALIGN = 0x10000
GICR_PER_CPU = 0x20000
# SPIs are INTIDs 32..1019.
SPI_MAX = 1020 - 32

# A64 instructions are 4 bytes, and the PC of an entry must be aligned.
ENTRY_ALIGN = 4
