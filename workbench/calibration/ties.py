"""Ties: at each size, the fastest two of the router's backends within 20% of each other
are a tie ("either"): choosing either costs at most 1.2x, and which one wins moves from
run to run, so two machines never disagree on noise. Consecutive sizes with the same tie
make one range."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.calibration.fit import BACKENDS, MARGIN, Curves


@dataclass(frozen=True)
class Tie:
    """Sizes `low` to `high` where backends `a` and `b` are within 20% of each other."""

    low: float
    high: float
    a: str
    b: str

    def __str__(self) -> str:
        return f"either {self.a}/{self.b} {self.low:,.0f}..{self.high:,.0f}"


def ties(c: Curves) -> list[Tie]:
    """The size ranges where the two fastest backends are a tie."""
    names = [b for b in BACKENDS if b in c.backends()]
    if len(names) < 2:
        return []
    stack = np.vstack([c.median[b] for b in names])
    out: list[Tie] = []
    for j, size in enumerate(c.sizes):
        timed = sorted(
            (float(t), n) for t, n in zip(stack[:, j], names, strict=True) if np.isfinite(t)
        )
        if len(timed) < 2 or timed[1][0] > MARGIN * timed[0][0]:
            continue
        a, b = sorted((timed[0][1], timed[1][1]))
        last = out[-1] if out else None
        if last is not None and (last.a, last.b) == (a, b) and last.high == c.sizes[j - 1]:
            out[-1] = Tie(last.low, float(size), a, b)
        else:
            out.append(Tie(float(size), float(size), a, b))
    return out
