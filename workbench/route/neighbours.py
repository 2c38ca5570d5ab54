"""What neighbouring buckets say about a bucket not measured yet: an expert's predicted
time (for the order experts are tried in), whether it is hopelessly behind (not tried),
and the choice two measured buckets on either side agree on (interpolated)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from workbench.route.buckets import INTERPOLATED, MEASURED, SAVED, SWEPT, TUNED, Bucket
from workbench.route.features import bucket_center, bucket_label

HOPELESS = 4.0  # an expert predicted this many times slower than the fastest is not tried
_TRUSTED_SOURCES = (MEASURED, SWEPT, SAVED, TUNED)


def _same_place(buckets: Iterable[Bucket], bucket: Bucket) -> list[Bucket]:
    return [b for b in buckets if b.where == bucket.where and b.index != bucket.index]


def predict(
    buckets: Iterable[Bucket], bucket: Bucket, name: str, per_decade: int, *, measured: bool = False
) -> float | None:
    """Seconds `name` would take in `bucket`, from the nearest buckets that timed it
    (log-log through the two nearest, slope 0 to 2; slope 1 from one); None if none did
    (or, with `measured`, unless two did: the slope itself measured)."""
    timed = sorted(
        (abs(b.index - bucket.index), b.index, m)
        for b in _same_place(buckets, bucket)
        if (m := b.stat(name).median) is not None and m > 0
    )
    if not timed or (measured and len(timed) < 2):
        return None
    _, i1, m1 = timed[0]
    here, there = bucket_center(bucket.index, per_decade), bucket_center(i1, per_decade)
    slope = 1.0
    if len(timed) > 1:
        _, i2, m2 = timed[1]
        span = math.log(bucket_center(i1, per_decade) / bucket_center(i2, per_decade))
        if span:
            slope = min(2.0, max(0.0, math.log(m1 / m2) / span))
    return float(m1 * (here / there) ** slope)


def hopeless(buckets: Iterable[Bucket], bucket: Bucket, name: str, per_decade: int) -> str:
    """Why `name` need not be tried in `bucket` (empty when it should be): it is over
    HOPELESS times slower than the fastest in the nearest bucket that timed both, and
    the trend toward this bucket (from the next bucket on that side) does not close
    the gap. Its own timings here always win over the neighbours'."""
    if bucket.stat(name).samples:
        return ""
    by_trend = _predicted_behind(buckets, bucket, name, per_decade)
    if by_trend:
        return by_trend
    ratios = sorted(
        (abs(b.index - bucket.index), b.index, r)
        for b in _same_place(buckets, bucket)
        if (r := b.ratio(name)) is not None
    )
    if not ratios:
        return ""
    distance, i1, r1 = ratios[0]
    same_side = [x for x in ratios[1:] if (x[1] - bucket.index) * (i1 - bucket.index) > 0]
    if same_side:
        _, i2, r2 = same_side[0]
        per_bucket = (math.log(r1) - math.log(r2)) / (i1 - i2)
        predicted = math.exp(math.log(r1) + per_bucket * (bucket.index - i1))
        reach = 2 * per_decade
    else:
        predicted, reach = r1, per_decade // 2 or 1
    if distance > reach or r1 < HOPELESS / 2 or predicted <= HOPELESS:
        return ""
    return (
        f"not tried: {r1:.3g}x slower than the fastest in bucket "
        f"{bucket_label(i1, per_decade)}, predicted {predicted:.3g}x here"
    )


def _predicted_behind(buckets: Iterable[Bucket], bucket: Bucket, name: str, per_decade: int) -> str:
    """`name`'s time here predicted from two buckets that timed it (the slope measured),
    against the best other expert's (timed here, or predicted): far behind, or ''."""
    pool = list(buckets)
    mine = predict(pool, bucket, name, per_decade, measured=True)
    if mine is None:
        return ""
    others = {}
    for other in {n for b in pool for n in b.stats if n != name}:
        stat = bucket.stats.get(other)
        here = stat.median if stat is not None else None
        guess = here if here is not None else predict(pool, bucket, other, per_decade)
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


def smallest_seen(buckets: Mapping[tuple[str, int], Bucket], where: str) -> int | None:
    """The lowest bucket index that has had a call, for inputs living in `where`."""
    seen = [b.index for b in buckets.values() if b.where == where and b.high_size > 0]
    return min(seen) if seen else None
