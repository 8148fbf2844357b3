"""The checked manifest, as plain data."""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from .diag import Location

if TYPE_CHECKING:
    from .source import Node, SourceTree

PAGE_SIZE = 0x1000
# Sizes of the tables (include/bulkhead/manifest.h).
NAME_MAX = 31  # characters of a label or shared-region name (plus NUL)
DEVICE_IRQS_MAX = 4  # MANIFEST_DEVICE_IRQS_MAX
GRANT_RANGES_MAX = 4  # MANIFEST_GRANT_RANGES_MAX
ACCESS_WORDS = {"ro": 1, "rw": 3, "rx": 5, "rwx": 7}  # bit0 R, bit1 W, bit2 X
OPERATION_WORDS = {"share": 1, "lend": 2, "donate": 4}


@dataclass
class Region:
    base: int
    size: int
    loc: Optional[Location] = None

    @property
    def end(self) -> int:
        return self.base + self.size

    def __str__(self) -> str:
        return f"[{self.base:#x}, {self.end:#x})"

    def overlaps(self, other: "Region") -> bool:
        return self.base < other.end and other.base < self.end

    def contains(self, other: "Region") -> bool:
        return self.base <= other.base and other.end <= self.end


@dataclass(frozen=True)
class IrqSpec:
    """One GIC interrupt specifier <type number flags> as written."""
    kind: int  # 0 SPI, 1 PPI
    number: int
    flags: int

    @property
    def intid(self) -> int:
        return self.number + (32 if self.kind == 0 else 16)

    @property
    def edge(self) -> bool:
        return bool(self.flags & IRQ_EDGE_MASK)


# Trigger bits of a GIC specifier's flags cell (dt-bindings irq.h).
IRQ_EDGE_RISING = 1
IRQ_LEVEL_HIGH = 4
IRQ_EDGE_MASK = 3
IRQ_TRIGGER_MASK = 0xF


@dataclass
class Device:
    name: str
    path: str
    loc: Optional[Location]
    regions: list[Region]
    irqs: list[int]  # GIC INTIDs
    dma_unrestricted: bool = False  # the manifest trusts it with any DMA
    bus_master: bool = False  # set by the checks from the board description
    irq_specs: list[IrqSpec] = field(default_factory=list)
    compatible: Optional[list[str]] = None  # as written; None: the board's
    dma_coherent: bool = False
    board: Optional["BoardDevice"] = None  # the board's node at its address

    @property
    def trusted_dma(self) -> bool:
        """A bus master passed through with unrestricted DMA."""
        return self.bus_master and self.dma_unrestricted


@dataclass(frozen=True)
class KernelHeader:
    """The fields of an arm64 Image header the boot protocol places by."""
    text_offset: int
    image_size: int
    flags: int


@dataclass(frozen=True)
class Blob:
    """A file copied into partition RAM at boot: from the image directory
    (source "images") or written by the compiler (source "product": a
    device tree)."""
    name: str
    source: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Load:
    """Where one blob goes: `ipa` in the partition's RAM; `what` says which
    (image, kernel, initrd, device tree)."""
    what: str
    blob: Blob
    ipa: int

    @property
    def end(self) -> int:
        return self.ipa + self.blob.size


@dataclass(frozen=True)
class Spi:
    """A virtual SPI of a partition (manifest_spi)."""
    intid: int
    hw: bool
    console_rx: bool
    edge: bool


@dataclass
class Partition:
    path: str
    loc: Optional[Location]
    id: int
    name: str
    uuid: bytes
    cpus: list[int]
    memory: list[Region]
    image: Optional[str]
    # pages of `memory` mapped read-only (and executable) to the partition
    read_only: list[Region] = field(default_factory=list)
    image_path: str = ""
    image_file_size: int = 0
    image_footprint: int = 0
    kernel: Optional[str] = None  # an arm64 Image (instead of `image`)
    kernel_header: Optional[KernelHeader] = None
    initrd: Optional[str] = None
    # the files found in the image directory (image or kernel; initrd)
    main_blob: Optional[Blob] = None
    initrd_blob: Optional[Blob] = None
    bootargs: Optional[str] = None
    psci_conduit: str = "hvc"
    overlay: Optional["Node"] = None  # the `device-tree` child node
    # set by the boot stage (boot.py): what is copied where, and how it starts
    loads: list[Load] = field(default_factory=list)
    boot_arg: int = 0  # x0 of vCPU 0: the device tree's IPA
    start: int = 0  # the entry point vCPU 0 starts at
    dts: str = ""
    dtb: bytes = b""
    spis: list[Spi] = field(default_factory=list)
    entry: Optional[int] = None
    console: Optional[int] = None
    devices: list[Device] = field(default_factory=list)
    messaging: list["Partition"] = field(default_factory=list)
    messaging_refs: list[int] = field(default_factory=list)
    phandle: int = 0
    prop_locs: dict[str, Location] = field(default_factory=dict)
    mem_transactions: Optional[int] = None  # as written in the manifest
    mem_quota: int = 0  # effective quota, set by the checks
    # FF-A: what it declares (`messaging-method`, as partition information
    # property bits; None when absent)
    messaging_methods: Optional[int] = None
    notify: list["Partition"] = field(default_factory=list)
    notify_refs: list[int] = field(default_factory=list)
    scheduler: Optional["Partition"] = None  # None: itself
    scheduler_refs: list[int] = field(default_factory=list)
    boot_order: Optional[int] = None
    ready_timeout_ms: Optional[int] = None

    def where(self, prop: str) -> Optional[Location]:
        """Source location of one of this partition's properties."""
        return self.prop_locs.get(prop, self.loc)

    @property
    def ffa_properties(self) -> int:
        """Its FF-A partition information properties: what its
        `messaging-method` declares, nothing without one."""
        return self.messaging_methods or 0


@dataclass
class SharedRegion:
    name: str
    path: str
    loc: Optional[Location]
    region: Region
    members: list[tuple[Partition, int]]  # (partition, access bits)


@dataclass
class Grant:
    name: str
    path: str
    loc: Optional[Location]
    sender: Partition
    receiver: Partition
    operations: int
    max_access: int
    max_pages: int
    ranges: list[Region]


@dataclass
class BoardDevice:
    """A device node of the board description."""
    name: str
    path: str
    loc: Optional[Location]
    regions: list[Region]
    bus_master: bool = False  # can master the bus (DMA)
    reserved: bool = False  # never passed through
    compatible: list[str] = field(default_factory=list)
    irq_specs: list[IrqSpec] = field(default_factory=list)
    dma_coherent: bool = False


@dataclass
class Platform:
    name: str
    ram: list[Region]
    cpus: list[int]  # MPIDR affinity values, index = physical CPU number
    gicd: Region
    gicr: Region
    uart: Region
    uart_intid: int
    uart_irq_flags: int
    device_ranges: list[Region]
    spi_count: int
    devices: list[BoardDevice] = field(default_factory=list)
    cpus_loc: Optional[Location] = None


@dataclass
class Limits:
    max_partitions: int
    max_cpus: int
    max_mem_regions: int
    max_devices: int
    max_shared_regions: int
    max_grants: int
    mem_max_transactions: int = 32  # CONFIG_FFA_MEM_MAX_TRANSACTIONS
    mem_partition_transactions: int = 8  # CONFIG_FFA_MEM_PARTITION_TRANSACTIONS
    page_pool_pages: int = 512  # CONFIG_PAGE_POOL_PAGES
    max_partition_spis: int = 32  # CONFIG_MAX_PARTITION_SPIS


@dataclass
class Manifest:
    source: str
    platform: Platform
    hypervisor: Region
    console_input: Optional[Partition]
    partitions: list[Partition]
    shared: list[SharedRegion]
    grants: list[Grant]
    dtb: bytes
    dependencies: list[str]
    hypervisor_loc: Optional[Location] = None
    payload_region: Optional[Region] = None  # the hypervisor's `payload`
    payload_loc: Optional[Location] = None
    tree: Optional["SourceTree"] = None  # the source, for the overlays
    # set by the boot stage: every blob once, at its offset in the payload
    payload: list[tuple[Blob, int]] = field(default_factory=list)
    payload_size: int = 0
