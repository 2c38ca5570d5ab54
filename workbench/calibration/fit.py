"""Fit the router's thresholds to a calibration, find crossovers, and score any table.

A *group* is one op, one residency and one target: the CPU alone (device -1) or one GPU.
Its *curves* are the measured seconds per call of each backend against size. At each size
the *oracle* is the fastest backend measured there; a threshold set's *regret* at that
size is its chosen backend's time over the oracle's. Where the chosen backend was not
timed (it had stopped: far slower, or over the time cap), its time is extrapolated from
its last two points, so a table that picks a slow backend is charged for it.

The fitted thresholds minimise the geometric-mean regret over the group's sizes (a sum
of seconds would let the largest size decide everything); ties go to the smaller total
excess seconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from workbench.calibration.result import CPU, Calibration, Point
from workbench.calibration.transfer import best_method, staged_threads
from workbench.route.kinds import Complexity
from workbench.route.machine_profile import (
    SEED_THRESHOLDS,
    MachineProfile,
    Thresholds,
    Tier,
    Transfer,
    seed_profile,
)
from workbench.route.ops import BUILTIN_NAMES

if TYPE_CHECKING:
    import pandas as pd

BACKENDS = ("python", "numpy", "cupy")
ORACLE_LANES = ("idiom-python", "idiom-numpy", "idiom-cupy")
GroupKey = tuple[str, str, int]  # op, residency, device (-1: CPU only)


@dataclass(frozen=True)
class Curves:
    """One group's measurements: sizes, and per backend times (NaN where not timed)."""

    key: GroupKey
    sizes: np.ndarray
    median: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    # The independent oracle's lanes: idiomatic code per library (calibrate/oracle.py),
    # median seconds per call at each size (NaN where not timed).
    idiom: dict[str, np.ndarray] = field(default_factory=dict)

    def backends(self) -> list[str]:
        """Backends with at least one timed size."""
        return [b for b in BACKENDS if b in self.median and np.isfinite(self.median[b]).any()]

    def filled(self, backend: str) -> np.ndarray:
        """Times with the gaps after a backend's last timed size extrapolated (log-log,
        slope from its last two points, at least 1), and before its first (slope from its
        first two points, 0 to 1: a smaller size is never predicted much cheaper)."""
        t = self.median.get(backend)
        if t is None:
            return np.full(len(self.sizes), np.nan)
        out = t.copy()
        timed = np.flatnonzero(np.isfinite(t))
        if len(timed) == 0:
            return out
        last = timed[-1]
        slope = 1.0
        if len(timed) >= 2:
            prev = timed[-2]
            slope = max(
                1.0, math.log(t[last] / t[prev]) / math.log(self.sizes[last] / self.sizes[prev])
            )
        tail = np.arange(last + 1, len(self.sizes))
        out[tail] = t[last] * (self.sizes[tail] / self.sizes[last]) ** slope
        first = timed[0]
        if first > 0:
            back = 0.0
            if len(timed) >= 2:
                nxt = timed[1]
                back = min(
                    1.0,
                    max(
                        0.0,
                        math.log(t[nxt] / t[first]) / math.log(self.sizes[nxt] / self.sizes[first]),
                    ),
                )
            head = np.arange(0, first)
            out[head] = t[first] * (self.sizes[head] / self.sizes[first]) ** back
        return out

    def oracle(self) -> np.ndarray:
        """The fastest timed backend's seconds at each size (NaN where none was timed)."""
        return _fastest([self.median[b] for b in self.backends()], len(self.sizes))

    @property
    def independent(self) -> bool:
        """Whether the idiomatic code was timed (calibrations since the oracle lanes)."""
        return any(np.isfinite(t).any() for t in self.idiom.values())

    def reference(self) -> np.ndarray:
        """What a choice is scored against at each size: the fastest idiomatic code
        (independent of the router's kernels) where it was timed, else the fastest of
        the router's backends."""
        own = self.oracle()
        if not self.independent:
            return own
        idiom = _fastest(list(self.idiom.values()), len(self.sizes))
        return np.where(np.isfinite(idiom), idiom, own)


def _fastest(rows: list[np.ndarray], n: int) -> np.ndarray:
    if not rows:
        return np.full(n, np.nan)
    stack = np.vstack(rows)
    with np.errstate(all="ignore"):
        return np.where(
            np.isfinite(stack).any(axis=0),
            np.nanmin(np.where(np.isfinite(stack), stack, np.inf), axis=0),
            np.nan,
        )


def _rows(points: Iterable[Point], key: GroupKey) -> list[Point]:
    op, residency, device = key
    out = []
    for p in points:
        if p.op != op or p.residency != residency or not p.ok:
            continue
        if p.device == device or (p.device == CPU and residency != "device"):
            out.append(p)
    return out


def groups(cal: Calibration) -> list[GroupKey]:
    """Every (op, residency, device) the calibration can fit; device -1 is CPU-only."""
    keys: dict[GroupKey, None] = {}
    for p in cal.measured():
        if p.residency != "device":
            keys[(p.op, p.residency, CPU)] = None
        if p.device != CPU:
            keys[(p.op, p.residency, p.device)] = None
    return list(keys)


def curves(cal: Calibration, key: GroupKey) -> Curves:
    """The group's curves from the calibration's timed points (the router's backends and,
    where timed, the idiomatic-code lanes of the independent oracle)."""
    rows = _rows(cal.points, key)
    if key[2] == CPU:
        rows = [p for p in rows if p.backend not in ("cupy", "idiom-cupy")]
    sizes = np.array(sorted({p.size for p in rows}), dtype=float)
    index = {s: i for i, s in enumerate(sizes)}
    med: dict[str, np.ndarray] = {}
    low: dict[str, np.ndarray] = {}
    high: dict[str, np.ndarray] = {}
    idiom: dict[str, np.ndarray] = {}
    for backend in (*BACKENDS, *ORACLE_LANES):
        mine = [p for p in rows if p.backend == backend]
        if not mine:
            continue
        if backend in ORACLE_LANES:
            idiom[backend] = np.full(len(sizes), np.nan)
            for p in mine:
                idiom[backend][index[float(p.size)]] = p.median_s
            continue
        for table in (med, low, high):
            table[backend] = np.full(len(sizes), np.nan)
        for p in mine:
            i = index[float(p.size)]
            med[backend][i], low[backend][i], high[backend][i] = p.median_s, p.low_s, p.high_s
    return Curves(key, sizes, med, low, high, idiom)


def choose(tier: Tier, sizes: np.ndarray, has_gpu: bool) -> np.ndarray:
    """Each size's backend under a tier, as the seed table reads it (index into BACKENDS).
    Without a GPU, a GPU answer becomes NumPy, as the selector does."""
    out = np.zeros(len(sizes), dtype=int)
    if tier.simd_above is not None:
        out[sizes > tier.simd_above] = 1
    if tier.gpu_above is not None:
        out[sizes > tier.gpu_above] = 2 if has_gpu else 1
    return out


@dataclass(frozen=True)
class Regret:
    """How much slower a tier is than the oracle over one group's sizes."""

    geo_mean: float  # geometric mean of chosen / best
    worst: float
    excess_s: float  # total seconds lost over all sizes, one call each
    points: int


def regret(c: Curves, tier: Tier) -> Regret:
    """The regret of `tier` on these curves: its pick's time over the reference's (the
    fastest idiomatic code, timed independently, where there is one; below 1 when the
    router's kernel beats it), else over the fastest router backend (at least 1)."""
    best = c.reference()
    has_gpu = "cupy" in c.backends()
    table = np.vstack([c.filled(b) for b in BACKENDS])
    chosen = choose(tier, c.sizes, has_gpu)
    picked = table[chosen, np.arange(len(c.sizes))]
    use = np.isfinite(best) & (best > 0)
    # a pick with no time at all (a backend never timed in the group) counts as the worst seen
    ratio = np.where(np.isfinite(picked), picked / np.where(use, best, 1.0), np.nan)[use]
    if len(ratio) == 0:
        return Regret(math.nan, math.nan, math.nan, 0)
    worst_seen = np.nanmax(ratio) if np.isfinite(ratio).any() else 1.0
    ratio = np.where(np.isfinite(ratio), ratio, max(worst_seen, 1.0))
    if not c.independent:
        ratio = np.maximum(ratio, 1.0)
    excess = float(np.sum(ratio * best[use] - best[use]))
    return Regret(float(np.exp(np.mean(np.log(ratio)))), float(ratio.max()), excess, len(ratio))


def _candidates(sizes: np.ndarray) -> list[float | None]:
    """Boundaries worth trying: below everything, between each pair of sizes, never."""
    mids = [float(math.sqrt(a * b)) for a, b in itertools.pairwise(sizes)]
    return [0.0, *mids, None]


def best_tier(c: Curves) -> tuple[Tier, Regret]:
    """The tier with the least geometric-mean regret (then least excess seconds)."""
    cands = _candidates(c.sizes)
    has_gpu = "cupy" in c.backends()
    gpu_cands: list[float | None] = cands if has_gpu else [None]
    simd_cands: list[float | None] = cands if "python" in c.backends() else [0.0]
    best: tuple[Tier, Regret] | None = None
    for simd in simd_cands:
        for gpu_above in gpu_cands:
            if simd is not None and gpu_above is not None and gpu_above < simd:
                continue
            tier = Tier(simd_above=simd, gpu_above=gpu_above)
            score = regret(c, tier)
            if best is None or (score.geo_mean, score.excess_s) < (
                best[1].geo_mean,
                best[1].excess_s,
            ):
                best = (tier, score)
    assert best is not None
    return best


@dataclass(frozen=True)
class Crossover:
    """Where backend `slow_below` stops being faster than `fast_above`, with a range
    from the timings' quartiles (the faster-at-small-sizes side first)."""

    key: GroupKey
    faster_small: str
    faster_large: str
    size: float
    low: float
    high: float


def _sign_changes(sizes: np.ndarray, d: np.ndarray) -> list[float]:
    out = []
    logs = np.log(sizes)
    for i in range(len(d) - 1):
        a, b = d[i], d[i + 1]
        if np.isfinite(a) and np.isfinite(b) and a < 0 <= b:
            frac = a / (a - b)
            out.append(float(np.exp(logs[i] + frac * (logs[i + 1] - logs[i]))))
    return out


MARGIN = 1.2  # a backend "wins" a size only when 20% faster: closer is a tie


def _clear(c: Curves, a: str, b: str, at: float) -> bool:
    """True when `a` clearly wins (quartiles apart, and by MARGIN) at some size below `at`
    and `b` clearly wins at some size above. Curves within 20% of each other are a tie
    whose crossings move from run to run; choosing either costs at most 1.2x."""
    with np.errstate(invalid="ignore"):
        a_wins = (c.high[a] < c.low[b]) & (c.median[a] * MARGIN < c.median[b])
        b_wins = (c.high[b] < c.low[a]) & (c.median[b] * MARGIN < c.median[a])
    below, above = c.sizes < at, c.sizes > at
    return bool((a_wins & below).any() and (b_wins & above).any())


def crossovers(c: Curves) -> list[Crossover]:
    """Sizes where the fastest backend changes: one backend clearly wins below (by MARGIN,
    quartiles apart) and another clearly wins above; the size where their curves cross,
    with the range the quartiles allow. Crossings between two backends that are both
    slower than a third do not change any choice and are not listed."""
    backends = c.backends()
    if len(backends) < 2:
        return []
    stack = np.vstack([c.median[b] for b in backends])
    with np.errstate(invalid="ignore"):
        filled = np.where(np.isfinite(stack), stack, np.inf)
    timed = np.isfinite(stack).any(axis=0)
    best = [
        backends[int(i)] if ok else None for i, ok in zip(filled.argmin(axis=0), timed, strict=True)
    ]
    out: list[Crossover] = []
    seen: set[tuple[str, str]] = set()
    previous: str | None = None
    for winner in best:
        if winner is None:
            continue
        if previous is not None and winner != previous and (previous, winner) not in seen:
            found = _crossing(c, previous, winner)
            if found is not None:
                out.append(found)
                seen.add((previous, winner))
        previous = winner
    return out


def _crossing(c: Curves, a: str, b: str) -> Crossover | None:
    """Where `b` overtakes `a`, if it does so clearly; None inside the noise."""
    with np.errstate(all="ignore"):
        mid = np.log(c.median[a]) - np.log(c.median[b])
        early = np.log(c.low[a]) - np.log(c.high[b])  # a at its best, b at its worst
        late = np.log(c.high[a]) - np.log(c.low[b])
    found = [x for x in _sign_changes(c.sizes, mid) if _clear(c, a, b, x)]
    if not found:
        return None
    ranges = _sign_changes(c.sizes, late) + _sign_changes(c.sizes, early) + found
    near = [x for x in ranges if found[0] / 10 <= x <= found[0] * 10]
    return Crossover(c.key, a, b, found[0], min(near), max(near))


def plain_copy_threshold(c: Curves) -> tuple[bool, float | None]:
    """(measured, CuPy-above size) for host data copied with plain cupy.asarray: the
    group refitted with the oracle's plain-copy CuPy lane in place of the router's (which
    stages its copies through pinned buffers where that measured faster)."""
    lane = c.idiom.get("idiom-cupy")
    if c.key[1] == "device" or c.key[2] == CPU or lane is None or not np.isfinite(lane).any():
        return False, None
    plain = replace(
        c,
        median={**c.median, "cupy": lane},
        low={**c.low, "cupy": lane},
        high={**c.high, "cupy": lane},
    )
    tier, _ = best_tier(plain)
    return True, tier.gpu_above


def seed_tier(op: str, thresholds: Thresholds = SEED_THRESHOLDS) -> Tier:
    """The seed table's row for an op's complexity."""
    return thresholds.tier(BUILTIN_NAMES.get(op, Complexity.MEDIUM))


@dataclass(frozen=True)
class Fit:
    """Fitted thresholds per group, with crossovers and the regret of each table."""

    calibration: Calibration
    tiers: Mapping[GroupKey, Tier]
    curves: Mapping[GroupKey, Curves]
    crossovers: tuple[Crossover, ...]
    # host-data groups: CuPy above this many elements when copies are plain cupy.asarray
    plain_copy: Mapping[GroupKey, float | None] = field(default_factory=dict)

    def regret_table(
        self, others: Mapping[str, Mapping[GroupKey, Tier]] | None = None
    ) -> pd.DataFrame:
        """A DataFrame: per group, the regret of the fitted tier, the seed table's and any
        `others` (name -> tiers)."""
        import pandas as pd

        tables: dict[str, Mapping[GroupKey, Tier]] = {
            "fitted": self.tiers,
            "seed": {k: seed_tier(k[0]) for k in self.curves},
            **(others or {}),
        }
        rows = []
        for key, c in self.curves.items():
            for name, tiers in tables.items():
                if key not in tiers:
                    continue
                score = regret(c, tiers[key])
                rows.append(
                    {
                        "op": key[0],
                        "residency": key[1],
                        "device": key[2],
                        "table": name,
                        "geo_mean": score.geo_mean,
                        "worst": score.worst,
                        "excess_s": score.excess_s,
                        "sizes": score.points,
                    }
                )
        return pd.DataFrame(rows)

    def profile(
        self, name: str = "calibrated", costs: MachineProfile | None = None
    ) -> MachineProfile:
        """A MachineProfile the router uses: these thresholds per op, residency and GPU,
        the machine key, the measurements, and cost parameters for the ops not calibrated
        (`costs`, e.g. from measure_profile(); the reference machine's otherwise)."""
        cal = self.calibration
        base = costs if costs is not None else seed_profile()
        where = f"{cal.key.cpu}; GPU: {cal.key.gpu}"
        provenance = {
            **base.provenance,
            "calibrated": f"measured by workbench calibrate ({where}, {cal.date})",
        }
        moves = base.transfer
        if cal.bandwidth:
            first = [b for b in cal.bandwidth if b.device == cal.bandwidth[0].device]
            h2d, d2h = best_method(first, "h2d"), best_method(first, "d2h")
            rate = {(b.direction, b.method): b.bytes_per_s for b in first}
            moves = Transfer(
                h2d_bytes_per_s=rate[("h2d", h2d)],
                d2h_bytes_per_s=rate[("d2h", d2h)],
                latency_s=base.transfer.latency_s if base.transfer else 10e-6,
                h2d_method=h2d,
                d2h_method=d2h,
                stage_threads=staged_threads(first),
            )
            provenance["transfer"] = f"measured by workbench calibrate ({where}, {cal.date})"
        return replace(
            base,
            transfer=moves,
            name=name,
            date=cal.date,
            provenance=provenance,
            key=cal.key.to_dict(),
            calibrated={f"{k[0]}|{k[1]}|{k[2]}": t for k, t in self.tiers.items()},
            plain_copy={f"{k[0]}|{k[1]}|{k[2]}": v for k, v in self.plain_copy.items()},
            calibration=cal.to_dict(),
        )


def fit(cal: Calibration) -> Fit:
    """Fit every group of the calibration."""
    tiers: dict[GroupKey, Tier] = {}
    found: list[Crossover] = []
    all_curves: dict[GroupKey, Curves] = {}
    plain: dict[GroupKey, float | None] = {}
    for key in groups(cal):
        c = curves(cal, key)
        if len(c.backends()) == 0 or len(c.sizes) == 0:
            continue
        all_curves[key] = c
        tiers[key], _ = best_tier(c)
        found.extend(crossovers(c))
        measured, above = plain_copy_threshold(c)
        if measured:
            plain[key] = above
    return Fit(cal, tiers, all_curves, tuple(found), plain)


def geo_mean_regret(
    curves_by_key: Mapping[GroupKey, Curves], tiers: Mapping[GroupKey, Tier]
) -> float:
    """One number for a whole table: the geometric mean of chosen/best over every size of
    every group it covers (groups weighted by their number of sizes)."""
    logs, n = 0.0, 0
    for key, c in curves_by_key.items():
        if key not in tiers:
            continue
        score = regret(c, tiers[key])
        if score.points:
            logs += math.log(score.geo_mean) * score.points
            n += score.points
    return math.exp(logs / n) if n else math.nan
