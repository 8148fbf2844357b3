"""The checked manifest, as plain data."""
from dataclasses import dataclass, field
from typing import Optional

from .diag import Location

PAGE_SIZE = 0x1000
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


@dataclass
class Limits:
    max_partitions: int
    max_cpus: int
    max_mem_regions: int
    max_devices: int
    max_shared_regions: int
    max_grants: int


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
