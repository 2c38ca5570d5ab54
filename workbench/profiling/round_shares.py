"""Where each measured round's time went, by category: the cheap sampler on every round.

An experiment times the baseline and the candidate in interleaved rounds. Sampling each
timed run with the stack sampler (a few percent of its time, on both sides alike) gives
every round its seconds per category, so a category's change between the versions gets an
interval from the rounds' spread, as the whole run's speedup does: the median of the
per-round differences, and a distribution-free (sign test) interval around it. Only an
interval that leaves out zero backs the words "faster" or "slower" for a category.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from workbench.profiling.capture import FuncKey
from workbench.profiling.categories import ModuleIndex, Ruleset

# Fewer rounds than this give no interval (a sign-test interval needs them).
MIN_ROUNDS = 6


@dataclass(frozen=True)
class CategoryChange:
    """A category's change from baseline to candidate, seconds per run: the median of the
    rounds' differences and its interval (`low`, `high`), over `rounds` rounds."""

    median_s: float
    low_s: float
    high_s: float
    rounds: int
    confidence: float

    @property
    def status(self) -> str:
        """faster / slower where the interval leaves out no change, else no clear change."""
        if self.high_s < 0:
            return "faster"
        if self.low_s > 0:
            return "slower"
        return "no clear change"


@dataclass
class RoundShares:
    """Samples every timed run of the subjects it wraps; `rounds[label]` holds, per round,
    the seconds per run of each category."""

    ruleset: Ruleset
    interval: float = 0.001
    rounds: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    _category: dict[FuncKey, str] = field(default_factory=dict)
    _modules: ModuleIndex | None = None

    def timed(self, label: str, timed: Callable[[int], float]) -> Callable[[int], float]:
        """`timed`, sampled: the same seconds, and this round's categories kept."""
        from workbench.profiling.stack_sampler import run_stack_sampled

        def sampled(number: int) -> float:
            seconds: list[float] = []
            profile, error = run_stack_sampled(
                [lambda: seconds.append(timed(number))], interval=self.interval
            )
            if error is not None:
                raise error
            self.rounds.setdefault(label, []).append(self._by_category(profile.stats, number))
            return seconds[0]

        return sampled

    def _by_category(self, stats: Mapping[FuncKey, tuple], number: int) -> dict[str, float]:  # type: ignore[type-arg]
        from workbench.profiling.breakdown import function_rows

        unknown = {key: value for key, value in stats.items() if key not in self._category}
        if unknown:
            if self._modules is None:
                self._modules = ModuleIndex()
            category_of, _rows = function_rows(unknown, self.ruleset, self._modules)
            self._category.update(category_of)
        held: dict[str, float] = {}
        for key, value in stats.items():
            category = self._category[key]
            held[category] = held.get(category, 0.0) + value[2] / max(number, 1)
        return held


def sign_interval(values: Sequence[float], confidence: float) -> tuple[float, float] | None:
    """The distribution-free interval for the median of `values` (order statistics of the
    sign test), or None with fewer than MIN_ROUNDS values."""
    n = len(values)
    if n < MIN_ROUNDS:
        return None
    ordered = sorted(values)
    alpha = 1.0 - confidence
    k = 0  # the largest k with P(Binomial(n, 1/2) < k) <= alpha / 2
    tail = 0.0
    while k < n // 2:
        tail += math.comb(n, k) / 2**n
        if tail > alpha / 2:
            break
        k += 1
    if k == 0:  # too few rounds for this confidence
        return None
    return ordered[k - 1], ordered[n - k]


def category_changes(
    baseline: Sequence[Mapping[str, float]],
    candidate: Sequence[Mapping[str, float]],
    confidence: float = 0.99,
) -> dict[str, CategoryChange]:
    """Per category, the change from baseline to candidate over paired rounds (round i of
    each); none for a category when there are too few rounds."""
    pairs = list(zip(baseline, candidate, strict=False))
    names = sorted({name for a, b in pairs for name in (*a, *b)})
    changes: dict[str, CategoryChange] = {}
    for name in names:
        deltas = [b.get(name, 0.0) - a.get(name, 0.0) for a, b in pairs]
        bounds = sign_interval(deltas, confidence)
        if bounds is None:
            continue
        ordered = sorted(deltas)
        middle = len(ordered) // 2
        median = (
            ordered[middle] if len(ordered) % 2 else 0.5 * (ordered[middle - 1] + ordered[middle])
        )
        changes[name] = CategoryChange(median, bounds[0], bounds[1], len(deltas), confidence)
    return changes
