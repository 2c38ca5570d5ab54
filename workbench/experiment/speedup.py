"""The speedup of a paired experiment and its confidence intervals.

Each round gives one paired log ratio d = log(baseline time / candidate time). The
speedup is exp of their Hodges-Lehmann estimate (the median of all pairwise averages of
the d's): robust to the odd slow run like a median, and nearly as efficient as a mean.

Two intervals are computed for it:

* the percentile bootstrap interval (``scipy.stats.bootstrap`` over the rounds), shown
  as "CI";
* the exact Wilcoxon signed-rank interval, distribution-free: it needs only that d is
  symmetric, which holds for code that is not faster, because ABBA rounds make the two
  versions exchangeable. Its coverage never falls below the confidence, while the
  percentile bootstrap covers too little with few rounds (about 1.2% false keeps for
  identical code at 99%, where 0.5% is promised, in a simulation of 20 rounds).

The verdict uses the wider of the two, so that "keep" is never said more often than the
confidence level allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.errors import ExperimentError

WALSH_BUDGET = 20_000_000  # pairwise averages computed over all bootstrap resamples


@dataclass(frozen=True)
class Speedup:
    """The speedup estimate, its bootstrap interval and its exact signed-rank interval."""

    point: float
    low: float
    high: float
    confidence: float
    rounds: int
    exact_low: float = 0.0
    exact_high: float = math.inf

    @property
    def floor(self) -> float:
        """The lower bound the verdict uses: the smaller of the two intervals'."""
        return min(self.low, self.exact_low)

    @property
    def ceiling(self) -> float:
        """The upper bound the verdict uses: the larger of the two intervals'."""
        return max(self.high, self.exact_high)

    def describe(self) -> str:
        """``1.234x, 99% CI 1.2x to 1.3x, 33 rounds``, plus the exact bound where it is wider."""
        text = f"{self.point:.3f}x, {self.confidence:.0%} CI {self.low:.3f}x to {self.high:.3f}x"
        if self.exact_low < self.low or self.exact_high > self.high:
            text += f" (exact signed-rank bound {self.exact_low:.3f}x to {self.exact_high:.3f}x)"
        return text + f", {self.rounds} rounds"


def walsh_averages(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """All pairwise averages (x_i + x_j) / 2 with i <= j, along the last axis."""
    n = values.shape[-1]
    first, second = np.triu_indices(n)
    result: np.ndarray[Any, Any] = (values[..., first] + values[..., second]) / 2.0
    return result


def hodges_lehmann(values: np.ndarray[Any, Any], axis: int = -1) -> np.ndarray[Any, Any]:
    """The Hodges-Lehmann estimate: the median of the Walsh averages (vectorised)."""
    moved = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    result: np.ndarray[Any, Any] = np.median(walsh_averages(moved), axis=-1)
    return result


def signed_rank_distribution(n: int) -> np.ndarray[Any, Any]:
    """P(T = t), t = 0 .. n(n+1)/2, for the Wilcoxon signed-rank statistic of n values."""
    probabilities = np.zeros(n * (n + 1) // 2 + 1)
    probabilities[0] = 1.0
    top = 0
    for rank in range(1, n + 1):
        shifted = np.zeros_like(probabilities)
        shifted[rank : top + rank + 1] = probabilities[: top + 1]
        probabilities = 0.5 * (probabilities + shifted)
        top += rank
    return probabilities


def signed_rank_interval(values: np.ndarray[Any, Any], confidence: float) -> tuple[float, float]:
    """The exact Wilcoxon signed-rank interval of the Hodges-Lehmann estimate: Walsh
    averages k+1 and N-k (sorted), k the largest count with P(T <= k) <= (1 - confidence)/2."""
    n = values.size
    tail = (1.0 - confidence) / 2.0
    cumulative = np.cumsum(signed_rank_distribution(n))
    k = int(np.searchsorted(cumulative, tail * (1 + 1e-9), side="right"))
    if k == 0:
        return -math.inf, math.inf
    averages = np.sort(walsh_averages(np.asarray(values, dtype=float)))
    return float(averages[k - 1]), float(averages[averages.size - k])


def speedup_interval(
    baseline: list[float],
    candidate: list[float],
    *,
    confidence: float,
    resamples: int = 9999,
    seed: int = 0,
) -> Speedup:
    """The paired speedup of per-round times, with its bootstrap and exact intervals."""
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if b.size != c.size or b.size == 0:
        raise ExperimentError(
            "speedup needs the same, non-zero number of baseline and candidate runs"
        )
    if np.any(b <= 0) or np.any(c <= 0):
        raise ExperimentError("a timed run took 0 s: the clock is too coarse for this code")
    ratios = np.log(b) - np.log(c)
    point = float(np.exp(hodges_lehmann(ratios)))
    if b.size < 3:
        return Speedup(point, 0.0, math.inf, confidence, int(b.size))
    exact_low, exact_high = (float(np.exp(x)) for x in signed_rank_interval(ratios, confidence))
    if float(np.ptp(ratios)) == 0.0:
        return Speedup(point, point, point, confidence, int(b.size), point, point)
    from scipy import stats

    pairs = b.size * (b.size + 1) // 2
    result = stats.bootstrap(
        (ratios,),
        hodges_lehmann,
        confidence_level=confidence,
        n_resamples=max(1000, min(resamples, WALSH_BUDGET // pairs)),
        batch=max(1, 2_000_000 // pairs),
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    return Speedup(
        point,
        float(np.exp(low)),
        float(np.exp(high)),
        confidence,
        int(b.size),
        exact_low,
        exact_high,
    )
