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
from typing import Any

from workbench import gpu
from workbench.route import neighbours as nb
from workbench.route.buckets import MATCHED, MEASURED, SWEPT, TUNED, Bucket
from workbench.route.compare import difference
from workbench.route.expert import CUPY, PYTHON
from workbench.route.features import bucket_center
from workbench.route.learner_state import (
    CHECK_SHARE,
    LARGE,
    MAX_RECHECK,
    RECHECK,
    Clock,
    LearnerState,
)

__all__ = ["CHECK_SHARE", "MAX_RECHECK", "RECHECK", "Clock", "ExpertMismatchWarning", "Learner"]
CONTENDER = 2.5  # experts within this of the best get a second sample before the choice
DEFER = 2  # calls an expert never timed anywhere waits for a smaller bucket to time it
DEFER_CHECK = 64  # calls a check waits when the reference's cost here is unknown


class ExpertMismatchWarning(UserWarning):
    """An expert's result differed from the reference's: it is disabled in that bucket."""


class Learner(LearnerState):
    """Answers the calls of one gated function on its slow path: learns, checks,
    re-checks (learner_state.py keeps the buckets and chooses)."""

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
