"""The gate's learning, bucket by bucket (the slow path of a gated call).

In a bucket with no choice yet, each call runs one expert and times it (GPU experts
with a device synchronise before each clock read). The first call of every expert is
timed apart and never used as a sample (imports, compilation, caches). An expert whose
result has not been checked here runs beside a trusted one (the reference, or an expert
already checked here) on the same call, and the two results are compared; one that
differs is disabled in the bucket, with a warning naming it, the bucket and the first
differing element, and the trusted result is returned. Experts the neighbouring buckets
show hopelessly behind are not tried; experts never timed anywhere wait for a smaller
bucket to time them first. Once every candidate has its samples, the fastest is chosen
(within 20% of another: a tie, "either") and the fast path calls it directly, until a
re-check after 256 calls, then 512, ... (each re-check times the choice and the
runner-up once). A bucket between two measured buckets that agree takes their choice.

An expert that raises (GPU out of memory included) is counted and disabled in that
bucket, and the next expert answers the call. When the reference raises too, the input
is bad for the function itself: the reference's exception is raised, unchanged.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from workbench import gpu
from workbench.route import neighbours as nb
from workbench.route.buckets import (
    INTERPOLATED,
    MARGIN,
    MATCHED,
    MEASURED,
    ONLY,
    SWEPT,
    TUNED,
    Bucket,
    Plan,
)
from workbench.route.compare import Tolerance, difference
from workbench.route.expert import CUPY, NUMPY, PYTHON, Expert, Placer
from workbench.route.features import bucket_center, bucket_label, bucket_of
from workbench.route.machine_profile import Tier

RECHECK = 256  # calls before the first re-check of a bucket's choice; doubles each time
MAX_RECHECK = 1 << 20
CHECK_SHARE = 0.1  # a costly check of a result waits until it is this share of the time
CONTENDER = 2.5  # experts within this of the best get a second sample before the choice
DEFER = 2  # calls an expert never timed anywhere waits for a smaller bucket to time it
DEFER_CHECK = 64  # calls a check waits when the reference's cost here is unknown
LARGE = 1000  # at this size and above, array experts are tried before pure Python
Clock = Callable[[], float]


class ExpertMismatchWarning(UserWarning):
    """An expert's result differed from the reference's: it is disabled in that bucket."""


class Learner:
    """Buckets, choices and plans of one gated function."""

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

    # --- a call on the slow path -----------------------------------------------------

    def call(
        self, b: Bucket, size: float, args: tuple[Any, ...], kwargs: dict[str, Any], out: str
    ) -> Any:
        """Answer one call in bucket `b`: learn, re-check or run the plan."""
        b.seen(size)
        if b.choice is not None:
            if b.plan is not None and b.plan.left > 0:
                return self.via_plan(b, args, kwargs, out)
            return self._recheck(b, args, kwargs, out)
        if self._adopt(b):
            return self.via_plan(b, args, kwargs, out)
        return self._explore(b, args, kwargs, out)

    def via_plan(self, b: Bucket, args: tuple[Any, ...], kwargs: dict[str, Any], out: str) -> Any:
        plan = b.plan
        assert plan is not None and b.choice is not None
        plan.left -= 1
        run = plan.run if out == b.where else self.runner(b.choice, b.where, out)
        try:
            return run(*args, **kwargs)
        except Exception as exc:
            return self.failed(b, b.choice, exc, args, kwargs, out)

    def _explore(self, b: Bucket, args: tuple[Any, ...], kwargs: dict[str, Any], out: str) -> Any:
        cands = self.candidates(b)
        if not cands:  # nothing else can run here: the reference answers, as it would
            value, error, _ = self._timed(b, self.reference, args, kwargs, out)
            if error is not None:
                raise error
            return value
        todo = [n for n in cands if not b.stat(n).samples]  # every candidate timed once,
        todo += [n for n in cands if b.stat(n).samples and self._wants_sample(b, n)]  # then twice
        if not todo:
            self.decide(b, cands, MEASURED)
            return self.via_plan(b, args, kwargs, out)
        return self.measure(b, self._next(b, cands, todo), args, kwargs, out)

    def _wants_sample(self, b: Bucket, name: str) -> bool:
        s = b.stat(name)
        if not s.samples:
            return True
        if len(s.samples) >= self.samples:
            return False
        best = b.best()
        median = s.median
        return best is None or median is None or median <= CONTENDER * best[1]

    def _known(self, name: str, where: str) -> bool:
        return any(bk.stat(name).samples for (w, _), bk in self.buckets.items() if w == where)

    def _next(self, b: Bucket, cands: list[str], todo: list[str]) -> str:
        """The expert to run next: the first still wanting a sample, unless it is pure
        Python at a LARGE size, not timed within two decades of it, and a smaller bucket
        can time it first (then a known expert runs, for up to DEFER calls)."""
        name = todo[0]
        large = bucket_center(b.index, self.per_decade) >= LARGE
        if not large or self.experts[name].kind != PYTHON or b.waits >= DEFER:
            return name
        away = nb.nearest_timed(self.buckets.values(), b, name)
        if away is not None and away <= 2 * self.per_decade:
            return name  # timed within two decades: what it costs here is known well enough
        if nb.smallest_seen(self.buckets, b.where) in (None, b.index):
            return name
        known = [n for n in cands if n != name and self._known(n, b.where)]
        if not known:
            return name
        b.waits += 1
        return known[0]

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

    # --- timing, checking, failing ----------------------------------------------------

    def _timed(
        self, b: Bucket, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: str
    ) -> tuple[Any, BaseException | None, float]:
        """Run one expert, timed: (result, None, seconds) or (None, its exception, 0)."""
        e = self.experts[name]
        s = b.stat(name)
        run = self.runner(name, b.where, out)
        sync = self.sync if e.kind == CUPY or b.where == "device" else None
        clock = self.clock
        try:
            if sync is not None:
                sync()
            start = clock()
            value = run(*args, **kwargs)
            if sync is not None:
                sync()
            seconds = clock() - start
        except Exception as exc:
            return None, exc, 0.0
        s.calls += 1
        if e.first_s is None:
            e.first_s, e.first_bucket = seconds, b.index
        else:
            s.add(seconds)
        self.dirty = True
        return value, None, seconds

    def sync(self) -> None:
        """Wait for the GPU's queued work (a no-op without CuPy)."""
        if self.cp is not None:
            gpu.synchronize(self.cp)

    def _cost(self, b: Bucket, name: str, bound: str = "upper") -> float | None:
        here = b.stat(name).median
        if here is not None:
            return here
        return nb.predict(self.buckets.values(), b, name, self.per_decade, bound=bound)

    def _calls_here(self, b: Bucket) -> int:
        return sum(s.calls for s in b.stats.values()) + b.exploited

    def _partner(self, b: Bucket, name: str, seconds: float) -> str | None:
        """The trusted expert to run beside `name` on this call to check its result here,
        or None: no check needed, none possible, or one too costly now. A check whose
        reference would cost over HOPELESS times this call (its upper bound, predicted
        from other buckets) waits until it costs at most CHECK_SHARE of the calls made
        in the bucket (the plan comes back for it then)."""
        s = b.stat(name)
        if name == self.reference or s.checked.startswith(MATCHED):
            return None
        ref = self.reference
        if not self.usable(ref) or b.stat(ref).disabled:
            s.checked = "not checked: the reference cannot run here"
            return None
        cost = self._cost(b, ref)
        if self.check_share is None or (cost is not None and cost <= nb.HOPELESS * seconds):
            return ref
        for other in self.order:
            if other != name and b.stat(other).checked.startswith(MATCHED):
                t = self._cost(b, other)
                if t is not None and t <= nb.HOPELESS * seconds:
                    return other  # checked here already, and cheap: it stands in
        large = bucket_center(b.index, self.per_decade) >= LARGE
        if cost is None and not (large and self.experts[ref].kind == PYTHON):
            return ref  # nothing known of its cost, at a small size: check now
        if cost is None:
            due = DEFER_CHECK
            why = f"{ref}'s cost here is not known yet (pure Python at a large size)"
        else:
            due = math.ceil(cost / (self.check_share * max(seconds, 1e-12)))
            why = f"{ref} is predicted {cost / max(seconds, 1e-12):.3g}x slower here"
        if self._calls_here(b) >= due:
            return ref  # the calls made here have paid for the check
        b.check_due = min(max(b.check_due, due), MAX_RECHECK)
        b.check_note = (
            f"{name}'s result is not checked here yet: {why}; the check runs once after "
            f"about {b.check_due:,} calls here ({self.check_share:.0%} of their time)"
        )
        return None

    def measure(
        self,
        b: Bucket,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        out: str,
    ) -> Any:
        """Run `name` timed (and a trusted expert beside it when its result needs a check)."""
        value, error, seconds = self._timed(b, name, args, kwargs, out)
        if error is not None:
            return self.failed(b, name, error, args, kwargs, out)
        partner = self._partner(b, name, seconds)
        if partner is None:
            return value
        trusted, problem, _ = self._timed(b, partner, args, kwargs, out)
        if problem is not None:
            if partner == self.reference and not isinstance(problem, self.oom):
                raise problem  # the function itself raises on this input
            self.disable(b, partner, f"raised {type(problem).__name__}: {problem}", failure=True)
            return value
        found = difference(
            self.placer.host_copy(value), self.placer.host_copy(trusted), self.tolerance
        )
        if found is None:
            b.stat(name).checked = f"{MATCHED} {partner}'s result"
            if b.check_note.startswith(f"{name}'s"):
                b.check_note, b.check_due = "", 0
            return value
        reason = f"its result differs from {partner}'s: {found}"
        self.disable(b, name, reason)
        warnings.warn(
            f"{self.name}: expert {name!r} disagrees with {partner!r} in size bucket "
            f"{self.label(b)} ({b.where} data): {found}. It is disabled in that bucket; "
            f"the call returns {partner}'s result",
            ExpertMismatchWarning,
            stacklevel=4,
        )
        return trusted

    def failed(
        self,
        b: Bucket,
        name: str,
        exc: BaseException,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        out: str,
    ) -> Any:
        """`name` raised on this call: the next trusted expert answers; `name` is
        disabled here unless the reference raises too (then that is the answer)."""
        oom = isinstance(exc, self.oom)
        if oom and self.cp is not None:
            gpu.free_cached_blocks(self.cp)
        if name == self.reference and not oom:
            raise exc  # the user's own function raised: their exception, unchanged
        fallback = self._fallback(b, name)
        if fallback is None:
            raise exc
        value, error, _ = self._timed(b, fallback, args, kwargs, out)
        if error is not None:
            raise error  # the fallback (the reference, or a checked expert) raises too
        what = "ran out of memory" if oom else f"raised {type(exc).__name__}"
        self.disable(b, name, f"{what}: {exc}", failure=True)
        return value

    def _fallback(self, b: Bucket, failed: str) -> str | None:
        checked = [
            n for n in self.candidates(b) if n != failed and b.stat(n).checked.startswith(MATCHED)
        ]
        if checked:
            return checked[0]
        ref = self.reference
        return ref if ref != failed and self.usable(ref) and not b.stat(ref).disabled else None

    def disable(self, b: Bucket, name: str, reason: str, *, failure: bool = False) -> None:
        """Switch `name` off in bucket `b`, with the reason (a choice it held is dropped)."""
        s = b.stat(name)
        s.disabled = reason
        s.checked = ""
        if failure:
            s.failures += 1
        self.dirty = True
        if b.choice == name or b.tie == name:
            self._drop_plan(b)
            b.choice = b.tie = None
            b.source = ""

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

    def _recheck(self, b: Bucket, args: tuple[Any, ...], kwargs: dict[str, Any], out: str) -> Any:
        """The plan ran out: time the choice and the runner-up once, choose again."""
        chosen = b.choice
        assert chosen is not None
        cands = self.candidates(b)
        others = [n for n in cands if n != chosen]
        value = self.measure(b, chosen, args, kwargs, out)
        if b.choice is None:  # the choice failed or disagreed on this call
            return value
        if others:
            self.measure(b, others[0], args, kwargs, out)
        if b.choice is not None:
            self.decide(b, cands or [chosen], b.source if b.source in (SWEPT, TUNED) else MEASURED)
        return value

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
