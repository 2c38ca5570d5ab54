"""Plain-text tables of a fit, for the command line (no pandas needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from workbench.calibration.fit import Fit, geo_mean_regret, regret, seed_tier
from workbench.calibration.result import CPU
from workbench.calibration.ties import ties


def _size(value: float | None) -> str:
    if value is None:
        return "never"
    if value == 0:
        return "0"
    return f"{value:,.0f}"


def _python(value: float | None) -> str:
    """The pure-Python threshold: None means pure Python at every size, 0 never."""
    if value is None:
        return "every size"
    return "never" if value == 0 else f"{value:,.0f}"


def _where(device: int) -> str:
    return "CPU only" if device == CPU else f"GPU {device}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, the first left-aligned, the rest right."""
    cells = [list(header), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def thresholds_text(f: Fit) -> str:
    """Fitted thresholds per group, with the seed table's regret beside the fit's."""
    rows = []
    for key, tier in f.tiers.items():
        c = f.curves[key]
        mine, seed = regret(c, tier), regret(c, seed_tier(key[0]))
        plain = _size(f.plain_copy[key]) if key in f.plain_copy else "-"
        rows.append(
            [
                key[0],
                key[1],
                _where(key[2]),
                _python(tier.simd_above),
                _size(tier.gpu_above),
                plain,
                f"{mine.geo_mean:.3f}",
                f"{seed.geo_mean:.3f}",
                "; ".join(str(t) for t in ties(c)) or "-",
            ]
        )
    header = [
        "op",
        "data on",
        "target",
        "Python up to",
        "CuPy above",
        "(plain copies)",
        "regret fit",
        "regret seed",
        "ties (within 20%)",
    ]
    oracle = (
        "idiomatic code, timed apart"
        if any(c.independent for c in f.curves.values())
        else "the fastest backend"
    )
    return (
        table(header, rows)
        + f"\n(regret: time of the pick over {oracle}, geometric mean over sizes)"
    )


def crossovers_text(f: Fit) -> str:
    """Where one backend overtakes another, with the range the quartiles allow."""
    rows = [
        [
            c.key[0],
            c.key[1],
            _where(c.key[2]),
            f"{c.faster_small} -> {c.faster_large}",
            _size(c.size),
            f"{_size(c.low)} .. {_size(c.high)}",
        ]
        for c in f.crossovers
    ]
    if not rows:
        return "no crossovers: one backend was fastest at every size measured"
    return table(["op", "data on", "target", "overtaken by", "at size", "range"], rows)


def summary_text(f: Fit) -> str:
    """Overall geometric-mean regret of the fitted table against the seed table's."""
    seed = {k: seed_tier(k[0]) for k in f.curves}
    fitted = geo_mean_regret(f.curves, f.tiers)
    seeded = geo_mean_regret(f.curves, seed)
    if math.isnan(fitted):
        return "nothing was measured: no regret to report"
    oracle = (
        "idiomatic code timed apart (the independent oracle)"
        if any(c.independent for c in f.curves.values())
        else "the fastest backend at each size"
    )
    return f"geo-mean regret vs {oracle}: fitted {fitted:.3f}, seed table {seeded:.3f}"


def bandwidth_text(f: Fit) -> str:
    """Host<->device copy speeds per device and method, GB/s."""
    rows = [
        [
            f"GPU {b.device}",
            b.direction,
            b.method,
            f"{b.nbytes / 2**20:,.0f} MiB",
            f"{b.bytes_per_s / 1e9:.1f}",
        ]
        for b in f.calibration.bandwidth
    ]
    if not rows:
        return ""
    return table(["device", "copy", "method", "size", "GB/s"], rows)


def first_calls_text(f: Fit) -> str:
    """The first call's extra cost per backend and target (its costliest op), and setup."""
    worst: dict[tuple[str, int], dict[str, Any]] = {}
    for row in f.calibration.first_calls():
        k = (row["backend"], row["device"])
        if k not in worst or row["extra_s"] > worst[k]["extra_s"]:
            worst[k] = row
    rows = [
        [b, _where(d), r["op"], f"{r['extra_s'] * 1e3:.2f} ms", f"{r['steady_s'] * 1e6:.1f} us"]
        for (b, d), r in sorted(worst.items())
    ]
    setup = [[what, "", "", f"{s * 1e3:.1f} ms", ""] for what, s in f.calibration.setup.items()]
    return table(["backend", "target", "costliest op", "first call extra", "steady"], rows + setup)
