"""Pieces of the postmortem that render stored tables: the time tree, the category
breakdown, top functions, potential wins, the runs referenced. Every number is read from
a :class:`~workbench.store.db.StoredRun`; nothing is measured here."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.report import format as fmt
from workbench.report.markdown import category_table, table
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
    return "```\n" + "\n".join(lines) + "\n```"


def category_breakdown(run: StoredRun) -> str:
    """Seed 004's bottleneck table, with self time beside the inclusive ("cum") time."""
    header = ["Category", "Self (s)", "% Time (self)", "Cum Time (s)", "Calls", "Functions"]
    totals = (run.profiled_s, run.calls, len(run.functions))
    return category_table(run.categories, totals, header, with_rule=False)


def top_functions(run: StoredRun, per_category: int = 5) -> str:
    """Top functions by self time for each category over 1% of the time."""
    blocks = []
    for cat in fmt.records(run.categories):
        if cat["pct"] < TREE_MIN_PCT:
            continue
        group = run.top[run.top["category"] == cat["category"]].head(per_category)
        items = [
            f"- `{rec['name']}` ({rec['tottime']:.3f}s self, {rec['cumtime']:.3f}s cum, {fmt.count(int(rec['ncalls']))} calls)"
            for rec in fmt.records(group)
        ]
        if items:
            blocks.append(f"**{cat['category']}:**\n" + "\n".join(items))
    return "\n\n".join(blocks) if blocks else "_No functions recorded._"


def potential_wins(run: StoredRun) -> str:
    """Amdahl's law per category, from the stored wins table."""
    rows = [
        [
            str(rec["category"]),
            fmt.pct(rec["pct"]),
            fmt.factor(rec["cut_25"]),
            fmt.factor(rec["cut_50"]),
            fmt.factor(rec["cut_75"]),
            fmt.factor(rec["cut_100"]),
        ]
        for rec in fmt.records(run.wins)
        if rec["pct"] >= TREE_MIN_PCT
    ]
    intro = (
        "Whole-run speedup if a category's self time were cut by 25, 50, 75 or 100% "
        "(Amdahl's law: 1 / (1 - share x cut)); categories under 1% left out."
    )
    header = ["Category", "% self", "cut 25%", "cut 50%", "cut 75%", "cut 100%"]
    return intro + "\n\n" + table(header, rows, {1, 2, 3, 4, 5})


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
        f"experiment {row.id}: candidate '{row.name}' vs baseline '{row.baseline}' "
        f"(runs #{row.baseline_run} -> #{row.candidate_run}): {row.verdict.upper()}, {speed} "
        f"({ci}, {row.rounds} rounds){times}; outputs {row.correctness}"
    )


def validated_table(rows: Sequence[ExperimentRow]) -> str:
    """The experiments whose verdict was keep."""
    kept = [r for r in rows if r.verdict == "keep"]
    if not kept:
        return "_No change has been validated yet (no experiment with verdict keep)._"
    body = [
        [
            str(r.id),
            r.name,
            r.baseline,
            f"{r.speedup:.3f}x" if r.speedup is not None else "",
            f"{r.ci_low:.3f}x to {r.ci_high:.3f}x"
            if r.ci_low is not None and r.ci_high is not None
            else "",
            str(r.rounds),
            r.correctness,
        ]
        for r in kept
    ]
    header = ["Experiment", "Candidate", "Baseline", "Speedup", "CI", "Rounds", "Outputs"]
    return table(header, body, {3, 5})


def runs_table(runs: Sequence[StoredRun]) -> str:
    """The runs the postmortem cites, oldest first."""
    rows = [
        [
            f"#{r.id}",
            r.kind,
            r.name or "",
            r.label,
            fmt.fixed(r.profiled_s),
            fmt.fixed(r.wall_s),
            fmt.count(r.calls),
            "yes" if r.complete else "no",
            (r.git_commit or "")[:10],
            r.device,
        ]
        for r in sorted(runs, key=lambda run: run.id)
    ]
    header = [
        "Run",
        "Kind",
        "Name",
        "Label",
        "Profiled (s)",
        "Wall (s)",
        "Calls",
        "Complete",
        "Commit",
        "Device",
    ]
    return table(header, rows, {4, 5, 6})
