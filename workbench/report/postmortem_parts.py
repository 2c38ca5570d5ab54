"""Pieces of the postmortem that render stored tables: the time tree, the category
breakdown, top functions, potential wins, the runs referenced. Every number is read from
a :class:`~workbench.store.db.StoredRun`, and every table goes through the same model
(:mod:`workbench.report.sections`) as a live report's; nothing is measured here."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.report import format as fmt
from workbench.report import sections
from workbench.report.markdown import fence, inline, table
from workbench.report.tables import Column, Table
from workbench.store.db import ExperimentRow, StoredRun

PLACEHOLDER = "_[TO BE WRITTEN: {what}. The workbench does not invent it.]_"
TREE_MIN_PCT = 1.0


def placeholder(what: str) -> str:
    """A marked gap for text only the user can write."""
    return PLACEHOLDER.format(what=what)


def user_text(text: str | None, what: str) -> str:
    """The user's text, or a marked placeholder."""
    return text.strip() if text and text.strip() else placeholder(what)


def time_tree(run: StoredRun, per_category: int = 3) -> str:
    """Seed 003's "where time is actually spent" tree: categories, then top functions."""
    cats = fmt.records(run.categories)
    big = [c for c in cats if c["pct"] >= TREE_MIN_PCT]
    small = [c for c in cats if c["pct"] < TREE_MIN_PCT]
    lines = [f"Total: {run.profiled_s:.3f}s profiled (run #{run.id}, {run.label})"]
    entries: list[tuple[str, list[str]]] = []
    top = run.top
    for cat in big:
        head = f"{cat['category']}: {cat['self_s']:.3f}s ({cat['pct']:.1f}%)"
        group = top[top["category"] == cat["category"]].head(per_category)
        children = [
            f"{rec['name']}: {rec['tottime']:.3f}s self, {rec['cumtime']:.3f}s cum, {fmt.count(int(rec['ncalls']))} calls"
            for rec in fmt.records(group)
        ]
        entries.append((head, children))
    if small:
        total = sum(c["self_s"] for c in small)
        share = sum(c["pct"] for c in small)
        entries.append(
            (
                f"other ({len(small)} categories under {TREE_MIN_PCT:g}%): {total:.3f}s ({share:.1f}%)",
                [],
            )
        )
    for index, (head, children) in enumerate(entries):
        last = index == len(entries) - 1
        lines.append(("└─ " if last else "├─ ") + head)
        for child_index, child in enumerate(children):
            branch = "    " if last else "│   "
            lines.append(branch + ("└─ " if child_index == len(children) - 1 else "├─ ") + child)
    return fence("\n".join(lines))


def category_breakdown(run: StoredRun) -> str:
    """Seed 004's bottleneck table, with self time beside the inclusive ("cum") time."""
    return table(
        sections.categories(
            run.categories,
            profiled_s=run.profiled_s,
            calls=run.calls,
            functions=len(run.functions),
            detail=False,
        )
    )


def top_functions(run: StoredRun, per_category: int = 5) -> str:
    """Top functions by self time for each category over 1% of the time."""
    big = run.categories.loc[run.categories["pct"] >= TREE_MIN_PCT, "category"]
    shown = run.top[run.top["category"].isin(set(big))]
    if shown.empty:
        return "_No functions recorded._"
    return table(sections.top_functions(shown, title="", per_category=per_category))


def potential_wins(run: StoredRun) -> str:
    """Amdahl's law per category, from the stored wins table."""
    wins = sections.wins(run.wins, min_pct=TREE_MIN_PCT)
    return wins.intro + "\n\n" + table(wins)


def experiment_line(row: ExperimentRow) -> str:
    """One experiment as a sentence of facts from the store."""
    ci = (
        f"{row.confidence:.0%} CI {row.ci_low:.3f}x to {row.ci_high:.3f}x"
        if row.ci_low is not None and row.ci_high is not None
        else "no interval"
    )
    times = ""
    if row.baseline_median is not None and row.candidate_median is not None:
        delta = row.candidate_median - row.baseline_median
        times = (
            f"; {row.baseline_median:.4f}s -> {row.candidate_median:.4f}s per run ({delta:+.4f}s)"
        )
    speed = f"{row.speedup:.3f}x" if row.speedup is not None else "n/a"
    return (
        f"experiment {row.id}: candidate '{inline(row.name)}' vs baseline '{inline(row.baseline)}' "
        f"(runs #{row.baseline_run} -> #{row.candidate_run}): {row.verdict.upper()}, {speed} "
        f"({ci}, {row.rounds} rounds){times}; outputs {row.correctness}"
    )


PREDICTION_COLUMNS = (
    Column("Experiment", "count"),
    Column("Change", "code"),
    Column("Predicted"),
    Column("Measured"),
    Column("Verdict"),
    Column("Inside"),
)


def predictions_table(rows: Sequence[ExperimentRow]) -> str | None:
    """What the what-if pass predicted for each tried change, against what was measured
    (None when no experiment carries a prediction)."""
    body = []
    for r in rows:
        predicted = r.detail.get("prediction")
        if not isinstance(predicted, dict):
            continue
        low, high = predicted.get("low"), predicted.get("high")
        if isinstance(low, float) and isinstance(high, float):
            span = f"{low:.3f}x to {high:.3f}x"
            inside = "yes" if r.speedup is not None and low <= r.speedup <= high else "no"
        else:
            span, inside = f"none ({predicted.get('note', 'not predicted')})", "-"
        measured = (
            f"{r.speedup:.3f}x ({r.ci_low:.3f}x to {r.ci_high:.3f}x)"
            if r.speedup is not None and r.ci_low is not None and r.ci_high is not None
            else "n/a"
        )
        body.append((r.id, r.name, span, measured, r.verdict.upper(), inside))
    if not body:
        return None
    return table(Table("", PREDICTION_COLUMNS, tuple(body)))


VALIDATED_COLUMNS = (
    Column("Experiment", "count"),
    Column("Candidate", "name"),
    Column("Baseline"),
    Column("Speedup", "factor"),
    Column("CI"),
    Column("Rounds", "count"),
    Column("Outputs"),
)


def validated_table(rows: Sequence[ExperimentRow]) -> str:
    """The experiments whose verdict was keep."""
    kept = [r for r in rows if r.verdict == "keep"]
    if not kept:
        return "_No change has been validated yet (no experiment with verdict keep)._"
    body = tuple(
        (
            r.id,
            r.name,
            r.baseline,
            f"{r.speedup:.3f}x" if r.speedup is not None else None,
            f"{r.ci_low:.3f}x to {r.ci_high:.3f}x"
            if r.ci_low is not None and r.ci_high is not None
            else None,
            r.rounds,
            r.correctness,
        )
        for r in kept
    )
    return table(Table("", VALIDATED_COLUMNS, body))


RUN_COLUMNS = (
    Column("Run"),
    Column("Kind"),
    Column("Name"),
    Column("Label"),
    Column("Profiled (s)", "seconds"),
    Column("Wall (s)", "seconds"),
    Column("Calls", "count"),
    Column("Complete"),
    Column("Commit"),
    Column("Device"),
)


def runs_table(runs: Sequence[StoredRun]) -> str:
    """The runs the postmortem cites, oldest first."""
    rows = tuple(
        (
            f"#{r.id}",
            r.kind,
            r.name or "",
            r.label,
            r.profiled_s,
            r.wall_s,
            r.calls,
            "yes" if r.complete else "no",
            (r.git_commit or "")[:10],
            r.device,
        )
        for r in sorted(runs, key=lambda run: run.id)
    )
    return table(Table("", RUN_COLUMNS, rows))
