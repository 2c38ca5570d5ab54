"""The tuner's chart and regret text as plain data: trace and shape dicts, HTML strings.

The chart is log-log seconds per call against size: one trace per backend (median, with
the quartiles as error bars), the fastest measured backend at each size (the oracle),
and the current thresholds' pick at each size. The thresholds are vertical lines and
the region each backend is chosen in is shaded, both as layout shapes. Everything here
is computed from the fit's curves with the fit's own `choose`, so what is drawn is what
the regret is computed on.
"""

from __future__ import annotations

import html
import itertools
import math
from typing import Any

import numpy as np

from workbench.calibration.fit import BACKENDS, Curves, GroupKey, Regret, choose
from workbench.calibration.result import CPU
from workbench.report.format import seconds
from workbench.route.machine_profile import Tier

LABELS = {"python": "pure Python", "numpy": "NumPy", "cupy": "CuPy"}
COLORS = {"python": "#E45756", "numpy": "#4C78A8", "cupy": "#54A24B"}
RESIDENCY_LABELS = {
    "python": "Python lists",
    "host": "NumPy arrays (host memory)",
    "device": "CuPy arrays (GPU memory)",
}
FUNCTION_RESIDENCY = {"host": "host memory (NumPy, lists, ...)", "device": "GPU memory (CuPy)"}
# The chart's traces, always these five in this order, so the widget only updates them.
TRACES = (*BACKENDS, "oracle", "chosen")
_SHADE = 0.10


def device_label(device: int, names: dict[int, str] | None = None) -> str:
    """'CPU only' or 'GPU 1 (name)'."""
    if device == CPU:
        return "CPU only"
    name = (names or {}).get(device)
    return f"GPU {device} ({name})" if name else f"GPU {device}"


def group_title(
    key: GroupKey, names: dict[int, str] | None = None, *, function: bool = False
) -> str:
    """'add: inputs in NumPy arrays (host memory), CPU only'; a gated function's inputs are any
    host objects or CuPy arrays."""
    return f"{key[0]}: {group_where(key, names, function=function)}"


def group_where(
    key: GroupKey, names: dict[int, str] | None = None, *, function: bool = False
) -> str:
    """'inputs in NumPy arrays (host memory), CPU only'."""
    _, residency, device = key
    labels = FUNCTION_RESIDENCY if function else RESIDENCY_LABELS
    return f"inputs in {labels.get(residency, residency)}, {device_label(device, names)}"


def chart_title(
    key: GroupKey, names: dict[int, str] | None = None, *, function: bool = False
) -> str:
    """The chart's title: the op or function, then where its inputs live and what runs it
    on a second, smaller line (a function's qualified name is long)."""
    where = group_where(key, names, function=function)
    return f"{html.escape(key[0])}<br><span style='font-size:13px'>{html.escape(where)}</span>"


def x_range(c: Curves, tiers: list[Tier]) -> tuple[float, float]:
    """The sizes shown: the measured ones and every finite threshold given, with margin."""
    values = [float(s) for s in c.sizes]
    for tier in tiers:
        values += [float(v) for v in (tier.simd_above, tier.gpu_above) if v is not None and v > 0]
    return min(values) / 2, max(values) * 2


def regions(tier: Tier, lo: float, hi: float, has_gpu: bool) -> list[tuple[str, float, float]]:
    """(backend, from, to) where each backend is chosen between `lo` and `hi`."""
    cuts = sorted(
        {lo, hi}
        | {float(v) for v in (tier.simd_above, tier.gpu_above) if v is not None and lo < v < hi}
    )
    out: list[tuple[str, float, float]] = []
    for a, b in itertools.pairwise(cuts):
        backend = BACKENDS[int(choose(tier, np.array([math.sqrt(a * b)]), has_gpu)[0])]
        if out and out[-1][0] == backend:
            out[-1] = (backend, out[-1][1], b)
        else:
            out.append((backend, a, b))
    return out


def shapes(tier: Tier, lo: float, hi: float, has_gpu: bool) -> list[dict[str, Any]]:
    """Shaded regions, then the thresholds as dashed vertical lines (x in data units)."""
    out: list[dict[str, Any]] = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": a,
            "x1": b,
            "y0": 0,
            "y1": 1,
            "fillcolor": COLORS[backend],
            "opacity": _SHADE,
            "line": {"width": 0},
            "layer": "below",
            "name": f"{backend} chosen",
        }
        for backend, a, b in regions(tier, lo, hi, has_gpu)
    ]
    lines = [("python", tier.simd_above)]
    if has_gpu:
        lines.append(("cupy", tier.gpu_above))
    for backend, value in lines:
        if value is not None and lo < value < hi:
            out.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": float(value),
                    "x1": float(value),
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": COLORS[backend], "width": 2, "dash": "dash"},
                    "name": f"{backend} threshold",
                }
            )
    return out


def _values(a: np.ndarray) -> list[float | None]:
    """Floats with None for NaN (a gap in the line)."""
    return [float(v) if math.isfinite(v) else None for v in a]


def _backend_trace(c: Curves, backend: str, has_gpu: bool) -> dict[str, Any]:
    if backend not in c.median or (backend == "cupy" and not has_gpu):
        return {"x": [], "y": [], "visible": False, "error_y": {"visible": False}}
    med, low, high = c.median[backend], c.low[backend], c.high[backend]
    return {
        "x": _values(c.sizes),
        "y": _values(med),
        "visible": True,
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": _values(high - med),
            "arrayminus": _values(med - low),
            "visible": True,
            "thickness": 1,
            "width": 3,
        },
    }


def trace_updates(c: Curves, tier: Tier, has_gpu: bool) -> list[dict[str, Any]]:
    """New data for the five traces of TRACES, in order."""
    updates = [_backend_trace(c, b, has_gpu) for b in BACKENDS]
    name = "fastest idiomatic code (independent)" if c.independent else "fastest measured"
    updates.append(
        {"x": _values(c.sizes), "y": _values(c.reference()), "visible": True, "name": name}
    )
    updates.append(chosen_update(c, tier, has_gpu))
    return updates


def chosen_update(c: Curves, tier: Tier, has_gpu: bool) -> dict[str, Any]:
    """The current pick's seconds at each size (extrapolated where it was not timed)."""
    picked = choose(tier, c.sizes, has_gpu)
    table = np.vstack([c.filled(b) for b in BACKENDS])
    columns = np.arange(len(c.sizes))
    times = table[picked, columns]
    timed = [
        b in c.median and math.isfinite(c.median[b][j])
        for b, j in zip((BACKENDS[i] for i in picked), columns, strict=True)
    ]
    return {
        "x": _values(c.sizes),
        "y": _values(times),
        "visible": True,
        "marker": {"color": [COLORS[BACKENDS[i]] for i in picked]},
        "text": [
            LABELS[BACKENDS[i]] + ("" if ok else " (not timed here: extrapolated)")
            for i, ok in zip(picked, timed, strict=True)
        ],
    }


def base_traces() -> list[dict[str, Any]]:
    """The five traces' fixed styling (data comes from trace_updates)."""
    out: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": LABELS[b],
            "line": {"color": COLORS[b]},
            "hovertemplate": f"{LABELS[b]}: %{{y:.3g}} s at %{{x:,}} elements<extra></extra>",
        }
        for b in BACKENDS
    ]
    out.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "fastest measured",
            "line": {"color": "#333333", "dash": "dot", "width": 1},
            "hovertemplate": "fastest: %{y:.3g} s at %{x:,}<extra></extra>",
        }
    )
    out.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "chosen",
            "marker": {"size": 13, "symbol": "circle-open", "line": {"width": 2}},
            "hovertemplate": "chosen: %{text}, %{y:.3g} s at %{x:,}<extra></extra>",
        }
    )
    return out


def figure_layout() -> dict[str, Any]:
    """Log-log axes; the title, range and shapes follow the group shown."""
    return {
        "xaxis": {"type": "log", "title": {"text": "elements (largest operand)"}},
        "yaxis": {"type": "log", "title": {"text": "seconds per call"}},
        "height": 430,
        "margin": {"l": 60, "r": 20, "t": 75, "b": 50},
        "legend": {"orientation": "h", "y": -0.2},
        "title": {"text": ""},
    }


def axis_range(lo: float, hi: float) -> list[float]:
    """A log axis range is given in powers of ten."""
    return [math.log10(lo), math.log10(hi)]


def ratio(value: float) -> str:
    """A slowdown factor over the oracle: '1.000x', '23.5x', '1,234x'."""
    if not math.isfinite(value):
        return "n/a"
    if value < 10:
        return f"{value:.3f}x"
    return f"{value:.3g}x" if value < 1000 else f"{value:,.0f}x"


def tier_text(tier: Tier, has_gpu: bool) -> str:
    """The thresholds in words, as exact numbers (a slider shows its grid's nearest)."""
    simd, gpu_above = tier.simd_above, tier.gpu_above
    python = "never" if simd == 0 else "always" if simd is None else f"up to {simd:,.0f}"
    text = f"pure Python {python}"
    if has_gpu:
        cupy = (
            "never"
            if gpu_above is None
            else "always"
            if gpu_above == 0
            else f"above {gpu_above:,.0f}"
        )
        text += f", CuPy {cupy}"
    elif gpu_above is not None and (simd is None or gpu_above < simd):
        text += f", NumPy above {gpu_above:,.0f} (the table's GPU threshold, no GPU here)"
    return text


def regret_html(
    title: str,
    thresholds: str,
    current: Regret,
    fitted: Regret,
    seed: Regret,
    table: dict[str, float],
    groups: int,
    *,
    baseline: str = "seed table",
    oracle: str = "backend",
    table_baseline: str = "seed table",
) -> str:
    """The live regret text: this group, then the whole table against fitted and seed."""
    lost = seconds(current.excess_s) if math.isfinite(current.excess_s) else "n/a"
    return (
        f"<div><b>{html.escape(title)}</b>: {html.escape(thresholds)}</div>"
        f"<div>geo-mean regret <b>{ratio(current.geo_mean)}</b>"
        f" (fitted {ratio(fitted.geo_mean)}, {baseline} {ratio(seed.geo_mean)}), "
        f"worst {ratio(current.worst)}, {lost} lost over {current.points} sizes "
        f"(one call each, against the fastest {oracle} measured at each size)</div>"
        f"<div>All {groups} groups: geo-mean regret <b>{ratio(table['current'])}</b> with "
        f"these thresholds; fitted {ratio(table['fitted'])}; {table_baseline} "
        f"{ratio(table['seed'])}</div>"
    )
