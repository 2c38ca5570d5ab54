"""The report as HTML: tables plus the plotly chart, needing no server.

With ``chart="inline"`` plotly.js is embedded, so the output shows offline (Kaggle with
the internet off) and after the notebook is saved and reopened; ``"cdn"`` keeps the
output small but needs the internet to draw; ``"none"`` leaves the chart out.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from workbench.profiling.report import TOP_MIN_PCT
from workbench.report import format as fmt
from workbench.report import sections
from workbench.report.figures import category_colors, category_figure, icicle_figure

if TYPE_CHECKING:
    import pandas as pd

    from workbench.profiling.report import ChartMode, Report

_STYLE = """
<style>
.wb-report {font-family: system-ui, sans-serif; font-size: 13px; max-width: 1100px;}
.wb-report h3 {margin: 6px 0;}
.wb-report h4 {margin: 14px 0 4px 0;}
.wb-report table {border-collapse: collapse; margin: 4px 0;}
.wb-report th, .wb-report td {padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right;}
.wb-report th {background: #f3f3f3;}
.wb-report td.l, .wb-report th.l {text-align: left;}
.wb-report .bar {display: inline-block; height: 10px; vertical-align: middle;}
.wb-report .note {color: #555; margin: 2px 0;}
.wb-report .warn {color: #a33; font-weight: 600;}
.wb-report code {font-size: 12px;}
</style>
"""


def _row(cells: list[str], left: set[int] | None = None, tag: str = "td") -> str:
    left = left or set()
    parts = [
        f"<{tag} class='l'>{c}</{tag}>" if i in left else f"<{tag}>{c}</{tag}>"
        for i, c in enumerate(cells)
    ]
    return "<tr>" + "".join(parts) + "</tr>"


def _categories_table(report: Report) -> str:
    table = report.categories
    colors = category_colors(list(table["category"]))
    head = _row(
        [
            "Category",
            "Self",
            "% self",
            "",
            "Inclusive",
            "Calls",
            "Functions",
            "Est. overhead",
            "Rule",
        ],
        {0, 3, 8},
        "th",
    )
    rows = [head]
    for rec in fmt.records(table):
        width = max(int(rec["pct"] * 1.6), 1) if rec["pct"] > 0 else 0
        bar = f"<span class='bar' style='width:{width}px;background:{colors[rec['category']]}'></span>"
        rows.append(
            _row(
                [
                    f"<b>{escape(rec['category'])}</b>",
                    fmt.fixed(rec["self_s"]),
                    fmt.pct(rec["pct"]),
                    bar,
                    fmt.fixed(rec["inclusive_s"]),
                    fmt.count(rec["calls"]),
                    fmt.count(rec["functions"]),
                    fmt.fixed(rec["est_overhead_s"]),
                    f"<code>{escape(rec['rule'])}</code>",
                ],
                {0, 3, 8},
            )
        )
    total = _row(
        [
            "total",
            fmt.fixed(report.profiled_s),
            "100.0%",
            "",
            "",
            fmt.count(report.calls),
            fmt.count(len(report.functions)),
            "",
            "",
        ],
        {0},
    )
    rows.append(total)
    return "<table>" + "".join(rows) + "</table>"


def _top_table(top: pd.DataFrame) -> str:
    head = _row(
        ["Category", "#", "Function", "Where", "Calls", "Self (s)", "Cum (s)", "% self"],
        {0, 2, 3},
        "th",
    )
    rows = [head]
    for rec in fmt.records(top):
        rows.append(
            _row(
                [
                    escape(rec["category"]) if rec["rank"] == 1 else "",
                    str(rec["rank"]),
                    f"<code>{escape(rec['name'])}</code>",
                    escape(fmt.where(rec["file"], rec["line"])),
                    fmt.count(rec["ncalls"]),
                    fmt.fixed(rec["tottime"]),
                    fmt.fixed(rec["cumtime"]),
                    fmt.pct(rec["pct"]),
                ],
                {0, 2, 3},
            )
        )
    return "<table>" + "".join(rows) + "</table>"


def _wins_table(report: Report) -> str:
    head = _row(["Category", "% self", "cut 25%", "cut 50%", "cut 75%", "cut 100%"], {0}, "th")
    rows = [head]
    for rec in fmt.records(report.wins):
        rows.append(
            _row(
                [
                    escape(rec["category"]),
                    fmt.pct(rec["pct"]),
                    fmt.factor(rec["cut_25"]),
                    fmt.factor(rec["cut_50"]),
                    fmt.factor(rec["cut_75"]),
                    fmt.factor(rec["cut_100"]),
                ],
                {0},
            )
        )
    return "<table>" + "".join(rows) + "</table>"


def _hidden_note(hidden: int) -> str:
    if not hidden:
        return ""
    return (
        f"<p class='note'>{hidden} categories under {TOP_MIN_PCT:g}% of self time are left out "
        "here; their functions are in <code>report.top</code>.</p>"
    )


def _section_table(section: sections.Section) -> str:
    title, header, rows, right = section
    left = set(range(len(header))) - right
    body = [_row([escape(h) for h in header], left, "th")]
    for row in rows:
        cells = [escape(c) for c in row]
        if header[-1] == "Source":
            cells[-1] = f"<code>{cells[-1]}</code>"
        body.append(_row(cells, left))
    return f"<h4>{escape(title)}</h4><table>{''.join(body)}</table>"


def _extra_sections(report: Report) -> list[str]:
    status, gpu = sections.gpu_sections(report)
    parts = [
        _section_table(section)
        for section in [
            sections.native_section(report),
            sections.lines_section(report),
            sections.recommendations_section(report),
            *gpu,
        ]
        if section is not None
    ]
    if status is not None:
        parts.append(f"<p class='note'>GPU: {escape(status)}.</p>")
    return parts


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


def chart_html(report: Report, chart: ChartMode) -> str:
    """The category chart as an HTML fragment (empty for ``"none"`` or an empty report)."""
    if chart == "none" or report.empty:
        return ""
    return plotly_html(category_figure(report), chart)


def tree_html(report: Report, chart: ChartMode) -> str:
    """The call tree: an icicle (plotly.js comes from the category chart above) and text."""
    if report.tree is None or report.empty:
        return ""
    from workbench.profiling.tree import text_tree

    kind = (
        "exact, from sampled stacks"
        if report.stacks is not None
        else (
            "approximate: cProfile keeps only caller edges, so a function's time is split "
            "among its callers in proportion"
        )
    )
    parts = [f"<h4>Call tree ({escape(kind)})</h4>"]
    if chart != "none":
        figure = icicle_figure(
            report.tree, f"Call tree: {report.label}", order=list(report.categories["category"])
        )
        parts.append(plotly_html(figure, chart, with_js=False))
    parts.append(f"<pre>{escape(text_tree(report.tree))}</pre>")
    return "".join(parts)


def render(report: Report, chart: ChartMode = "inline") -> str:
    """The report as one self-contained HTML fragment."""
    notes = "".join(
        f"<p class='{'warn' if n.startswith(('Warning', 'INCOMPLETE')) else 'note'}'>{escape(n)}</p>"
        for n in report.notes()
    )
    parts = [
        _STYLE,
        "<div class='wb-report'>",
        f"<h3>Where the time goes: {escape(report.label)}</h3>",
        f"<p>{escape(report.headline())}</p>",
        notes,
    ]
    if not report.empty:
        shown, hidden = report.top_shown()
        parts += [
            "<h4>By category</h4>",
            _categories_table(report),
            chart_html(report, chart),
            f"<h4>Top {report.top_n} functions by self time, per category</h4>",
            _top_table(shown),
            _hidden_note(hidden),
            "<h4>Potential wins (Amdahl): whole-run speedup if a category's self time is cut</h4>",
            _wins_table(report),
            tree_html(report, chart),
        ]
        parts += _extra_sections(report)
    rules = "".join(f"<li><code>{escape(r)}</code></li>" for r in report.rules)
    parts += [
        f"<details><summary>Category rules, in the order tried</summary><ol>{rules}</ol></details>",
        "</div>",
    ]
    return "".join(parts)


def page(report: Report, chart: ChartMode = "inline") -> str:
    """A complete HTML document, for saving to a file."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{escape(report.label)} - workbench report</title></head><body>"
        + render(report, chart)
        + "</body></html>"
    )
