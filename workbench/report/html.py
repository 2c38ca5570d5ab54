"""HTML layout of a document: tables, folds, and charts, needing no server.

Every style is an inline ``style`` attribute: JupyterLab's sanitizer, which renders the
HTML of untrusted notebooks (executed by nbconvert, papermill or CI, or opened from a
colleague), removes ``<style>`` elements but keeps inline styles of common properties, so
the tables, their in-table bars and the folds look the same trusted or not. Long text
wraps, so a table fits the width of a notebook's output.

How a chart reaches the page is the `chart` mode:

* ``"mime"`` draws each chart as a static SVG image (an ``<img>`` with a ``data:`` URI,
  no script); in a notebook, :mod:`workbench.report.bundle` shows each chart as its own
  output of plotly's mimetype instead, with that image as its fallback;
* ``"inline"`` embeds plotly.js (about 4.7 MB), so the HTML draws anywhere, offline and
  after the notebook is saved and reopened: the mode of saved report.html files;
* ``"cdn"`` loads plotly.js from the internet; ``"none"`` leaves charts out.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any, Literal

from workbench.report.svg import figure_svg, img_tag
from workbench.report.tables import (
    Chart,
    Document,
    Fold,
    Listing,
    Paragraph,
    Preformatted,
    Table,
)

ChartMode = Literal["mime", "inline", "cdn", "none"]
CHART_MODES: tuple[ChartMode, ...] = ("mime", "inline", "cdn", "none")

# Inline styles (kept by the sanitizer of untrusted notebooks; see the module docstring).
ROOT = "font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:13px;max-width:100%"
H3 = "margin:6px 0;font-size:15px"
H4 = "margin:14px 0 4px 0;font-size:13px"
TABLE = "border-collapse:collapse;margin:4px 0;table-layout:auto;width:auto;max-width:100%"
CELL = "padding:2px 6px;border-bottom:1px solid #ddd;"
TH = CELL + "background:rgba(127,127,127,0.12);"
NUMBER = "text-align:right;white-space:nowrap"
# Long text wraps at spaces and at the break points <wbr> marks in code; JupyterLab's
# sanitizer keeps overflow-wrap:break-word (it drops word-break:break-word).
WORDS = "text-align:left;overflow-wrap:break-word"
NAME = "text-align:left;white-space:nowrap"
# Headers wrap at spaces only ("Self A (s)" over two lines), so short numbers set the width.
HEAD_RIGHT = "text-align:right"
HEAD_LEFT = "text-align:left"
CODE = "font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px"
BAR = "display:inline-block;height:10px;vertical-align:middle"
NOTE = "color:#555;margin:2px 0"
WARN = "color:#a33;font-weight:600;margin:2px 0"
PRE = "font-size:12px;margin:4px 0;white-space:pre-wrap;overflow-wrap:break-word"
SUMMARY = "cursor:pointer;font-weight:600;margin:8px 0 2px 0"
TONES = {
    "keep": ";color:#1a7f37",
    "revert": ";color:#9a6700",
    "broken": ";color:#cf222e",
    "Failed": ";color:#cf222e",
}


_BREAK_AFTER = re.compile(r"([/._,(=:])")


def breakable(text: str) -> str:
    """Escaped `text` with a break opportunity (<wbr>) after each separator of code."""
    return _BREAK_AFTER.sub(r"\1<wbr>", escape(text))


def _cell(text: str, raw: Any, kind: str, wrap: bool = False) -> str:
    if kind == "bar":
        if not isinstance(raw, tuple) or raw[0] <= 0:
            return ""
        width = max(int(raw[0] * 0.8), 1)  # 80 px at 100%: the table fits 850 px
        return (
            f"<span class='bar' style='{BAR};width:{width}px;"
            f"background-color:{escape(raw[1], quote=True)}'></span>"
        )
    body = breakable(text) if wrap else escape(text)
    if body and kind == "code":
        return f"<code style='{CODE}'>{body}</code>"
    if body and kind == "name":
        return f"<b>{body}</b>"
    return body


# Text columns whose longest cell is at most this many characters stay on one line.
SHORT_CHARS = 30


def _align(kind: str, right: bool, longest: int) -> str:
    if right:
        return NUMBER
    return NAME if kind in ("name", "bar") or longest <= SHORT_CHARS else WORDS


def table(t: Table) -> str:
    """A table as HTML; numbers right-aligned and kept on one line, short text too; only
    long text (code lines, rules, reasons) wraps, so the table fits the output's width."""
    kinds = [c.kind for c in t.columns]
    body = t.body()
    longest = [max((len(cells[i]) for cells, _ in body), default=0) for i in range(len(kinds))]
    aligns = [_align(c.kind, c.right, n) for c, n in zip(t.columns, longest, strict=True)]
    styles = [CELL + a for a in aligns]
    wraps = [a == WORDS for a in aligns]
    head = "".join(
        f"<th style='{TH}{HEAD_RIGHT if c.right else HEAD_LEFT}'>{escape(c.header)}</th>"
        for c in t.columns
    )
    rows = [f"<tr>{head}</tr>"]
    for cells, raw in body:
        tds = "".join(
            f"<td style='{style}'>{_cell(text, value, kind, wrap)}</td>"
            for text, value, kind, style, wrap in zip(cells, raw, kinds, styles, wraps, strict=True)
        )
        rows.append(f"<tr style='vertical-align:top'>{tds}</tr>")
    if t.total is not None:
        tds = "".join(
            f"<td style='{style};font-weight:600'>{escape(text)}</td>"
            for text, style in zip(t.cells(t.total), styles, strict=True)
        )
        rows.append(f"<tr class='total'>{tds}</tr>")
    return f"<table style='{TABLE}'>" + "".join(rows) + "</table>"


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


def static_chart(figure: dict[str, Any]) -> str:
    """The chart as an SVG image (no script), or its title where it has no static form."""
    title = str(figure.get("layout", {}).get("title", {}).get("text", "chart"))
    svg = figure_svg(figure)
    if svg is None:
        return f"<p style='{NOTE}'>[chart: {escape(title)}]</p>"
    return f"<div class='wb-chart'>{img_tag(svg, title)}</div>"


def paragraph(item: Paragraph) -> str:
    style = {"plain": "margin: 2px 0;", "note": NOTE, "warn": WARN}[item.tone]
    return f"<p class='{item.tone}' style='{style}'>{escape(item.text)}</p>"


def fold(item: Fold, opened: bool) -> str:
    """A fold as ``<details>``, open or not."""
    inner = "".join(block(b, "none") for b in item.blocks)
    state = " open" if opened else ""
    name = f" data-once='{escape(item.once, quote=True)}'" if item.once else ""
    return (
        f"<details class='wb-fold'{name}{state}><summary style='{SUMMARY}'>"
        f"{escape(item.summary)}</summary>{inner}</details>"
    )


def block(
    item: Any,
    chart: ChartMode,
    *,
    first_chart: bool = True,
    shown: set[str] | None = None,
) -> str:
    """One block of a document. `shown` holds the explanations (``Fold.once``) a session
    has shown already: those folds stay folded; the others open and are added to it."""
    if isinstance(item, Paragraph):
        return paragraph(item)
    if isinstance(item, Table):
        parts = [f"<h4 style='{H4}'>{escape(item.title)}</h4>"] if item.title else []
        if item.intro:
            parts.append(f"<p class='note' style='{NOTE}'>{escape(item.intro)}</p>")
        parts.append(table(item))
        parts += [f"<p class='note' style='{NOTE}'>{escape(note)}</p>" for note in item.notes]
        return "".join(parts)
    if isinstance(item, Preformatted):
        head = f"<h4 style='{H4}'>{escape(item.title)}</h4>" if item.title else ""
        return f"{head}<pre style='{PRE}'>{escape(item.text)}</pre>"
    if isinstance(item, Listing):
        code = f"<code style='{CODE}'>"
        wrap = (lambda s: f"{code}{escape(s)}</code>") if item.code else escape
        entries = "".join(f"<li style='{WORDS}'>{wrap(i)}</li>" for i in item.items)
        if item.collapsed:
            return (
                f"<details><summary style='{SUMMARY}'>{escape(item.title)}</summary>"
                f"<ol>{entries}</ol></details>"
            )
        return f"<h4 style='{H4}'>{escape(item.title)}</h4><ol>{entries}</ol>"
    if isinstance(item, Fold):
        opened = False
        if item.once and shown is not None and item.once not in shown:
            shown.add(item.once)
            opened = True
        elif item.once and shown is None:
            opened = True
        return fold(item, opened)
    if isinstance(item, Chart):
        if chart == "none":
            return ""
        if chart == "mime":
            return static_chart(item.figure)
        return plotly_html(item.figure, chart, with_js=first_chart)
    raise TypeError(f"not a document block: {type(item).__name__}")


def render(doc: Document, chart: ChartMode = "mime", shown: set[str] | None = None) -> str:
    """The document as one HTML fragment (self-contained with ``chart="inline"``); see
    :func:`block` for `shown`."""
    tone = TONES.get(doc.tone, "")
    parts = [f"<div class='wb-report' style='{ROOT}'>"]
    if doc.title:
        parts.append(f"<h3 class='{escape(doc.tone)}' style='{H3}{tone}'>{escape(doc.title)}</h3>")
    charts = 0
    for item in doc.blocks:
        parts.append(block(item, chart, first_chart=charts == 0, shown=shown))
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
