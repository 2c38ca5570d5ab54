"""The records a calibration keeps: one Point per (op, residency, device, backend, size)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from workbench.machine import MachineKey

if TYPE_CHECKING:
    import pandas as pd

OK = "ok"
# Statuses of a point that was not timed, and why (the note says more).
FAILED = "failed"  # the backend raised
OOM = "oom"  # out of memory (host or GPU); the sweep went on
MISMATCH = "mismatch"  # the result differed from NumPy's, so it was not timed
DOMINATED = "dominated"  # far slower than the best backend at the last sizes
TOO_SLOW = "too-slow"  # one call was predicted to take longer than the per-call cap
MEMORY = "memory"  # the operands would not fit in the memory free
SETTLED = "settled"  # no other backend is left to compare with, so no choice to make
BUDGET = "budget"  # the time budget ran out, or the sweep was interrupted
CPU = -1  # device of a point that involves no GPU


@dataclass(frozen=True)
class Point:
    """One measured (or skipped) point of a sweep. Times are seconds per call."""

    op: str
    residency: str
    device: int
    backend: str
    size: int
    status: str = OK
    median_s: float = math.nan
    low_s: float = math.nan
    high_s: float = math.nan
    first_s: float = math.nan
    calls: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        """Timed, with finite positive times: only these reach a fit."""
        return self.status == OK and all(
            math.isfinite(v) and v > 0 for v in (self.median_s, self.low_s, self.high_s)
        )

    def to_row(self) -> list[Any]:
        return [getattr(self, f.name) for f in fields(self)]


POINT_COLUMNS = [f.name for f in fields(Point)]


@dataclass(frozen=True)
class Bandwidth:
    """Achieved host<->device copy speed of one method on one device, bytes per second."""

    device: int
    direction: str  # 'h2d' or 'd2h'
    method: str  # 'pageable', 'pinned' (the link's best) or 'staged'
    nbytes: int
    bytes_per_s: float
    threads: int = 1  # host threads filling the pinned buffers (staged copies)


@dataclass
class Calibration:
    """A sweep's points, the setup costs, copy bandwidths and what it ran on."""

    key: MachineKey
    date: str
    budget_s: float
    points: list[Point] = field(default_factory=list)
    setup: dict[str, float] = field(default_factory=dict)  # e.g. 'cupy import', 'context 0'
    bandwidth: list[Bandwidth] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)  # what was left out, and why

    def frame(self) -> pd.DataFrame:
        """The points as a DataFrame, one row each (pandas imported here only)."""
        import pandas as pd

        return pd.DataFrame([p.to_row() for p in self.points], columns=POINT_COLUMNS)

    def measured(self) -> list[Point]:
        """The points that can reach a fit."""
        return [p for p in self.points if p.ok]

    def first_calls(self) -> list[dict[str, Any]]:
        """Per op, backend and device: the first call's cost beyond the steady state, at
        the smallest size measured (imports, context, kernel compilation, caches)."""
        seen: dict[tuple[str, str, int], Point] = {}
        for p in self.points:
            k = (p.op, p.backend, p.device)
            if p.ok and k not in seen:
                seen[k] = p
        return [
            {
                "op": p.op,
                "backend": p.backend,
                "device": p.device,
                "size": p.size,
                "first_s": p.first_s,
                "steady_s": p.median_s,
                "extra_s": max(0.0, p.first_s - p.median_s),
            }
            for p in seen.values()
        ]

    def summary(self) -> str:
        """One line: how much was measured, skipped and how long it took."""
        counts: dict[str, int] = {}
        for p in self.points:
            counts[p.status] = counts.get(p.status, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        tail = " (interrupted: what was measured so far)" if self.interrupted else ""
        notes = "".join(f"\n  note: {n}" for n in self.notes)
        return f"{len(self.points)} points in {self.elapsed_s:.1f} s: {parts}{tail}{notes}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: points as rows under their column names."""
        return {
            "key": self.key.to_dict(),
            "date": self.date,
            "budget_s": self.budget_s,
            "elapsed_s": self.elapsed_s,
            "interrupted": self.interrupted,
            "notes": list(self.notes),
            "setup": dict(self.setup),
            "bandwidth": [asdict(b) for b in self.bandwidth],
            "columns": POINT_COLUMNS,
            "points": [p.to_row() for p in self.points],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """Rebuild from `to_dict` data (KeyError/TypeError/ValueError when malformed)."""
        columns = list(data["columns"])
        points = [Point(**dict(zip(columns, row, strict=True))) for row in data["points"]]
        return cls(
            key=MachineKey.from_dict(data["key"]),
            date=str(data["date"]),
            budget_s=float(data["budget_s"]),
            points=points,
            setup={str(k): float(v) for k, v in data.get("setup", {}).items()},
            bandwidth=[Bandwidth(**b) for b in data.get("bandwidth", [])],
            elapsed_s=float(data.get("elapsed_s", 0.0)),
            interrupted=bool(data.get("interrupted", False)),
            notes=[str(n) for n in data.get("notes", [])],
        )
