"""What a gated function's learner keeps, and how it chooses: buckets and their
choices, the runners of its experts, the candidates of a bucket (fastest predicted
first), the plans the fast path calls, and choices taken from the tuner's thresholds or
from the measured buckets on either side. learner.py answers calls with it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from workbench.route import neighbours as nb
from workbench.route.buckets import INTERPOLATED, MARGIN, MATCHED, ONLY, TUNED, Bucket, Plan
from workbench.route.compare import Tolerance
from workbench.route.expert import CUPY, NUMPY, PYTHON, Expert, Placer
from workbench.route.features import bucket_center, bucket_label, bucket_of
from workbench.route.machine_profile import Tier

RECHECK = 256  # calls before the first re-check of a bucket's choice; doubles each time
MAX_RECHECK = 1 << 20
CHECK_SHARE = 0.1  # a costly check of a result waits until it is this share of the time
LARGE = 1000  # at this size and above, array experts are tried before pure Python
Clock = Callable[[], float]


class LearnerState:
    """Buckets, choices and plans of one gated function (the learning is Learner's)."""

    def __init__(
        self,
        name: str,
        experts: list[Expert],
        *,
        per_decade: int,
        samples: int,
        clock: Clock,
        tolerance: Tolerance,
        check_share: float | None = CHECK_SHARE,
    ) -> None:
        self.name = name
        self.check_share = check_share
        self.experts = {e.name: e for e in experts}
        self.order = [e.name for e in experts]
        self.reference = experts[0].name
        self.per_decade = per_decade
        self.samples = samples
        self.clock = clock
        self.tolerance = tolerance
        self.buckets: dict[tuple[str, int], Bucket] = {}
        self.tuned: dict[str, Tier] = {}  # where -> thresholds set in the tuner
        self.placer = Placer(None, None)
        self.cp: ModuleType | None = None
        self.oom: tuple[type[BaseException], ...] = (MemoryError,)
        self.dirty = False  # learned something not saved yet
        self._runners: dict[tuple[str, str, str], Callable[..., Any]] = {}

    # --- state ------------------------------------------------------------------------

    def bucket(self, where: str, size: float) -> Bucket:
        index = bucket_of(size, self.per_decade)
        found = self.buckets.get((where, index))
        if found is None:
            found = self.buckets[(where, index)] = Bucket(index, where)
        return found

    def label(self, b: Bucket) -> str:
        return bucket_label(b.index, self.per_decade)

    def runner(self, name: str, lives: str, out: str) -> Callable[..., Any]:
        """The expert called with its arrays where it needs them, the result at `out`."""
        key = (name, lives, out)
        found = self._runners.get(key)
        if found is None:
            e = self.experts[name]
            found = self._runners[key] = self.placer.runner(
                e.callable(self.cp), e.where, lives, out
            )
        return found

    def reset_runners(self) -> None:
        self._runners.clear()

    def usable(self, name: str) -> bool:
        return not self.experts[name].unavailable

    def candidates(self, b: Bucket) -> list[str]:
        """Experts that may run in `b`, fastest predicted first (never-timed ones by a
        prior: array experts first, pure Python last at LARGE sizes and above; else
        after the timed ones, in definition order)."""
        out: list[tuple[tuple[int, float, int], str]] = []
        large = bucket_center(b.index, self.per_decade) >= LARGE
        for rank, name in enumerate(self.order):
            s = b.stat(name)
            if not self.usable(name) or s.disabled:
                continue
            linear = self.experts[name].kind == PYTHON
            s.skipped = nb.hopeless(self.buckets.values(), b, name, self.per_decade, linear)
            if s.skipped:
                continue
            here = s.median
            guess = (
                here
                if here is not None
                else nb.predict(self.buckets.values(), b, name, self.per_decade)
            )
            array = self.experts[name].kind != PYTHON
            if guess is not None:
                key = (1, guess, rank)
            elif large:  # never timed: array experts before anything at large sizes
                key = (0 if array else 3, 0.0, rank)
            else:
                key = (2, 0.0, rank)
            out.append((key, name))
        return [name for _, name in sorted(out)]

    # --- choosing -----------------------------------------------------------------------

    def decide(self, b: Bucket, cands: list[str], source: str) -> None:
        """The fastest candidate timed here becomes the choice; the fast path calls it."""
        timed = sorted((m, n) for n in cands if (m := b.stat(n).median) is not None)
        if timed:
            best_m, best = timed[0]
            b.tie = timed[1][1] if len(timed) > 1 and timed[1][0] <= best_m * MARGIN else None
        else:
            best, b.tie = cands[0], None
        b.choice = best
        others = [n for n in self.order if n not in cands]
        out = [n for n in others if not self.usable(n) or b.stat(n).disabled]
        b.source = ONLY if len(cands) == 1 and len(out) == len(others) else source
        b.note = "; ".join(f"{n} {b.stat(n).skipped}" for n in others if b.stat(n).skipped)
        self.install(b)

    def install(self, b: Bucket, calls: int | None = None) -> None:
        assert b.choice is not None
        self._drop_plan(b)
        if calls is None:
            calls = min(MAX_RECHECK, RECHECK << b.plans_issued)
        if b.check_due and not b.stat(b.choice).checked.startswith(MATCHED):
            done = sum(s.calls for s in b.stats.values())
            calls = max(1, min(calls, b.check_due - done))  # back to the slow path for it
        b.plans_issued += 1
        b.plan = Plan(b.choice, self.runner(b.choice, b.where, b.where), calls)
        self.dirty = True

    def _drop_plan(self, b: Bucket) -> None:
        if b.plan is not None:
            b.stat(b.plan.expert).calls += b.plan.used
            b.plan.left = 0  # sizes still mapped to it go to the slow path
            b.plan = None

    def _adopt(self, b: Bucket) -> bool:
        """A choice for a bucket never measured: from the tuner's thresholds, or from
        the measured buckets on either side when they agree."""
        if any(s.samples for s in b.stats.values()):
            return False
        tier = self.tuned.get(b.where)
        if tier is not None:
            b.choice, b.tie, b.source = self.for_tier(tier, b.index), None, TUNED
            self.install(b)
            return True
        found = nb.interpolated(self.buckets.values(), b, self.candidates(b), self.per_decade)
        if found is None:
            return False
        b.choice, b.note = found
        b.tie, b.source = None, INTERPOLATED
        self.install(b, RECHECK // 4)
        return True

    def for_tier(self, tier: Tier, index: int) -> str:
        """The expert a Tier picks at a bucket: pure Python up to simd_above, CuPy above
        gpu_above, NumPy between (the closest kind there is when one is missing)."""
        size = bucket_center(index, self.per_decade)
        if tier.gpu_above is not None and size > tier.gpu_above:
            wanted = (CUPY, NUMPY, PYTHON)
        elif tier.simd_above is not None and size > tier.simd_above:
            wanted = (NUMPY, CUPY, PYTHON)
        else:
            wanted = (PYTHON, NUMPY, CUPY)
        for kind in wanted:
            for name in self.order:
                if self.experts[name].kind == kind and self.usable(name):
                    return name
        return self.reference

    def tune(self, where: str, tier: Tier) -> None:
        """Use thresholds set by hand (the tuner) for every bucket of `where`."""
        self.tuned[where] = tier
        for b in self.buckets.values():
            if b.where == where:
                b.choice, b.tie, b.source, b.note = self.for_tier(tier, b.index), None, TUNED, ""
                self.install(b)

    def record(
        self, where: str, size: float, name: str, seconds: list[float], first_s: float | None
    ) -> Bucket:
        """Timings of `name` from a sweep (workbench.calibrate)."""
        b = self.bucket(where, size)
        b.seen(size)
        s = b.stat(name)
        for t in seconds:
            s.add(t)
        e = self.experts[name]
        if first_s is not None and e.first_s is None:
            e.first_s, e.first_bucket = first_s, b.index
        self.dirty = True
        return b

    def states(self) -> Mapping[tuple[str, int], Bucket]:
        return self.buckets
