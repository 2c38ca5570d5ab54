"""How much profiling inflated a run: measured against a plain run, or estimated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Above this share of the profiled time, cProfile's own cost distorts the picture enough
# that call-heavy functions look bigger than they are.
DISTORTION_WARN_PCT = 20.0

Method = Literal["measured", "estimated", "sampled", "unknown"]
# The most of a run an estimate puts down to the profiler (a factor of at most 10x).
MAX_ESTIMATED_SHARE = 0.9


@dataclass(frozen=True)
class Overhead:
    """The profiled run against an uninstrumented one.

    `method`: ``measured`` (the user asked for a plain run), ``estimated`` (from the
    profile's events at the costs measured on this interpreter; `plain_low_s` and
    `plain_high_s` bound it), ``sampled`` (a sampler: its cost is samples x the time each
    took, `sample_s`) or ``unknown`` (the costs could not be measured). `basis` says what
    an estimate was made of; `per_call_s` is the added time per recorded call.
    """

    method: Method
    profiled_wall_s: float
    plain_s: float
    calls: int
    per_call_s: float
    plain_low_s: float | None = None
    plain_high_s: float | None = None
    basis: str = ""
    samples: int = 0
    sample_s: float = 0.0
    interval_s: float = 0.0

    @classmethod
    def estimated(
        cls,
        wall_s: float,
        calls: int,
        added_s: float,
        *,
        low_s: float | None = None,
        high_s: float | None = None,
        basis: str = "",
    ) -> Overhead:
        """Plain time estimated as the wall time less what the profile's events cost;
        `low_s` and `high_s` (seconds added) bound the estimate. An estimate is never more
        than `MAX_ESTIMATED_SHARE` of the run (the costs were measured on other code)."""
        cap = MAX_ESTIMATED_SHARE * wall_s
        added_s = min(added_s, cap)
        low_s = None if low_s is None else min(low_s, added_s)
        high_s = None if high_s is None else min(high_s, cap)
        plain = max(wall_s - added_s, 0.0)
        per_call = added_s / calls if calls else 0.0
        high_plain = max(wall_s - (low_s if low_s is not None else added_s), 0.0)
        low_plain = max(wall_s - (high_s if high_s is not None else added_s), 0.0)
        return cls("estimated", wall_s, plain, calls, per_call, low_plain, high_plain, basis)

    @classmethod
    def unknown(cls, wall_s: float, calls: int) -> Overhead:
        """cProfile's costs could not be measured (a loaded machine): no estimate."""
        return cls("unknown", wall_s, wall_s, calls, 0.0)

    @classmethod
    def sampled(
        cls, wall_s: float, *, samples: int = 0, sample_s: float = 0.0, interval_s: float = 0.0
    ) -> Overhead:
        """A sampling run: its cost is `samples` x `sample_s` (the time the sampler held
        the interpreter for each sample, measured); the plain time is what is left."""
        plain = max(wall_s - samples * sample_s, 0.0)
        return cls(
            "sampled",
            wall_s,
            plain,
            0,
            0.0,
            samples=samples,
            sample_s=sample_s,
            interval_s=interval_s,
        )

    @classmethod
    def measured(
        cls, wall_s: float, plain_s: float, calls: int, *, samples: int = 0, sample_s: float = 0.0
    ) -> Overhead:
        """Plain time from a real uninstrumented run of the same code."""
        per_call = max(wall_s - plain_s, 0.0) / calls if calls else 0.0
        return cls("measured", wall_s, plain_s, calls, per_call, samples=samples, sample_s=sample_s)

    @property
    def added_s(self) -> float:
        """Seconds the profiler added to the run."""
        return max(self.profiled_wall_s - self.plain_s, 0.0)

    @property
    def factor(self) -> float:
        """Profiled wall time over plain time (1.0 when nothing measurable ran)."""
        return _factor(self.profiled_wall_s, self.plain_s)

    @property
    def factor_range(self) -> tuple[float, float]:
        """The lowest and highest factor an estimate allows (the factor itself otherwise)."""
        if self.plain_low_s is None or self.plain_high_s is None:
            return self.factor, self.factor
        return (
            _factor(self.profiled_wall_s, self.plain_high_s),
            _factor(self.profiled_wall_s, self.plain_low_s),
        )

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
            return self._sampled_sentence()
        if self.method == "unknown":
            return (
                "Profiling overhead unknown: cProfile's costs could not be measured on this "
                "interpreter (the machine was too busy: profiled loops ran no slower than "
                "plain ones); use --overhead to measure it with a plain run."
            )
        if self.method == "measured":
            return self._measured_sentence()
        low, high = self.factor_range
        span = f", likely {low:.2f}-{high:.2f}x" if high - low >= 0.01 else ""
        return (
            f"Profiling inflated this run about {self.factor:.2f}x (estimate{span}: "
            f"{self.basis or f'{self.calls:,} calls'}; use --overhead to measure it with a "
            "plain run)."
        )

    def _measured_sentence(self) -> str:
        if self.plain_s >= self.profiled_wall_s:
            # A plain run as slow as the profiled one: the noise hides the cost, no factor.
            text = (
                f"No inflation measurable: the plain run ({_s(self.plain_s)}) was no faster "
                f"than the profiled one ({_s(self.profiled_wall_s)}), so the profiler's cost "
                "was within the run-to-run noise."
            )
        else:
            text = (
                f"Profiling inflated this run {self.factor:.2f}x (measured: plain run "
                f"{_s(self.plain_s)}, profiled run {_s(self.profiled_wall_s)})."
            )
        if self.samples:
            text += (
                f" {self.samples:,} samples, the sampler's own work {_us(self.sample_s)} each "
                f"({_s(self.samples * self.sample_s)} in all)."
            )
        return text

    def _sampled_sentence(self) -> str:
        if not self.samples:
            return (
                "Sampled: the count columns are sample counts. Use --overhead to measure the "
                "sampler's cost with a plain run."
            )
        apart = f", about {self.interval_s * 1e3:.2g} ms apart" if self.interval_s else ""
        if self.sample_s <= 0:
            # pyinstrument: its per-sample cost is not measured, so no lower bound is claimed.
            return (
                f"Sampled: {self.samples:,} samples{apart}; the count columns are sample "
                "counts. The sampler's own cost was not measured in this mode; --overhead "
                "measures it against a plain run."
            )
        return (
            f"Sampled: {self.samples:,} samples{apart}; the count columns are sample counts. "
            f"Each sample held the interpreter {_us(self.sample_s)} (walking the stack), "
            f"{_s(self.samples * self.sample_s)} in all: at least {self.factor:.2f}x. Handing "
            "the interpreter to the sampler and back comes on top, more on a busy machine; "
            "--overhead measures the whole cost against a plain run."
        )

    def warning(self) -> str | None:
        """A warning when instrumentation dominates, else None."""
        pct = self.pct_of_profiled
        if pct < DISTORTION_WARN_PCT or self.method == "sampled":
            return None
        if self.method == "measured" and not self.calls:
            # A sampler measured against a plain run: no per-call cost skews the shares.
            return (
                f"The sampler's cost was about {pct:.0f}% of the profiled time (measured "
                "against the plain run): a busy machine hands the interpreter over slowly. "
                "The shares are of samples and are not skewed by it per call."
            )
        advice = "" if self.method == "measured" else ", or compare with --overhead"
        return (
            f"cProfile's own cost is about {pct:.0f}% of the profiled time: many tiny calls, "
            "so call-heavy functions and categories look bigger than they are. Read the "
            f"corrected shares (% corrected), which take it out{advice}."
        )


def _factor(wall: float, plain: float) -> float:
    if plain <= 0:
        return 1.0
    return max(wall / plain, 1.0)


def _s(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us" if seconds >= 1e-6 else f"{seconds * 1e9:.0f} ns"
