"""What a gate knows per size bucket: each expert's timings, failures and checks, the
choice, and the plan the fast path calls. Plain mutable records, private to the gate."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_SAMPLES = 9  # timings kept per expert and bucket (the latest)
MARGIN = 1.2  # two experts within 20% of each other are a tie: "either"

# How a bucket's choice was made.
MEASURED = "measured on live calls"
SWEPT = "measured by workbench.calibrate"
INTERPOLATED = "interpolated"
SAVED = "from the saved profile"
TUNED = "set in the tuner"
ONLY = "the only expert that can run here"
MATCHED = "matched"  # how a verified check starts: "matched python's result"


@dataclass
class Stat:
    """One expert in one bucket."""

    samples: list[float] = field(default_factory=list)  # steady-state seconds per call
    calls: int = 0  # calls it answered through the gate here (learning and exploiting)
    failures: int = 0
    disabled: str = ""  # why it is switched off in this bucket
    checked: str = ""  # how its result was verified here
    skipped: str = ""  # why it was not tried here (far behind in a neighbouring bucket)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)
        del self.samples[:-MAX_SAMPLES]

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    def quartiles(self) -> tuple[float, float] | None:
        if not self.samples:
            return None
        if len(self.samples) < 4:
            return min(self.samples), max(self.samples)
        low, _, high = statistics.quantiles(self.samples, n=4)
        return low, high


class Plan:
    """What the fast path calls for one bucket: `run`, for `left` more calls before the
    gate re-checks its choice. `issued - left` calls have gone through it."""

    __slots__ = ("expert", "issued", "left", "run")

    def __init__(self, expert: str, run: Callable[..., Any], calls: int) -> None:
        self.expert = expert
        self.run = run
        self.issued = calls
        self.left = calls

    @property
    def used(self) -> int:
        return self.issued - self.left


@dataclass
class Bucket:
    """One size bucket for inputs living in one place ('host' or 'device')."""

    index: int
    where: str
    stats: dict[str, Stat] = field(default_factory=dict)
    choice: str | None = None
    tie: str | None = None  # an expert within MARGIN of the choice
    source: str = ""
    note: str = ""
    plan: Plan | None = None
    plans_issued: int = 0  # re-checks done so far: the next one comes later each time
    waits: int = 0  # calls run on a known expert while an unknown one waits for data
    check_due: int = 0  # calls after which a postponed check of the choice's result runs
    check_note: str = ""
    low_size: float = float("inf")
    high_size: float = 0.0

    def stat(self, name: str) -> Stat:
        found = self.stats.get(name)
        if found is None:
            found = self.stats[name] = Stat()
        return found

    def medians(self) -> dict[str, float]:
        """Median seconds of every expert timed here."""
        return {name: s.median for name, s in self.stats.items() if s.median is not None}

    def best(self) -> tuple[str, float] | None:
        """The fastest expert timed here, among those not disabled."""
        timed = [(m, name) for name, m in self.medians().items() if not self.stats[name].disabled]
        if not timed:
            return None
        m, name = min(timed)
        return name, m

    def ratio(self, name: str) -> float | None:
        """An expert's median over the best's here (None unless both were timed)."""
        best = self.best()
        mine = self.stats.get(name)
        if best is None or mine is None or mine.median is None or len(self.medians()) < 2:
            return None
        return mine.median / best[1] if best[1] > 0 else None

    def seen(self, size: float) -> None:
        self.low_size = min(self.low_size, size)
        self.high_size = max(self.high_size, size)

    @property
    def exploited(self) -> int:
        return self.plan.used if self.plan is not None else 0
