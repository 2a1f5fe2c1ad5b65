"""Differences between AgentOS and this service, each with the exact setting that removes it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    """One difference a client would notice, and the variable to set here (or the step to take) to remove it."""

    what: str
    fix: str


@dataclass
class Preflight:
    """What the comparison found: differences fail the preflight, notes do not, `incomplete` says what was not
    compared."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)

    def differ(self, what: str, fix: str) -> None:
        self.findings.append(Finding(what, fix))

    def lines(self) -> list[str]:
        """The report, one line each: matches, differences with their fix, notes, what was left out."""
        out = [f"same: {m}" for m in self.matches]
        out += [f"DIFFERS: {f.what}; set {f.fix}" for f in self.findings]
        out += [f"note: {n}" for n in self.notes]
        out += [f"not compared: {i}" for i in self.incomplete]
        if self.findings:
            out.append(f"preflight: {len(self.findings)} difference(s) with AgentOS: clients would notice them")
        elif self.incomplete:
            out.append("preflight: incomplete (see above)")
        else:
            out.append("preflight: agno-session matches AgentOS")
        return out

    @property
    def exit_code(self) -> int:
        """1 on any difference, 2 when nothing differed but something could not be compared, else 0."""
        return 1 if self.findings else 2 if self.incomplete else 0
