"""The report as plain text, for terminals and logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.report import format as fmt

if TYPE_CHECKING:
    from workbench.profiling.report import Report


def render(report: Report) -> str:
    """Headline, notes, the category table and the top functions."""
    lines = [f"Where the time goes: {report.label}", report.headline()]
    lines += [f"  * {note}" for note in report.notes()]
    if report.empty:
        return "\n".join(lines)
    cats = report.categories
    width = max(len("category"), *(len(c) for c in cats["category"]))
    lines.append("")
    lines.append(
        f"{'category':<{width}}  {'self s':>9}  {'% self':>7}  {'incl s':>9}  {'calls':>11}"
    )
    for rec in fmt.records(cats):
        lines.append(
            f"{rec['category']:<{width}}  {rec['self_s']:>9.3f}  {fmt.pct(rec['pct']):>7}  "
            f"{rec['inclusive_s']:>9.3f}  {rec['calls']:>11,}"
        )
    lines.append(f"{'total':<{width}}  {report.profiled_s:>9.3f}  {'100.0%':>7}")
    lines.append("")
    lines.append(f"Top {report.top_n} functions by self time, per category:")
    shown, hidden = report.top_shown()
    for rec in fmt.records(shown):
        lines.append(
            f"  {rec['category']:<{width}}  {rec['tottime']:>8.3f} s  {rec['ncalls']:>9,} calls  "
            f"{rec['name']}  ({fmt.where(rec['file'], rec['line'])})"
        )
    if hidden:
        lines.append(f"  ({hidden} categories under 1% of self time left out; see report.top)")
    if report.lines is not None and not report.lines.lines.empty:
        lines.append("")
        lines.append("Hottest lines:")
        for rec in fmt.records(report.lines.hottest(8)):
            lines.append(
                f"  {rec['time_s']:>8.4f} s  {rec['hits']:>9,} hits  "
                f"{fmt.where(rec['file'], rec['line'])}  {rec['source'].strip()}"
            )
    if report.tree is not None:
        from workbench.profiling.tree import text_tree

        lines += ["", "Call tree:", text_tree(report.tree)]
    if report.gpu is not None:
        lines.append("")
        lines.append(f"GPU: {report.gpu.status}")
    return "\n".join(lines)
