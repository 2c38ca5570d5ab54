"""Two readings of a fit that keep machines from disagreeing on noise, or on copies.

* Ties: at each size, the fastest two of the router's backends within 20% of each other
  are a tie ("either"): choosing either costs at most 1.2x, and which one wins moves from
  run to run. Consecutive sizes with the same tie make one range.
* Plain copies: a host-data group's CuPy threshold is fitted on the router's own copies
  (staged through pinned buffers where that measured faster); refitted on the oracle's
  plain cupy.asarray / cupy.asnumpy lane, it says where CuPy pays for code that copies
  the obvious way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from workbench.calibrate.fit import BACKENDS, MARGIN, Curves, best_tier
from workbench.calibrate.result import CPU


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


def plain_copy_threshold(c: Curves) -> tuple[bool, float | None]:
    """(measured, CuPy-above size) for host data copied with plain cupy.asarray: the
    group refitted with the oracle's plain-copy CuPy lane in place of the router's."""
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
