"""Plotly figures as plain dicts, so building one needs no plotly (nor its validation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from workbench.report.format import where

if TYPE_CHECKING:
    import pandas as pd


class TreeNode(Protocol):
    """What an icicle needs of a call-tree node (``workbench.profiling.tree.TreeNode``)."""

    @property
    def id(self) -> str: ...
    @property
    def parent(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def value(self) -> float: ...
    @property
    def self_s(self) -> float: ...
    @property
    def category(self) -> str: ...
    @property
    def key(self) -> tuple[str, int, str] | None: ...


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


def category_figure(table: pd.DataFrame, title: str) -> dict[str, Any]:
    """Horizontal bars: self and inclusive seconds per category, biggest on top."""
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
        "title": {"text": title},
        "barmode": "group",
        "xaxis": {"title": {"text": "seconds"}, "rangemode": "tozero"},
        "yaxis": {"automargin": True},
        "height": 140 + 46 * max(len(names), 1),
        "margin": {"l": 10, "r": 20, "t": 50, "b": 40},
        "legend": {"orientation": "h", "y": -0.2},
        "plot_bgcolor": "white",
    }
    return {"data": data, "layout": layout}


def icicle_figure(
    nodes: Sequence[TreeNode], title: str, order: list[str] | None = None
) -> dict[str, Any]:
    """An icicle of the call tree, coloured by category (nodes from `workbench.profiling.tree`).

    `order` lists the categories in the report's order so the colours match its other
    charts; by default categories are ordered by the self time the nodes hold.
    """
    if order is None:
        held: dict[str, float] = {}
        for node in nodes[1:]:
            held[node.category] = held.get(node.category, 0.0) + node.self_s
        order = sorted(held, key=lambda c: (-held[c], c))
    colors = category_colors([*order, *sorted({n.category for n in nodes[1:]} - set(order))])
    total = nodes[0].value if nodes else 0.0
    custom = [
        [
            n.category or "all",
            n.self_s,
            100.0 * n.value / total if total > 0 else 0.0,
            "" if n.key is None else where(n.key[0], n.key[1]),
        ]
        for n in nodes
    ]
    trace = {
        "type": "icicle",
        "ids": [n.id for n in nodes],
        "parents": [n.parent for n in nodes],
        "labels": [n.label for n in nodes],
        "values": [n.value for n in nodes],
        "branchvalues": "total",
        "marker": {"colors": [colors.get(n.category, "#E8E8E8") for n in nodes]},
        "customdata": custom,
        "hovertemplate": (
            "<b>%{label}</b> [%{customdata[0]}]<br>%{customdata[3]}<br>"
            "%{value:.4f} s inclusive (%{customdata[2]:.1f}% of total)<br>"
            "%{customdata[1]:.4f} s self<extra></extra>"
        ),
        "tiling": {"orientation": "v"},
        "maxdepth": 6,
        "sort": False,
    }
    layout = {
        "title": {"text": title},
        "height": 560,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
    }
    return {"data": [trace], "layout": layout}
