"""Renderings of experiments, comparisons and the workflow: markdown, plain text, HTML."""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING

import pandas as pd

from workbench.report import format as fmt
from workbench.report.markdown import table

if TYPE_CHECKING:
    from workbench.experiment.compare import CompareResult
    from workbench.experiment.measure import ExperimentResult
    from workbench.experiment.workflow import WorkflowStatus

_STYLE = (
    "<style>.wb-x{font-family:system-ui,sans-serif;font-size:13px;max-width:1100px}"
    ".wb-x table{border-collapse:collapse;margin:4px 0}.wb-x th,.wb-x td{padding:2px 8px;"
    "border-bottom:1px solid #ddd;text-align:right}.wb-x th{background:#f3f3f3}"
    ".wb-x td.l,.wb-x th.l{text-align:left}.wb-x .keep{color:#1a7f37}.wb-x .revert{color:#9a6700}"
    ".wb-x .broken,.wb-x .Failed{color:#cf222e}.wb-x .note{color:#555;margin:2px 0}</style>"
)


def html_table(header: list[str], rows: list[list[str]], left: set[int] | None = None) -> str:
    """An HTML table of escaped text; columns in `left` are left-aligned."""
    left = left if left is not None else {0}

    def row(cells: list[str], tag: str) -> str:
        return (
            "<tr>"
            + "".join(
                f"<{tag} class='l'>{escape(c)}</{tag}>"
                if i in left
                else f"<{tag}>{escape(c)}</{tag}>"
                for i, c in enumerate(cells)
            )
            + "</tr>"
        )

    return "<table>" + row(header, "th") + "".join(row(r, "td") for r in rows) + "</table>"


def _change(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:+.1f}%"


def category_rows(frame: pd.DataFrame, limit: int | None = None) -> list[list[str]]:
    """Rows of a comparison's category table."""
    head = frame if limit is None else frame.head(limit)
    return [
        [
            str(r["category"]),
            fmt.fixed(r["self_a"]),
            fmt.fixed(r["self_b"]),
            f"{r['self_delta_s']:+.3f}",
            _change(r["self_change_pct"]),
            fmt.fixed(r["inclusive_a"]),
            fmt.fixed(r["inclusive_b"]),
            str(r["status"]),
        ]
        for r in fmt.records(head)
    ]


CATEGORY_HEADER = [
    "Category",
    "Self A (s)",
    "Self B (s)",
    "Δ self (s)",
    "Change",
    "Incl. A (s)",
    "Incl. B (s)",
    "Status",
]
FUNCTION_HEADER = [
    "Function",
    "Where",
    "Category",
    "Self A (s)",
    "Self B (s)",
    "Δ self (s)",
    "Cum A (s)",
    "Cum B (s)",
    "Calls A",
    "Calls B",
    "Status",
]


def function_rows(frame: pd.DataFrame, limit: int) -> list[list[str]]:
    """Rows of a comparison's function table, biggest change first."""
    return [
        [
            str(r["name"]),
            fmt.where(str(r["file"]), 0).rsplit(":", 1)[0] if r["file"] != "<cell>" else "<cell>",
            str(r["category"]),
            fmt.fixed(r["self_a"]),
            fmt.fixed(r["self_b"]),
            f"{r['self_delta_s']:+.3f}",
            fmt.fixed(r["cum_a"]),
            fmt.fixed(r["cum_b"]),
            fmt.count(int(r["calls_a"])),
            fmt.count(int(r["calls_b"])),
            str(r["status"]),
        ]
        for r in fmt.records(frame.head(limit))
    ]


def compare_markdown(result: CompareResult, top: int = 15) -> str:
    """A comparison as markdown: headline, categories, the functions that changed most."""
    parts = [
        f"### Compare: A = {result.a.title()}, B = {result.b.title()}",
        result.headline(),
        "#### By category",
        table(CATEGORY_HEADER, category_rows(result.categories), {1, 2, 3, 4, 5, 6}),
        f"#### Functions that changed most (top {top} by |Δ self|)",
        table(FUNCTION_HEADER, function_rows(result.functions, top), {3, 4, 5, 6, 7, 8, 9}),
    ]
    return "\n\n".join(parts) + "\n"


def compare_bundle(result: CompareResult) -> dict[str, str]:
    """MIME bundle for a comparison."""
    html = (
        f"<div class='wb-x'>{_STYLE}<h3>{escape(f'Compare: A = {result.a.title()}, B = {result.b.title()}')}</h3>"
        f"<p>{escape(result.headline())}</p><h4>By category</h4>"
        + html_table(CATEGORY_HEADER, category_rows(result.categories))
        + "<h4>Functions that changed most</h4>"
        + html_table(FUNCTION_HEADER, function_rows(result.functions, 15), {0, 1, 2, 10})
        + "</div>"
    )
    markdown = compare_markdown(result)
    return {"text/plain": markdown, "text/markdown": markdown, "text/html": html}


def _summary_rows(exp: ExperimentResult) -> list[list[str]]:
    t = exp.timings
    rows = [
        ["median per run (s)", f"{exp.baseline_median:.4f}", f"{exp.candidate_median:.4f}"],
        ["fastest run (s)", f"{min(t.baseline):.4f}", f"{min(t.candidate):.4f}"],
        ["timed rounds", str(len(t.baseline)), str(len(t.candidate))],
        ["runs per sample", str(t.number_b), str(t.number_c)],
    ]
    if exp.baseline_run is not None or exp.candidate_run is not None:
        rows.append(["profiled run", f"#{exp.baseline_run}", f"#{exp.candidate_run}"])
    return rows


def _correctness_line(exp: ExperimentResult) -> str:
    what = ", ".join(exp.checks) if exp.checks else "the cell's result"
    if exp.correctness == "equal":
        return f"Correctness: outputs equal ({what} compared, {exp.tolerance.describe()})."
    if exp.correctness == "differ":
        return f"Correctness: OUTPUTS DIFFER ({what} compared): {exp.difference}."
    return "Correctness: not checked (nothing to compare)."


def markdown(exp: ExperimentResult) -> str:
    """An experiment's verdict as markdown."""
    header = ["", f"baseline '{exp.baseline_name}'", f"candidate '{exp.name}'"]
    parts = [
        f"### {exp.verdict.upper()}: candidate '{exp.name}' vs baseline '{exp.baseline_name}'",
        exp.reason[0].upper() + exp.reason[1:] + ".",
        table(header, _summary_rows(exp), {1, 2}),
        _correctness_line(exp),
    ]
    parts += [f"> {note}" for note in exp.notes]
    parts += [f"> Finding: {f['title']}. {f['detail']}" for f in exp.findings]
    if exp.comparison is not None:
        parts += [
            f"#### By category (profiled runs: A = #{exp.comparison.a.id}, B = #{exp.comparison.b.id})",
            table(
                CATEGORY_HEADER, category_rows(exp.comparison.categories, 10), {1, 2, 3, 4, 5, 6}
            ),
        ]
    return "\n\n".join(parts) + "\n"


def bundle(exp: ExperimentResult) -> dict[str, str]:
    """MIME bundle for an experiment."""
    text = markdown(exp)
    header = ["", f"baseline '{exp.baseline_name}'", f"candidate '{exp.name}'"]
    notes = "".join(f"<p class='note'>{escape(n)}</p>" for n in exp.notes)
    notes += "".join(
        f"<p class='note'><b>Finding: {escape(f['title'])}.</b> {escape(f['detail'])}</p>"
        for f in exp.findings
    )
    html = (
        f"<div class='wb-x'>{_STYLE}<h3 class='{exp.verdict}'>"
        f"{escape(exp.verdict.upper())}: candidate '{escape(exp.name)}' vs baseline "
        f"'{escape(exp.baseline_name)}'</h3><p>{escape(exp.reason)}</p>"
        + html_table(header, _summary_rows(exp))
        + f"<p>{escape(_correctness_line(exp))}</p>{notes}"
    )
    if exp.comparison is not None:
        html += "<h4>By category</h4>" + html_table(
            CATEGORY_HEADER, category_rows(exp.comparison.categories, 10)
        )
    return {"text/plain": text, "text/markdown": text, "text/html": html + "</div>"}


WORKFLOW_HEADER = ["Phase", "State", "Why", "Run", "Experiment"]


def workflow_rows(status: WorkflowStatus) -> list[list[str]]:
    """One row per phase."""
    return [
        [
            p.phase,
            p.state,
            p.reason,
            "" if p.run_id is None else f"#{p.run_id}",
            "" if p.experiment_id is None else str(p.experiment_id),
        ]
        for p in status.phases
    ]


def workflow_markdown(status: WorkflowStatus) -> str:
    """The workflow's phases as markdown, and what is blocked."""
    parts = [f"### Workflow '{status.name}'", table(WORKFLOW_HEADER, workflow_rows(status))]
    blocked = status.blocked()
    if blocked:
        parts.append(
            "Blocked: "
            + "; ".join(f"{phase} (by {failed.phase})" for phase, failed in blocked)
            + "."
        )
    return "\n\n".join(parts) + "\n"


def workflow_bundle(status: WorkflowStatus) -> dict[str, str]:
    """MIME bundle for the workflow table."""
    text = workflow_markdown(status)
    html = (
        f"<div class='wb-x'>{_STYLE}<h3>{escape(f'Workflow {status.name!r}')}</h3>"
        + html_table(WORKFLOW_HEADER, workflow_rows(status), {0, 1, 2})
        + "</div>"
    )
    return {"text/plain": text, "text/markdown": text, "text/html": html}
