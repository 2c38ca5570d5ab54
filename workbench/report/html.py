"""HTML layout of a document: tables, and charts drawn by plotly.js, needing no server.

How a chart reaches the page is the `chart` mode:

* ``"mime"`` leaves charts out of the HTML: the notebook shows each as its own output
  of plotly's mimetype (``application/vnd.plotly.v1+json``), which JupyterLab 4,
  Notebook 7 and VS Code draw themselves, offline (see :mod:`workbench.report.bundle`);
* ``"inline"`` embeds plotly.js (about 4.7 MB), so the HTML draws anywhere, offline and
  after the notebook is saved and reopened: the mode of saved report.html files;
* ``"cdn"`` loads plotly.js from the internet; ``"none"`` leaves charts out.
"""

from __future__ import annotations

from html import escape
from typing import Any, Literal

from workbench.report.tables import (
    Chart,
    Document,
    Listing,
    Paragraph,
    Preformatted,
    Table,
)

ChartMode = Literal["mime", "inline", "cdn", "none"]
CHART_MODES: tuple[ChartMode, ...] = ("mime", "inline", "cdn", "none")

STYLE = """<style>
.wb-report {font-family: system-ui, sans-serif; font-size: 13px; max-width: 1100px;}
.wb-report h3 {margin: 6px 0;}
.wb-report h4 {margin: 14px 0 4px 0;}
.wb-report table {border-collapse: collapse; margin: 4px 0;}
.wb-report th, .wb-report td {padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right;}
.wb-report th {background: #f3f3f3;}
.wb-report td.l, .wb-report th.l {text-align: left;}
.wb-report tr.total td {font-weight: 600;}
.wb-report .bar {display: inline-block; height: 10px; vertical-align: middle;}
.wb-report .note {color: #555; margin: 2px 0;}
.wb-report .warn {color: #a33; font-weight: 600;}
.wb-report code {font-size: 12px;}
.wb-report .keep {color: #1a7f37;} .wb-report .revert {color: #9a6700;}
.wb-report .broken, .wb-report .Failed {color: #cf222e;}
</style>"""


def _cell(text: str, raw: Any, kind: str) -> str:
    if kind == "bar":
        if not isinstance(raw, tuple) or raw[0] <= 0:
            return ""
        width = max(int(raw[0] * 1.6), 1)
        return f"<span class='bar' style='width:{width}px;background:{escape(raw[1])}'></span>"
    body = escape(text)
    if body and kind == "code":
        return f"<code>{body}</code>"
    if body and kind == "name":
        return f"<b>{body}</b>"
    return body


def table(t: Table) -> str:
    """A table as HTML; numbers right-aligned."""
    kinds = [c.kind for c in t.columns]
    left = ["" if c.right else " class='l'" for c in t.columns]
    head = "".join(
        f"<th{cls}>{escape(c.header)}</th>" for c, cls in zip(t.columns, left, strict=True)
    )
    rows = [f"<tr>{head}</tr>"]
    for cells, raw in t.body():
        tds = "".join(
            f"<td{cls}>{_cell(text, value, kind)}</td>"
            for text, value, kind, cls in zip(cells, raw, kinds, left, strict=True)
        )
        rows.append(f"<tr>{tds}</tr>")
    if t.total is not None:
        tds = "".join(
            f"<td{cls}>{escape(text)}</td>"
            for text, cls in zip(t.cells(t.total), left, strict=True)
        )
        rows.append(f"<tr class='total'>{tds}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def plotly_html(figure: dict[str, Any], chart: ChartMode, *, with_js: bool = True) -> str:
    """A plotly figure as an HTML fragment; plotly.js inline, from the CDN, or left to an
    earlier chart of the same output (`with_js=False`)."""
    import plotly.io as pio

    include: bool | str = False
    if with_js:
        include = True if chart == "inline" else "cdn"
    height = int(figure["layout"]["height"])
    return str(
        pio.to_html(
            figure,
            include_plotlyjs=include,
            full_html=False,
            validate=False,
            default_height=f"{height}px",
            config={"displaylogo": False, "responsive": True},
        )
    )


def block(item: Any, chart: ChartMode, *, first_chart: bool = True) -> str:
    """One block of a document."""
    if isinstance(item, Paragraph):
        css = {"plain": "", "note": " class='note'", "warn": " class='warn'"}[item.tone]
        return f"<p{css}>{escape(item.text)}</p>"
    if isinstance(item, Table):
        parts = [f"<h4>{escape(item.title)}</h4>"] if item.title else []
        if item.intro:
            parts.append(f"<p class='note'>{escape(item.intro)}</p>")
        parts.append(table(item))
        parts += [f"<p class='note'>{escape(note)}</p>" for note in item.notes]
        return "".join(parts)
    if isinstance(item, Preformatted):
        return f"<h4>{escape(item.title)}</h4><pre>{escape(item.text)}</pre>"
    if isinstance(item, Listing):
        wrap = (lambda s: f"<code>{escape(s)}</code>") if item.code else escape
        entries = "".join(f"<li>{wrap(i)}</li>" for i in item.items)
        if item.collapsed:
            return f"<details><summary>{escape(item.title)}</summary><ol>{entries}</ol></details>"
        return f"<h4>{escape(item.title)}</h4><ol>{entries}</ol>"
    if isinstance(item, Chart):
        if chart in ("mime", "none"):
            return ""
        return plotly_html(item.figure, chart, with_js=first_chart)
    raise TypeError(f"not a document block: {type(item).__name__}")


def render(doc: Document, chart: ChartMode = "mime") -> str:
    """The document as one HTML fragment (self-contained with ``chart="inline"``)."""
    tone = f" class='{escape(doc.tone)}'" if doc.tone else ""
    parts = [STYLE, "<div class='wb-report'>"]
    if doc.title:
        parts.append(f"<h3{tone}>{escape(doc.title)}</h3>")
    charts = 0
    for item in doc.blocks:
        parts.append(block(item, chart, first_chart=charts == 0))
        charts += isinstance(item, Chart)
    parts.append("</div>")
    return "".join(parts)


def page(doc: Document, chart: ChartMode = "inline") -> str:
    """A complete HTML document, for saving to a file."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{escape(doc.title)} - workbench report</title></head><body>"
        + render(doc, chart)
        + "</body></html>"
    )
