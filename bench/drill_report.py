"""A drill's record: what it did, each figure beside its ceiling with a verdict, and the
section of docs/RELIABILITY.md it becomes."""

from __future__ import annotations

from dataclasses import dataclass, field

import harness

RELIABILITY_MD = harness.ROOT / "docs" / "RELIABILITY.md"
INTRO = """\
# Reliability

Fault drills, one command: `.venv/bin/python bench/drills.py [--only NAME]`. Each drill
prints what it did, what it measured and PASS or FAIL, and replaces its own section below.
"""


@dataclass(frozen=True)
class Check:
    figure: str
    measured: str
    ceiling: str
    passed: bool


@dataclass
class Drill:
    """One drill's outcome. `did` lines say what happened, in order; checks are the table."""

    name: str
    title: str
    proves: str
    did: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    # The machine's 1-minute load average when the drill started and ended: the drills
    # time the app's recovery, and the machine is shared.
    loads: tuple[float, float] = (0.0, 0.0)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    def step(self, text: str) -> None:
        self.did.append(text)
        print(f"  - {text}", flush=True)

    def check(self, figure: str, measured: str, ceiling: str, passed: bool) -> bool:
        self.checks.append(Check(figure, measured, ceiling, passed))
        print(f"  {harness.verdict(passed)}  {figure}: {measured} (ceiling: {ceiling})", flush=True)
        return passed

    def failed(self, error: BaseException) -> None:
        """The drill could not finish: that is a FAIL with its cause, never a silent gap."""
        self.check("the drill ran to the end", f"stopped: {type(error).__name__}: {error}",
                   "runs to the end", False)  # fmt: skip

    def section(self, machine: str) -> str:
        rows = [
            f"| {c.figure} | {c.measured} | {c.ceiling} | {harness.verdict(c.passed)} |"
            for c in self.checks
        ]
        return "\n".join(
            [
                f"### {self.title} (`bench/drills.py --only {self.name}`): "
                f"{harness.verdict(self.passed)}",
                "",
                f"What it proves: {self.proves}",
                "",
                f"- Run: {machine}; the drill took {self.seconds:.0f} s, load average "
                f"{self.loads[0]:.1f} when it started and {self.loads[1]:.1f} when it ended.",
                *(f"- {line}" for line in self.did),
                "",
                "| figure | measured | ceiling | verdict |",
                "|---|---|---|---|",
                *rows,
            ]
        )
