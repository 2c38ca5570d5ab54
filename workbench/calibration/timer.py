"""Adaptive timing of one call: the first call apart, then repeats that fit a time budget.

Each timed call ends with `sync()` (a device synchronise for GPU work), so asynchronous
kernels are charged to the call that launched them. Calls shorter than about 50 us are
timed in batches so the clock's resolution does not dominate.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

_BATCH_FLOOR_S = 50e-6  # one sample lasts at least this long
_MIN_REPEATS = 3
_MAX_REPEATS = 25


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the first call, the steady-state median and its quartiles."""

    first_s: float
    median_s: float
    low_s: float
    high_s: float
    calls: int

    @property
    def valid(self) -> bool:
        """Finite and positive: anything else never reaches a fit."""
        return all(math.isfinite(v) and v > 0 for v in (self.median_s, self.low_s, self.high_s))


def _noop() -> None:
    return None


def first_call(
    fn: Callable[[], object],
    sync: Callable[[], None] = _noop,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, object]:
    """Seconds of one call of `fn` and its result (the result is checked before timing)."""
    start = clock()
    result = fn()
    sync()
    return clock() - start, result


def time_call(
    fn: Callable[[], object],
    budget_s: float,
    first_s: float,
    sync: Callable[[], None] = _noop,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Time `fn` after its first call (`first_s`): as many repeats as fit `budget_s`."""
    start = clock()
    fn()
    sync()
    estimate = max(clock() - start, 1e-9)
    batch = max(1, math.ceil(_BATCH_FLOOR_S / estimate))
    repeats = int(min(_MAX_REPEATS, max(_MIN_REPEATS, budget_s // (estimate * batch))))
    samples = [estimate] if batch == 1 else []  # a slow call's estimate is a sample too
    while len(samples) < repeats:
        start = clock()
        for _ in range(batch):
            fn()
            sync()
        samples.append((clock() - start) / batch)
    if len(samples) >= 4:
        low, _, high = statistics.quantiles(samples, n=4)
    else:
        low, high = min(samples), max(samples)
    return Timing(first_s, statistics.median(samples), low, high, 1 + len(samples) * batch)
