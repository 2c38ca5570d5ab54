"""The report as markdown: GitHub-flavoured tables, stable ordering, no timestamps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.profiling.report import TOP_MIN_PCT
from workbench.report import format as fmt
from workbench.report import sections

if TYPE_CHECKING:
    import pandas as pd

    from workbench.profiling.report import Report


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """A markdown table; columns in `right` are right-aligned."""
    right = right or set()
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def category_table(
    categories: pd.DataFrame,
    totals: tuple[float, int, int],
    header: list[str],
    *,
    with_rule: bool,
) -> str:
    """A category breakdown in seed 004's shape plus self time; `totals` is
    (profiled seconds, calls, functions) for the closing row."""
    rows = []
    for rec in fmt.records(categories):
        row = [
            str(rec["category"]),
            fmt.fixed(rec["self_s"]),
            fmt.pct(rec["pct"]),
            fmt.fixed(rec["inclusive_s"]),
            fmt.count(int(rec["calls"])),
            fmt.count(int(rec["functions"])),
        ]
        rows.append([*row, f"`{rec['rule']}`"] if with_rule else row)
    profiled_s, calls, functions = totals
    total = [
        "**total**",
        fmt.fixed(profiled_s),
        "100.0%",
        "",
        fmt.count(calls),
        fmt.count(functions),
    ]
    rows.append([*total, ""] if with_rule else total)
    return table(header, rows, {1, 2, 3, 4, 5})


def categories_table(report: Report) -> str:
    """The report's category breakdown, with the rule that gave each category."""
    header = ["Category", "Self (s)", "% self", "Inclusive (s)", "Calls", "Functions", "Rule"]
    totals = (report.profiled_s, report.calls, len(report.functions))
    return category_table(report.categories, totals, header, with_rule=True)


def top_section(report: Report) -> str:
    """Top functions per category, as seed 004 lists them."""
    blocks = []
    shown, hidden = report.top_shown()
    for category, group in shown.groupby("category", sort=False):
        items = [
            f"- `{rec['name']}` ({fmt.where(rec['file'], rec['line'])}): {fmt.fixed(rec['tottime'])} s self, "
            f"{fmt.fixed(rec['cumtime'])} s cum, {fmt.count(rec['ncalls'])} calls"
            for rec in fmt.records(group)
        ]
        blocks.append(f"**{category}:**\n" + "\n".join(items))
    if hidden:
        blocks.append(
            f"_{hidden} categories under {TOP_MIN_PCT:g}% of self time are left out here; "
            "their functions are in `report.top`._"
        )
    return "\n\n".join(blocks)


def wins_table(report: Report) -> str:
    """Amdahl's potential wins per category."""
    rows = [
        [
            rec["category"],
            fmt.pct(rec["pct"]),
            fmt.factor(rec["cut_25"]),
            fmt.factor(rec["cut_50"]),
            fmt.factor(rec["cut_75"]),
            fmt.factor(rec["cut_100"]),
        ]
        for rec in fmt.records(report.wins)
    ]
    return table(
        ["Category", "% self", "cut 25%", "cut 50%", "cut 75%", "cut 100%"], rows, {1, 2, 3, 4, 5}
    )


def extra_sections(report: Report) -> list[str]:
    """Native time, hottest lines and GPU time, where the report has them."""
    parts: list[str] = []
    if report.tree is not None:
        from workbench.profiling.tree import text_tree

        parts += [
            "### Where time is actually spent (call tree)",
            f"```\n{text_tree(report.tree)}\n```",
        ]
    status, gpu = sections.gpu_sections(report)
    for section in [
        sections.native_section(report),
        sections.lines_section(report),
        sections.recommendations_section(report),
        *gpu,
    ]:
        if section is not None:
            title, header, rows, right = section
            parts += [f"### {title}", table(header, rows, right)]
    if status is not None:
        parts.append(f"GPU: {status}.")
    return parts


def render(report: Report) -> str:
    """The whole report."""
    parts = [f"## Where the time goes: {report.label}", report.headline()]
    parts += [f"> {note}" for note in report.notes()]
    if not report.empty:
        parts += [
            "### By category",
            categories_table(report),
            f"### Top {report.top_n} functions by self time, per category",
            top_section(report),
            "### Potential wins (Amdahl)",
            "Whole-run speedup if the category's self time were cut by 25, 50, 75 or 100%.",
            wins_table(report),
        ]
        parts += extra_sections(report)
    parts += ["### Category rules, in the order tried"]
    parts += ["\n".join(f"{i}. `{rule}`" for i, rule in enumerate(report.rules, 1))]
    return "\n\n".join(parts) + "\n"
