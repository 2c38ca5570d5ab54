"""Static charts: SVG drawn from the plotly figure dicts of :mod:`workbench.report.figures`.

The fallback where no JavaScript runs: a frontend without plotly's renderer, an exported
page, a viewer of a saved notebook. The SVG goes into the HTML as an ``<img>`` with a
``data:`` URI, which survives JupyterLab's sanitizer in untrusted notebooks (inline
``<svg>`` is stripped there, and an SVG in an image runs no script). Bar charts and
icicles are drawn; other figures have no static form (None).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from html import escape
from typing import Any

WIDTH = 760
FONT = "font-family='system-ui, -apple-system, Segoe UI, sans-serif'"
CHAR_PX = 7.0  # average width of a 12 px character, for fitting labels
INCLUSIVE_FILL = "#FFFFFF"
INCLUSIVE_LINE = "#4A4A4A"


def figure_svg(figure: dict[str, Any]) -> str | None:
    """The figure as a standalone SVG document, or None when it has no static form."""
    data = figure.get("data") or []
    if not data:
        return None
    kind = data[0].get("type")
    if kind == "bar" and data[0].get("orientation") == "h":
        return bars_svg(figure)
    if kind == "icicle":
        return icicle_svg(figure)
    return None


def img_tag(svg: str, alt: str) -> str:
    """An ``<img>`` showing `svg`, scaled down to the width of the output."""
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f"<img alt='{escape(alt, quote=True)}' src='{uri}' "
        "style='max-width:100%;height:auto;display:block'>"
    )


def _title(figure: dict[str, Any]) -> str:
    return str(figure.get("layout", {}).get("title", {}).get("text", ""))


def _text(
    x: float, y: float, body: str, size: int = 12, anchor: str = "start", **extra: str
) -> str:
    attrs = "".join(f" {k.replace('_', '-')}='{escape(v, quote=True)}'" for k, v in extra.items())
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}'{attrs}>"
        f"{escape(body)}</text>"
    )


def _fit(label: str, room_px: float) -> str:
    """`label` cut with an ellipsis to fit `room_px`."""
    chars = int(room_px / CHAR_PX)
    if len(label) <= chars:
        return label
    return label[: max(chars - 1, 0)] + "…" if chars >= 3 else ""


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top`."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-12 * top:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _colors(trace: dict[str, Any], n: int, default: str) -> list[str]:
    marker = trace.get("marker", {})
    color = marker.get("colors", marker.get("color", default))
    if isinstance(color, list | tuple):
        return [str(c) for c in color] + [default] * (n - len(color))
    return [str(color)] * n


def bars_svg(figure: dict[str, Any]) -> str:
    """Horizontal bars, one band per category: self time filled in the category's colour,
    inclusive time outlined beneath it; the biggest category on top, as in plotly."""
    traces = figure["data"]
    first = traces[0]
    # plotly draws the list bottom-up, unless the y axis is reversed
    top_down = figure.get("layout", {}).get("yaxis", {}).get("autorange") == "reversed"
    step = 1 if top_down else -1
    names = [str(n) for n in first["y"]][::step]
    series = [[float(v) for v in t["x"]][::step] for t in traces]
    texts = [str(t) for t in first.get("text", [])][::step]
    colors = _colors(first, len(first["y"]), "#4C78A8")[::step]
    label_px = min(max((len(n) for n in names), default=4) * CHAR_PX + 16, 240)
    left, right, top = label_px, 70, 56
    band = 14 * len(traces) + 12
    plot_w = WIDTH - left - right
    height = top + band * len(names) + 56
    ticks = nice_ticks(max((v for s in series for v in s), default=0.0))
    scale = plot_w / ticks[-1]
    parts = [_text(10, 22, _title(figure), size=15, font_weight="600")]
    axis_y = top + band * len(names)
    for tick in ticks:
        x = left + tick * scale
        parts.append(
            f"<line x1='{x:.1f}' y1='{top - 4}' x2='{x:.1f}' y2='{axis_y}' stroke='#E3E3E3'/>"
        )
        parts.append(_text(x, axis_y + 16, f"{tick:g}", size=11, anchor="middle", fill="#555"))
    parts.append(_text(left + plot_w / 2, axis_y + 34, "seconds", size=12, anchor="middle"))
    for row, name in enumerate(names):
        y0 = top + row * band + 6
        parts.append(_text(left - 8, y0 + 11, _fit(name, left - 14), anchor="end"))
        for index, values in enumerate(series):
            y = y0 + index * 14
            width = max(values[row] * scale, 0.0)
            if index == 0:
                parts.append(
                    f"<rect x='{left}' y='{y}' width='{width:.1f}' height='12' fill='{escape(colors[row])}'/>"
                )
                if row < len(texts):
                    parts.append(_text(left + width + 4, y + 10, texts[row], size=11, fill="#333"))
            else:
                parts.append(
                    f"<rect x='{left}' y='{y + 0.5}' width='{width:.1f}' height='11' "
                    f"fill='{INCLUSIVE_FILL}' stroke='{INCLUSIVE_LINE}' stroke-width='1'/>"
                )
    legend_y = 40
    for index, trace in enumerate(traces):
        x = left + index * 110
        name = str(trace.get("name", f"series {index + 1}"))
        if index == 0:
            swatch = f"<rect x='{x}' y='{legend_y - 10}' width='14' height='10' fill='{escape(colors[0] if colors else '#4C78A8')}'/>"
        else:
            swatch = (
                f"<rect x='{x}' y='{legend_y - 10}' width='14' height='10' fill='{INCLUSIVE_FILL}' "
                f"stroke='{INCLUSIVE_LINE}'/>"
            )
        parts += [swatch, _text(x + 19, legend_y, name, size=12)]
    return _document(parts, height)


def _document(parts: Sequence[str], height: float) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height:.0f}' "
        f"viewBox='0 0 {WIDTH} {height:.0f}' {FONT}>"
        "<rect width='100%' height='100%' fill='white'/>" + "".join(parts) + "</svg>"
    )


def icicle_svg(figure: dict[str, Any], row_px: int = 34) -> str:
    """The icicle as nested rectangles, root on top, each child as wide as its share of
    its parent; nodes narrower than a pixel are left out."""
    trace = figure["data"][0]
    ids = [str(i) for i in trace["ids"]]
    parents = [str(p) for p in trace["parents"]]
    labels = [str(label) for label in trace["labels"]]
    values = [float(v) for v in trace["values"]]
    colors = _colors(trace, len(ids), "#E8E8E8")
    depth_limit = int(trace.get("maxdepth", 6))
    children: dict[str, list[int]] = {}
    for index, parent in enumerate(parents):
        children.setdefault(parent, []).append(index)
    roots = children.get("", [])
    top, plot_w = 36, WIDTH - 20
    parts = [_text(10, 22, _title(figure), size=15, font_weight="600")]
    deepest = 0
    # (node, x, width, depth): widths follow values, children share their parent's width.
    total = sum(values[i] for i in roots) or 1.0
    pending: list[tuple[int, float, float, int]] = []
    cursor = 10.0
    for root in roots:
        width = plot_w * values[root] / total
        pending.append((root, cursor, width, 0))
        cursor += width
    while pending:
        nxt = []
        for node, x, width, depth in pending:
            if width < 1.0 or depth >= depth_limit:
                continue
            deepest = max(deepest, depth)
            y = top + depth * row_px
            parts.append(
                f"<rect x='{x:.1f}' y='{y}' width='{max(width - 1, 0.5):.1f}' height='{row_px - 2}' "
                f"fill='{escape(colors[node])}' stroke='white' stroke-width='0.5'/>"
            )
            label = _fit(labels[node], width - 6)
            if label:
                parts.append(_text(x + 3, y + row_px / 2 + 4, label, size=11))
            kids = children.get(ids[node], [])
            if values[node] > 0:
                cursor = x
                for kid in kids:
                    share = width * min(values[kid] / values[node], 1.0)
                    nxt.append((kid, cursor, share, depth + 1))
                    cursor += share
        pending = nxt
    return _document(parts, top + (deepest + 1) * row_px + 10)
