"""How much profiling inflated a run: measured against a plain run, or estimated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Above this share of the profiled time, cProfile's own per-call cost distorts the
# picture enough that call-heavy functions look bigger than they are.
DISTORTION_WARN_PCT = 20.0


@dataclass(frozen=True)
class Overhead:
    """The profiled run against an uninstrumented one.

    `method` says whether `plain_s` was measured (the user asked for a plain run) or
    estimated as ``wall - calls * per_call_s`` with `per_call_s` measured on this
    interpreter.
    """

    method: Literal["measured", "estimated", "sampled"]
    profiled_wall_s: float
    plain_s: float
    calls: int
    per_call_s: float

    @classmethod
    def estimated(cls, wall_s: float, calls: int, per_call_s: float) -> Overhead:
        """Plain time estimated from the call count and the per-call cost."""
        plain = max(wall_s - calls * per_call_s, 0.0)
        return cls("estimated", wall_s, plain, calls, per_call_s)

    @classmethod
    def sampled(cls, wall_s: float) -> Overhead:
        """A sampling run: no per-call cost; its overhead is only known when measured."""
        return cls("sampled", wall_s, wall_s, 0, 0.0)

    @classmethod
    def measured(cls, wall_s: float, plain_s: float, calls: int) -> Overhead:
        """Plain time from a real uninstrumented run of the same code."""
        per_call = max(wall_s - plain_s, 0.0) / calls if calls else 0.0
        return cls("measured", wall_s, plain_s, calls, per_call)

    @property
    def added_s(self) -> float:
        """Seconds the profiler added to the run."""
        return max(self.profiled_wall_s - self.plain_s, 0.0)

    @property
    def factor(self) -> float:
        """Profiled wall time over plain time (1.0 when nothing measurable ran)."""
        if self.plain_s <= 0:
            return 1.0
        return max(self.profiled_wall_s / self.plain_s, 1.0)

    @property
    def pct_of_profiled(self) -> float:
        """The profiler's added time as a share of the profiled run."""
        if self.profiled_wall_s <= 0:
            return 0.0
        return 100.0 * self.added_s / self.profiled_wall_s

    def sentence(self) -> str:
        """One line for the report."""
        if self.profiled_wall_s <= 0:
            return "Profiling overhead: nothing measurable ran."
        if self.method == "sampled":
            return (
                "Sampled: call counts are sample counts, and the profiler adds no per-call cost "
                "to the functions' times. Use --overhead to measure the sampler's cost with a "
                "plain run."
            )
        if self.method == "measured":
            return (
                f"Profiling inflated this run {self.factor:.2f}x (measured: plain run "
                f"{_s(self.plain_s)}, profiled run {_s(self.profiled_wall_s)})."
            )
        return (
            f"Profiling inflated this run about {self.factor:.2f}x (estimate: {self.calls:,} calls "
            f"x {self.per_call_s * 1e9:.0f} ns measured per call on this interpreter; "
            "use --overhead to measure it with a plain run)."
        )

    def warning(self) -> str | None:
        """A warning when instrumentation dominates, else None."""
        pct = self.pct_of_profiled
        if pct < DISTORTION_WARN_PCT:
            return None
        return (
            f"cProfile's per-call cost is about {pct:.0f}% of the profiled time: many tiny calls, "
            "so call-heavy functions and categories look bigger than they are. Compare with "
            "--overhead, and read est_overhead_s in the category table."
        )


def _s(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"
