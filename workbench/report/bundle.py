"""MIME bundles of a document, for notebooks: text/plain, text/markdown and text/html.

A notebook shows one representation per output, so with charts as plotly's own mimetype
(``chart="mime"``, the default) a document becomes several outputs: the text up to a
chart, the chart, the text after it, and so on. JupyterLab 4, Notebook 7 and VS Code
draw the plotly mimetype themselves (offline, trusted or not); other frontends show the
chart's text/plain line.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from workbench.report import html, markdown, text
from workbench.report.html import ChartMode
from workbench.report.tables import Block, Chart, Document

PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def bundle(doc: Document, chart: ChartMode = "mime") -> dict[str, Any]:
    """The whole document in one bundle (charts per `chart`; none with ``"mime"``)."""
    return {
        "text/plain": text.render(doc),
        "text/markdown": markdown.render(doc),
        "text/html": html.render(doc, chart),
    }


def chart_bundle(figure: dict[str, Any]) -> dict[str, Any]:
    """One chart as plotly's mimetype, with a line of text for other frontends."""
    title = str(figure.get("layout", {}).get("title", {}).get("text", "chart"))
    return {
        PLOTLY_MIME: {**figure, "config": PLOTLY_CONFIG},
        "text/plain": f"[chart: {title}; drawn by JupyterLab, Notebook 7 and VS Code]",
    }


def outputs(doc: Document, chart: ChartMode = "mime") -> list[dict[str, Any]]:
    """The bundles to display, in order: one, or (``"mime"`` with charts) text and charts
    taking turns."""
    if chart != "mime" or not doc.charts():
        return [bundle(doc, chart)]
    out: list[dict[str, Any]] = []
    part: list[Block] = []
    title = doc.title
    for block in doc.blocks:
        if isinstance(block, Chart):
            if part:
                out.append(bundle(replace(doc, title=title, blocks=tuple(part))))
                title, part = "", []
            out.append(chart_bundle(block.figure))
        else:
            part.append(block)
    if part:
        out.append(bundle(replace(doc, title=title, blocks=tuple(part))))
    return out
