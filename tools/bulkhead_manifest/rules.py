"""The closed catalogue of the manifest compiler's rules.

Every diagnostic names one of these IDs; reporting any other ID is itself an
error (RULE-UNKNOWN). Each rule has its own negative test in
tests/test_manifest.py; the README and docs/manifest.md list them all.
"""

RULES: dict[str, str] = {
    # the input as a file
    "MANIFEST-MISSING": "the manifest file does not exist",
    "DTC": "dtc is missing, crashed or did not finish",
    "DTS-SYNTAX": "dtc rejected the source (syntax, a missing /include/ file, an include loop)",
    "PRODUCT-NAME": "the product name (from --product or the file name) is not printable UTF-8 text",
    "RULE-UNKNOWN": "the compiler reported a rule that is not in this catalogue (a compiler bug)",
    # schema
    "SCHEMA-REQUIRED": "a required node or property is missing",
    "SCHEMA-TYPE": "a property has the wrong type or cell count (a number written as a string, ...)",
    "SCHEMA-UNKNOWN": "unknown property or node (warning)",
    "SCHEMA-COMPATIBLE": "/bulkhead does not say compatible = \"bulkhead,manifest-v1\"",
    # the board description
    "PLATFORM": "the board description (platform .dtsi) is incomplete",
    "BOARD-MODEL": "the board's model is not printable text",
    "BOARD-REGION": "a board region is empty, wraps, or lies outside the address space it must be in",
    "BOARD-RAM": "the board's RAM is not one page-aligned region the hypervisor can map",
    "BOARD-OVERLAP": "board devices overlap the board's RAM or each other",
    "BOARD-GIC": "the GIC's distributor or redistributor region is missing, misaligned or too small",
    "BOARD-CPU": "a CPU's reg is not 1 or 2 cells, is wider than an MPIDR affinity, or is given twice",
    "BOARD-IRQ": "the console UART's interrupt is not one SPI of the board, or spi-count is out of range",
    # partitions
    "PHANDLE-BAD": "a reference does not resolve to a partition",
    "ID-RANGE": "partition ID outside 1..0x7fff",
    "ID-DUP": "two partitions share an ID",
    "NAME-FORMAT": "label empty, too long or with odd characters",
    "NAME-DUP": "two partitions share a label",
    "UUID-FORMAT": "uuid is not xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "UUID-DUP": "two partitions share a UUID",
    "CPU-UNKNOWN": "a CPU number the board does not have",
    "CPU-TWICE": "a physical CPU given twice (to two partitions or twice to one)",
    "MEM-ALIGN": "a region's base or size is not 4 KiB aligned",
    "MEM-EMPTY": "a region of size 0",
    "MEM-OUTSIDE": "a RAM region not inside the board's RAM that the hypervisor reaches",
    "MEM-OVERLAP": "RAM regions of partitions, the hypervisor or shared regions overlap",
    "HYP-TOO-SMALL": "the hypervisor memory does not hold the hypervisor, its page pool and the partition images",
    "DEV-OUTSIDE": "a device region outside the board's device ranges, or in RAM",
    "DEV-OVERLAP": "a device region overlaps another device or one the hypervisor keeps",
    "DEV-RESERVED": "a device the board never passes through (GIC ITS, fw_cfg)",
    "DMA-MASTER": "a device that can master the bus, without 'dma-unrestricted'",
    "DMA-UNRESTRICTED": "a partition is trusted with unrestricted DMA, or 'dma-unrestricted' has no effect (warning)",
    "IMAGE-PATH": "an image path that is absolute, has '..', characters other than letters, digits and . _ + - /, or leads outside the image directory",
    "IMAGE-MISSING": "the image file is not in the image directory",
    "IMAGE-TOO-BIG": "the image (with its bss, per its header) does not fit the first RAM region",
    "ENTRY-OUTSIDE": "the entry point is not inside the partition's RAM",
    "ENTRY-ALIGN": "the entry point is not 4-byte aligned",
    "CONSOLE-COLLIDE": "the console page is in RAM (anyone's), a shared region, the GIC or the partition's devices, or not page aligned",
    "CONSOLE-OUTSIDE": "the console page is outside the partition's address space",
    "CONSOLE-INPUT": "console input goes to a partition without a console",
    "IRQ-INVALID": "an interrupt that is not a pass-through SPI of the board",
    "IRQ-TWICE": "an interrupt given twice",
    "MSG-TARGET": "a partition lists itself, or one partition twice, as messaging target",
    "SHM-PARTITIONS": "a shared region names fewer than two partitions, or one twice",
    "SHM-ACCESS": "a shared region's access words do not match its partitions",
    "SHM-NAME": "a shared region's node name is longer than the tables hold",
    "ACCESS-WORD": "an access word that is not ro, rw, rx or rwx",
    "GRANT-PARTITION": "a grant's from/to missing, not one each, or the same partition",
    "GRANT-OPERATION": "a grant operation that is not share, lend or donate",
    "GRANT-PAGES": "a grant with max-pages 0",
    "GRANT-RANGE": "a grant range outside the 'from' partition's RAM",
    "MEM-TX-VALUE": "mem-transactions is 0 on a partition that sends memory, or set on one that never does (warning)",
    "MEM-TX-LIMIT": "the partitions' memory-transaction quotas add up to more than CONFIG_FFA_MEM_MAX_TRANSACTIONS",
    # totals
    "LIMIT-PARTITIONS": "more partitions than CONFIG_MAX_PARTITIONS",
    "LIMIT-CPUS": "more CPUs than CONFIG_MAX_CPUS",
    "LIMIT-REGIONS": "more RAM regions than CONFIG_MAX_MEM_REGIONS",
    "LIMIT-DEVICES": "more device regions than CONFIG_MAX_DEVICES",
    "LIMIT-IRQS": "a device with more interrupts than the tables hold",
    "LIMIT-SHM": "more shared regions than CONFIG_MAX_SHARED_REGIONS",
    "LIMIT-GRANTS": "more grants than CONFIG_MAX_GRANTS",
    "LIMIT-GRANT-RANGES": "a grant with more ranges than the tables hold",
}

# Rules that only ever warn.
WARNING_ONLY = {"SCHEMA-UNKNOWN", "DMA-UNRESTRICTED"}
