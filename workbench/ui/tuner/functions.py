"""The tuner's view of a gated function: its buckets as curves the fit's tools score.

A gated function's group is (qualified name, where its inputs live, GPU target; -1 is
CPU only). Its curves have one point per bucket with timings (the sizes the calls had,
their geometric middle), one curve per expert kind (pure Python, NumPy, CuPy: the three
lines of the chart), median and quartiles from what the gate measured on live calls and
in sweeps. The oracle is the fastest expert measured in each bucket; the fitted
thresholds minimise the regret against it, and the baseline ("reference only") runs the
reference expert everywhere, as the function did before it had experts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from workbench.calibration.fit import BACKENDS, Curves, GroupKey, best_tier
from workbench.errors import WorkbenchError
from workbench.route.buckets import Bucket
from workbench.route.experts import Gated
from workbench.route.features import bucket_center
from workbench.route.learner import Learner
from workbench.route.machine_profile import Tier

# The thresholds that pick each kind at every size.
ONLY = {"python": Tier(None, None), "numpy": Tier(0.0, None), "cupy": Tier(0.0, 0.0)}


@dataclass(frozen=True)
class FunctionGroup:
    """One tunable group of a gated function."""

    gate: Gated
    where: str
    device: int
    curves: Curves
    fitted: Tier
    baseline: Tier  # the reference expert at every size
    start: Tier  # thresholds set in the tuner before, else the fitted ones


def _slots(gate: Gated, learner: Learner) -> dict[str, str]:
    """Expert kind -> expert name; the tuner's sliders need at most one of each kind."""
    slots: dict[str, str] = {}
    for name in learner.order:
        kind = learner.experts[name].kind
        if kind in slots:
            raise WorkbenchError(
                f"{gate.qualname} has two {kind} experts ({slots[kind]}, {name}): the tuner's "
                "thresholds (pure Python up to, CuPy above) pick one expert per kind"
            )
        slots[kind] = name
    return slots


def _size(b: Bucket, per_decade: int) -> float:
    if b.high_size > 0 and math.isfinite(b.low_size):
        return math.sqrt(max(b.low_size, 1.0) * max(b.high_size, 1.0))
    return bucket_center(b.index, per_decade)


def _curves(key: GroupKey, buckets: list[Bucket], slots: dict[str, str], per_decade: int) -> Curves:
    sizes = np.array([_size(b, per_decade) for b in buckets], dtype=float)
    med: dict[str, np.ndarray] = {}
    low: dict[str, np.ndarray] = {}
    high: dict[str, np.ndarray] = {}
    for kind in BACKENDS:
        name = slots.get(kind)
        if name is None:
            continue
        m, lo, hi = (np.full(len(buckets), np.nan) for _ in range(3))
        for i, b in enumerate(buckets):
            s = b.stats.get(name)
            if s is None or not s.samples or s.disabled:
                continue
            q = s.quartiles()
            m[i] = s.median
            lo[i], hi[i] = q if q is not None else (m[i], m[i])
        med[kind], low[kind], high[kind] = m, lo, hi
    return Curves(key, sizes, med, low, high)


def function_groups(gate: Gated) -> dict[GroupKey, FunctionGroup]:
    """Every (where, target) of `gate` with timings, as tuner groups."""
    out: dict[GroupKey, FunctionGroup] = {}
    for device, learner in gate.learners().items():
        slots = _slots(gate, learner)
        reference_kind = learner.experts[learner.reference].kind
        for where in ("host", "device"):
            buckets = sorted(
                (
                    b
                    for b in learner.buckets.values()
                    if b.where == where and any(s.samples for s in b.stats.values())
                ),
                key=lambda b: b.index,
            )
            if not buckets:
                continue
            key: GroupKey = (gate.qualname, where, device)
            c = _curves(key, buckets, slots, learner.per_decade)
            if not c.backends():
                continue
            fitted, _ = best_tier(c)
            out[key] = FunctionGroup(
                gate,
                where,
                device,
                c,
                fitted,
                ONLY[reference_kind],
                learner.tuned.get(where, fitted),
            )
    return out
