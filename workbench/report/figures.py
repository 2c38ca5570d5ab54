"""Plotly figures as plain dicts, so building one costs no plotly validation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.report.model import Report

_BUILTIN_COLORS = {
    "user": "#4C78A8",
    "GPU": "#54A24B",
    "native": "#9D755D",
    "stdlib": "#BAB0AC",
}
_LIBRARY_COLOR = "#F58518"
_RULE_COLORS = ("#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#EECA3B", "#439894", "#D67195")


def category_colors(categories: list[str]) -> dict[str, str]:
    """A stable colour per category: fixed for built-ins, a palette for user rules."""
    colors: dict[str, str] = {}
    user_rule = 0
    for name in categories:
        if name in _BUILTIN_COLORS:
            colors[name] = _BUILTIN_COLORS[name]
        elif name.startswith("library:"):
            colors[name] = _LIBRARY_COLOR
        else:
            colors[name] = _RULE_COLORS[user_rule % len(_RULE_COLORS)]
            user_rule += 1
    return colors


def category_figure(report: Report) -> dict[str, Any]:
    """Horizontal bars: self and inclusive seconds per category, biggest on top."""
    table = report.categories
    names = list(table["category"])[::-1]
    colors = category_colors(list(table["category"]))
    self_s = [float(v) for v in table["self_s"]][::-1]
    inclusive = [float(v) for v in table["inclusive_s"]][::-1]
    shares = [float(v) for v in table["pct"]][::-1]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": "self",
            "y": names,
            "x": self_s,
            "marker": {"color": [colors[n] for n in names]},
            "text": [f"{p:.1f}%" for p in shares],
            "textposition": "auto",
            "hovertemplate": "%{y}: %{x:.4f} s self (%{text})<extra></extra>",
        },
        {
            "type": "bar",
            "orientation": "h",
            "name": "inclusive",
            "y": names,
            "x": inclusive,
            "marker": {"color": [colors[n] for n in names], "opacity": 0.35},
            "hovertemplate": "%{y}: %{x:.4f} s inclusive<extra></extra>",
        },
    ]
    layout = {
        "title": {"text": f"Where the time goes: {report.label}"},
        "barmode": "group",
        "xaxis": {"title": {"text": "seconds"}, "rangemode": "tozero"},
        "yaxis": {"automargin": True},
        "height": 140 + 46 * max(len(names), 1),
        "margin": {"l": 10, "r": 20, "t": 50, "b": 40},
        "legend": {"orientation": "h", "y": -0.2},
        "plot_bgcolor": "white",
    }
    return {"data": data, "layout": layout}
