"""Diagnostics: every problem carries a rule ID and a source location."""
from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "error" or "warning"
    rule: str
    location: Optional[Location]
    node: str
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        node = f"{self.node}: " if self.node else ""
        return f"{where}{self.severity}[{self.rule}]: {node}{self.message}"


class ManifestError(Exception):
    """Raised when compilation cannot go on; carries all diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass
class Reporter:
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, rule: str, loc: Optional[Location], node: str,
              message: str) -> None:
        self.diagnostics.append(Diagnostic("error", rule, loc, node, message))

    def warning(self, rule: str, loc: Optional[Location], node: str,
                message: str) -> None:
        self.diagnostics.append(
            Diagnostic("warning", rule, loc, node, message))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ManifestError(self.diagnostics)
