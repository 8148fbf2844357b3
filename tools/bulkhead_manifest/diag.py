"""Diagnostics: every problem carries a rule ID and a source location."""
from dataclasses import dataclass, field
from typing import Optional

from .rules import RULES


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
        return one_line(f"{where}{self.severity}[{self.rule}]: {node}{self.message}")


def one_line(text: str) -> str:
    """Text with control characters (newlines, ...) shown as escapes, so a
    diagnostic stays one line whatever the input held."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def diagnostic(severity: str, rule: str, loc: Optional[Location], node: str,
               message: str) -> Diagnostic:
    """A diagnostic of a catalogued rule; an unknown rule ID becomes an
    error of its own (RULE-UNKNOWN), so the catalogue stays closed."""
    if rule not in RULES:
        return Diagnostic("error", "RULE-UNKNOWN", loc, node,
                          f"the compiler reported rule '{rule}', which is not "
                          f"in its catalogue (a compiler bug; its message: "
                          f"{severity}: {message})")
    return Diagnostic(severity, rule, loc, node, message)


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
        self.diagnostics.append(diagnostic("error", rule, loc, node, message))

    def warning(self, rule: str, loc: Optional[Location], node: str,
                message: str) -> None:
        self.diagnostics.append(diagnostic("warning", rule, loc, node, message))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ManifestError(self.diagnostics)
