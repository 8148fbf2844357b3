"""The checked manifest, as plain data."""
from dataclasses import dataclass, field
from typing import Optional

from .diag import Location

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


@dataclass
class Device:
    name: str
    path: str
    loc: Optional[Location]
    regions: list[Region]
    irqs: list[int]  # GIC INTIDs
    dma_unrestricted: bool = False  # the manifest trusts it with any DMA
    bus_master: bool = False  # set by the checks from the board description

    @property
    def trusted_dma(self) -> bool:
        """A bus master passed through with unrestricted DMA."""
        return self.bus_master and self.dma_unrestricted


@dataclass
class Partition:
    path: str
    loc: Optional[Location]
    id: int
    name: str
    uuid: bytes
    cpus: list[int]
    memory: list[Region]
    image: str
    image_path: str = ""
    image_file_size: int = 0
    image_footprint: int = 0
    entry: Optional[int] = None
    console: Optional[int] = None
    devices: list[Device] = field(default_factory=list)
    messaging: list["Partition"] = field(default_factory=list)
    messaging_refs: list[int] = field(default_factory=list)
    phandle: int = 0
    prop_locs: dict[str, Location] = field(default_factory=dict)
    mem_transactions: Optional[int] = None  # as written in the manifest
    mem_quota: int = 0  # effective quota, set by the checks

    def where(self, prop: str) -> Optional[Location]:
        """Source location of one of this partition's properties."""
        return self.prop_locs.get(prop, self.loc)


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


@dataclass
class Platform:
    name: str
    ram: list[Region]
    cpus: list[int]  # MPIDR affinity values, index = physical CPU number
    gicd: Region
    gicr: Region
    uart: Region
    uart_intid: int
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
