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
    "tooling": "#D9D9D9",
    "other": "#CFCFCF",
}
_LIBRARY_COLOR = "#F58518"
# The user's own modules (user:dsl, user:solvers, ...): blues and teals, in order.
_USER_COLORS = ("#4C78A8", "#2F9E9E", "#7A9CC6", "#1F5F8B", "#6BAED6", "#3B8686")
_RULE_COLORS = ("#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#EECA3B", "#439894", "#D67195")
# The inclusive bars: outlined, unfilled, so their legend swatch differs from self's.
INCLUSIVE_STYLE = {"color": "rgba(255,255,255,0)", "line": {"color": "#4A4A4A", "width": 1.2}}
TITLE_CHARS = 60


def category_colors(categories: list[str]) -> dict[str, str]:
    """A stable colour per category: fixed for built-ins, a palette each for the user's
    own modules and for user rules."""
    colors: dict[str, str] = {}
    user_rule = user_module = 0
    for name in categories:
        if name in _BUILTIN_COLORS:
            colors[name] = _BUILTIN_COLORS[name]
        elif name.startswith("library:"):
            colors[name] = _LIBRARY_COLOR
        elif name.startswith("user:"):
            colors[name] = _USER_COLORS[user_module % len(_USER_COLORS)]
            user_module += 1
        else:
            colors[name] = _RULE_COLORS[user_rule % len(_RULE_COLORS)]
            user_rule += 1
    return colors


def first_line(source: str | None) -> str:
    """The first line of a cell that is code (not a magic, a comment or blank), shortened."""
    for line in (source or "").splitlines():
        text = line.strip()
        if text and not text.startswith(("%", "#", "!")):
            return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"
    return ""


def shown_label(label: str, source: str | None = None) -> str:
    """The label, or the cell's first line of code when the label is the default
    ("cell", "code")."""
    if label in ("cell", "code"):
        return first_line(source) or label
    return label


def chart_title(label: str, source: str | None = None) -> str:
    """ "Where the time goes: " and the label, or the cell's first line when the label is
    the default ("cell")."""
    return f"Where the time goes: {shown_label(label, source)}"


def category_figure(table: pd.DataFrame, title: str) -> dict[str, Any]:
    """Horizontal bars: self and inclusive seconds per category, biggest on top (the y
    axis runs top-down, so the legend's swatch for self is the biggest category's colour)."""
    names = list(table["category"])
    colors = category_colors(names)
    self_s = [float(v) for v in table["self_s"]]
    inclusive = [float(v) for v in table["inclusive_s"]]
    shares = [float(v) for v in table["pct"]]
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
            "marker": INCLUSIVE_STYLE,
            "hovertemplate": "%{y}: %{x:.4f} s inclusive<extra></extra>",
        },
    ]
    layout = {
        "title": {"text": title},
        "barmode": "group",
        "xaxis": {"title": {"text": "seconds"}, "rangemode": "tozero"},
        "yaxis": {"automargin": True, "autorange": "reversed"},
        "height": 140 + 46 * max(len(names), 1),
        "margin": {"l": 10, "r": 20, "t": 70, "b": 40},
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
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
