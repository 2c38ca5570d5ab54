"""What neighbouring buckets say about a bucket not measured yet: an expert's predicted
time (for the order experts are tried in, and what a check would cost), whether it is
hopelessly behind (not tried), and the choice two measured buckets on either side agree
on (interpolated).

Times are predicted with a fixed cost plus a cost per unit of size, through the nearest
bucket that timed the expert and the nearest one at least a decade away in size (sizes
as the calls had them): most experts are
that shape (pure Python: per element; NumPy: call overhead, then per element; CuPy:
launch latency, then per element), and it does not take a slope measured among
overhead-dominated small sizes for the slope of large ones. From one bucket, a
prediction is a bound: the same time (the lower bound, when judging whether an expert
is worth trying) or the time growing in proportion to size (the upper bound, when
judging what running the reference to check a result would cost).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from workbench.route.buckets import INTERPOLATED, MEASURED, SAVED, SWEPT, TUNED, Bucket
from workbench.route.features import bucket_center, bucket_label

HOPELESS = 4.0  # an expert predicted this many times slower than the fastest is not tried
_TRUSTED_SOURCES = (MEASURED, SWEPT, SAVED, TUNED)


def _same_place(buckets: Iterable[Bucket], bucket: Bucket) -> list[Bucket]:
    return [b for b in buckets if b.where == bucket.where and b.index != bucket.index]


def typical_size(b: Bucket, per_decade: int) -> float:
    """The size a bucket's calls had (the middle of those seen), or its geometric middle."""
    if b.high_size > 0 and math.isfinite(b.low_size):
        return math.sqrt(max(b.low_size, 0.5) * max(b.high_size, 0.5))
    return bucket_center(b.index, per_decade)


def predict(
    buckets: Iterable[Bucket],
    bucket: Bucket,
    name: str,
    per_decade: int,
    *,
    bound: str = "lower",
    linear: bool = False,
) -> float | None:
    """Seconds `name` would take in `bucket` (see the module): `bound` 'lower' or
    'upper' for what one timed bucket allows (`linear`: the lower bound too grows in
    proportion to size, as for pure Python that visits every element); None when no
    bucket timed it."""
    timed = sorted(
        (abs(b.index - bucket.index), typical_size(b, per_decade), m)
        for b in _same_place(buckets, bucket)
        if (m := b.stat(name).median) is not None and m > 0
    )
    if not timed:
        return None
    here = (
        typical_size(bucket, per_decade)
        if bucket.high_size > 0
        else bucket_center(bucket.index, per_decade)
    )
    _, n1, t1 = timed[0]
    # the second point at least a decade away in size: two neighbours among small,
    # overhead-bound sizes would give a per-unit cost that is mostly noise
    far = [x for x in timed[1:] if max(x[1], n1) >= 10 * min(x[1], n1)]
    if not far:
        grows = here > n1
        near = here <= 100 * n1  # a linear lower bound only within two decades
        if (bound == "upper") == grows or (linear and grows and near):
            return float(t1 * here / n1)  # in proportion to size
        return float(t1)  # the same time
    _, n2, t2 = far[0]
    per_unit = max(0.0, (t2 - t1) / (n2 - n1))
    fixed = max(0.0, t1 - per_unit * n1)
    affine = fixed + per_unit * here
    if affine <= 0:
        affine = min(t1, t2)
    if bound == "upper" and here > max(n1, n2):  # beyond both: at least in proportion
        n_far, t_far = (n1, t1) if n1 > n2 else (n2, t2)
        return float(max(affine, t_far * here / n_far))
    return float(affine)


def _ratio_trend(buckets: list[Bucket], bucket: Bucket, name: str, per_decade: int) -> str:
    """Far behind in the nearest bucket that timed it beside others, and falling further
    behind toward this one (or very far behind next door): not worth a call here."""
    ratios = sorted(
        (abs(b.index - bucket.index), b.index, r)
        for b in buckets
        if (r := b.ratio(name)) is not None
    )
    if not ratios:
        return ""
    distance, i1, r1 = ratios[0]
    same_side = [x for x in ratios[1:] if (x[1] - bucket.index) * (i1 - bucket.index) > 0]
    if r1 < HOPELESS:
        return ""
    if same_side and r1 >= same_side[0][2]:  # behind, and the gap grows toward here
        why = f"falling further behind toward here ({same_side[0][2]:.3g}x, then {r1:.3g}x)"
    elif distance <= max(1, per_decade // 2) and r1 >= 2 * HOPELESS:
        why = "next door"
    else:
        return ""
    return (
        f"not tried: {r1:.3g}x slower than the fastest in bucket "
        f"{bucket_label(i1, per_decade)}, {why}"
    )


def _predicted_behind(
    buckets: list[Bucket], bucket: Bucket, name: str, per_decade: int, linear: bool
) -> str:
    """`name`'s time here (its lower bound) against the best other expert's (timed here,
    or its upper bound): over HOPELESS times slower even so, or ''."""
    mine = predict(buckets, bucket, name, per_decade, bound="lower", linear=linear)
    if mine is None:
        return ""
    others = {}
    for other in {n for b in buckets for n in b.stats if n != name}:
        stat = bucket.stats.get(other)
        here = stat.median if stat is not None else None
        # the others at their upper bound: skip only what is hopeless even then
        guess = (
            here if here is not None else predict(buckets, bucket, other, per_decade, bound="upper")
        )
        if guess is not None and guess > 0 and not (stat is not None and stat.disabled):
            others[other] = guess
    if not others:
        return ""
    best, best_s = min(others.items(), key=lambda kv: kv[1])
    if mine <= HOPELESS * best_s:
        return ""
    return (
        f"not tried: predicted {mine / best_s:.3g}x slower than {best} here "
        f"(from its times in other buckets)"
    )


def hopeless(
    buckets: Iterable[Bucket], bucket: Bucket, name: str, per_decade: int, linear: bool = False
) -> str:
    """Why `name` need not be tried in `bucket` (empty when it should be). Its own
    timings here always win over the neighbours'. `linear`: a pure-Python expert, whose
    time is taken to grow at least in proportion to size."""
    if bucket.stat(name).samples:
        return ""
    pool = _same_place(buckets, bucket)
    return _predicted_behind(pool, bucket, name, per_decade, linear) or _ratio_trend(
        pool, bucket, name, per_decade
    )


def interpolated(
    buckets: Iterable[Bucket], bucket: Bucket, usable: Iterable[str], per_decade: int
) -> tuple[str, str] | None:
    """(choice, note) when the nearest decided buckets below and above `bucket` chose the
    same expert clearly (no tie); None otherwise."""
    decided = [b for b in _same_place(buckets, bucket) if b.choice and b.source in _TRUSTED_SOURCES]
    below = max((b for b in decided if b.index < bucket.index), key=lambda b: b.index, default=None)
    above = min((b for b in decided if b.index > bucket.index), key=lambda b: b.index, default=None)
    if below is None or above is None or below.choice != above.choice:
        return None
    if below.tie or above.tie or below.choice not in set(usable):
        return None
    assert below.choice is not None
    return below.choice, (
        f"{INTERPOLATED} between buckets {bucket_label(below.index, per_decade)} and "
        f"{bucket_label(above.index, per_decade)}, where {below.choice} was fastest"
    )


def nearest_timed(buckets: Iterable[Bucket], bucket: Bucket, name: str) -> int | None:
    """How many buckets away the nearest bucket that timed `name` is (None: none did)."""
    found = [
        abs(b.index - bucket.index) for b in _same_place(buckets, bucket) if b.stat(name).samples
    ]
    return min(found) if found else None


def smallest_seen(buckets: Mapping[tuple[str, int], Bucket], where: str) -> int | None:
    """The lowest bucket index that has had a call, for inputs living in `where`."""
    seen = [b.index for b in buckets.values() if b.where == where and b.high_size > 0]
    return min(seen) if seen else None
