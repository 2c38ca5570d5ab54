"""MIME bundles of a document, for notebooks: text/plain, text/markdown and text/html.

A notebook shows one representation per output, so with charts as plotly's own mimetype
(``chart="mime"``, the default) a document becomes several outputs: the text up to a
chart, the chart, the text after it, and so on. JupyterLab 4, Notebook 7 and VS Code
draw the plotly mimetype themselves (offline, trusted or not); a frontend without
plotly's renderer shows the chart's text/html instead: the same chart as a static SVG
image, which needs no script (so it draws in untrusted notebooks and saved pages too).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from workbench.report import html, markdown, text
from workbench.report.html import ChartMode
from workbench.report.tables import Block, Chart, Document

PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def bundle(
    doc: Document, chart: ChartMode = "mime", shown: set[str] | None = None
) -> dict[str, Any]:
    """The whole document in one bundle (charts per `chart`: with ``"mime"``, static
    images). `shown` is the session's set of explanations already shown (see
    :func:`workbench.report.html.block`)."""
    return {
        "text/plain": text.render(doc),
        "text/markdown": markdown.render(doc),
        "text/html": html.render(doc, chart, shown),
    }


def chart_bundle(figure: dict[str, Any]) -> dict[str, Any]:
    """One chart as plotly's mimetype, the static SVG image for frontends that cannot
    draw it, and a line of text."""
    title = str(figure.get("layout", {}).get("title", {}).get("text", "chart"))
    return {
        PLOTLY_MIME: {**figure, "config": PLOTLY_CONFIG},
        "text/html": html.static_chart(figure),
        "text/plain": f"[chart: {title}]",
    }


def outputs(
    doc: Document, chart: ChartMode = "mime", shown: set[str] | None = None
) -> list[dict[str, Any]]:
    """The bundles to display, in order: one, or (``"mime"`` with charts) text and charts
    taking turns."""
    if chart != "mime" or not doc.charts():
        return [bundle(doc, chart, shown)]
    out: list[dict[str, Any]] = []
    part: list[Block] = []
    title = doc.title
    for block in doc.blocks:
        if isinstance(block, Chart):
            if part:
                out.append(bundle(replace(doc, title=title, blocks=tuple(part)), shown=shown))
                title, part = "", []
            out.append(chart_bundle(block.figure))
        else:
            part.append(block)
    if part:
        out.append(bundle(replace(doc, title=title, blocks=tuple(part)), shown=shown))
    return out
