"""What a profile shows, in reading order: one Document built from a Report's tables.

A plain profile reads: the headline and notes, the category table (small categories as
one "other" row), the chart, the top functions, the potential wins. A deeper pass
(``--lines``, ``--tree``, a measured ``--gpu``) leads with its own result, with the
category table compact beneath it and the rest folded away. The explanations that do
not change from run to run are one fold that a notebook session shows open once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd

from workbench.report import sections
from workbench.report.figures import category_figure, chart_title, icicle_figure, shown_label
from workbench.report.tables import Block, Chart, Document, Fold, Listing, Paragraph, Preformatted

EXPLAINED = "profile"  # the name of the profile's explanations fold (Fold.once)
INCLUSIVE_PREFIX = "Self time partitions the profiled time"
TREE_EXACT = "exact, from sampled stacks"
TREE_REBUILT = (
    "approximate: cProfile keeps only caller edges, so a function's time is split among "
    "its callers in proportion"
)


class Profile(Protocol):
    """What the document needs of a Report (``workbench.profiling.report.Report``)."""

    @property
    def label(self) -> str: ...
    @property
    def source(self) -> str | None: ...
    @property
    def rules(self) -> tuple[str, ...]: ...
    @property
    def top_n(self) -> int: ...
    @property
    def categories(self) -> pd.DataFrame: ...
    @property
    def functions(self) -> pd.DataFrame: ...
    @property
    def wins(self) -> pd.DataFrame: ...
    @property
    def native(self) -> pd.DataFrame: ...
    @property
    def profiled_s(self) -> float: ...
    @property
    def calls(self) -> int: ...
    @property
    def empty(self) -> bool: ...
    @property
    def lines(self) -> Any: ...
    @property
    def gpu(self) -> Any: ...
    @property
    def tree(self) -> Any: ...
    @property
    def stacks(self) -> Any: ...
    @property
    def recommendations(self) -> pd.DataFrame | None: ...
    @property
    def counts_are_samples(self) -> bool: ...
    @property
    def whatif_pass(self) -> Any: ...
    def headline(self) -> str: ...
    def notes(self) -> list[str]: ...
    def top_shown(self, min_pct: float = ...) -> tuple[pd.DataFrame, int]: ...
    def top_filter_words(self) -> str: ...


def title_of(report: Profile) -> str:
    """The report's title: the label, or the cell's first line for the default label."""
    return chart_title(report.label, report.source)


def chart_frame(report: Profile) -> pd.DataFrame:
    """The categories as the chart shows them: each bar the category's corrected share of
    the plain time (the profiled time less the profiler's cost), small ones as "other"."""
    frame = report.categories
    if "corrected_pct" in frame.columns:
        plain = max(report.profiled_s - float(frame["est_overhead_s"].sum()), 0.0)
        frame = frame.assign(
            self_s=frame["corrected_pct"] * plain / 100.0, pct=frame["corrected_pct"]
        )
    return sections.fold_small(frame)


def profile_document(report: Profile, tree_text: str | None = None) -> Document:
    """The whole report; `tree_text` is the text call tree when there is one."""
    title = title_of(report)
    notes = [n for n in report.notes() if not n.startswith(INCLUSIVE_PREFIX)]
    blocks: list[Block] = [Paragraph(report.headline())]
    blocks += [
        Paragraph(n, "warn" if n.startswith(("Warning", "INCOMPLETE")) else "note") for n in notes
    ]
    if report.empty:
        lines = report.lines
        if lines is not None and not lines.lines.empty:  # a line pass alone
            blocks.append(sections.hottest_lines(lines.hottest(12), lines.functions))
        blocks.append(rules_fold(report))
        return Document(title, tuple(blocks))
    lead = deeper_result(report, tree_text)
    categories = sections.categories(
        report.categories,
        profiled_s=report.profiled_s,
        calls=report.calls,
        functions=len(report.functions),
        detail=not lead,
        samples=report.counts_are_samples,
    )
    shown, hidden = report.top_shown()
    top = sections.top_functions(
        shown,
        title=f"Top {report.top_n} functions by self time, per category",
        hidden=hidden,
        samples=report.counts_are_samples,
        hidden_under=report.top_filter_words(),
    )
    wins = sections.wins(report.wins, min_pct=sections.OTHER_MIN_PCT, intro=False)
    if lead:
        blocks += [*lead, categories]
        blocks.append(Fold("Top functions and potential wins", (top, wins)))
    else:
        figure = category_figure(chart_frame(report), title)
        blocks += [categories, Chart(figure), top, wins]
    blocks += other_results(report)
    blocks.append(explanations(report, tree=report.tree is not None))
    blocks.append(rules_fold(report))
    return Document(title, tuple(blocks))


def deeper_result(report: Profile, tree_text: str | None) -> list[Block]:
    """The blocks of the deeper passes (hot lines, the call tree, GPU time), or none."""
    blocks: list[Block] = []
    lines = report.lines
    if lines is not None and not lines.lines.empty:
        blocks.append(sections.hottest_lines(lines.hottest(12), lines.functions))
    if report.tree is not None:
        kind = TREE_EXACT if report.stacks is not None else "rebuilt from caller edges"
        order = list(report.categories["category"])
        label = shown_label(report.label, report.source)
        blocks.append(Chart(icicle_figure(report.tree, f"Call tree: {label}", order=order)))
        if tree_text is not None:
            blocks.append(Fold(f"Call tree as text ({kind})", (Preformatted("", tree_text),)))
    gpu = report.gpu
    if gpu is not None and gpu.measured:
        blocks += [sections.gpu_devices(gpu.devices), sections.gpu_lines(gpu.lines)]
    return blocks


def other_results(report: Profile) -> list[Block]:
    """Native time, the router's recommendations, and the GPU pass's status line."""
    blocks: list[Block] = []
    if not report.native.empty:
        blocks.append(sections.native(report.native, samples=report.counts_are_samples))
    if report.whatif_pass is not None:
        blocks.append(sections.whatif(report.whatif_pass.changes))
    if report.recommendations is not None and not report.recommendations.empty:
        blocks.append(sections.recommendations(report.recommendations))
    if report.gpu is not None:
        blocks.append(Paragraph(f"GPU: {report.gpu.status}.", "note"))
    return blocks + coverage_results(report)


def coverage_results(report: Profile) -> list[Block]:
    """The memory pass, and the threads and processes beside the capture's thread."""
    from workbench.report import coverage_sections

    blocks: list[Block] = []
    memory = getattr(report, "memory_pass", None)
    if memory is not None:
        pct = dict(zip(report.categories["category"], report.categories["pct"], strict=True))
        blocks.append(coverage_sections.memory(memory.categories, memory.lines, pct))
    threads = getattr(report, "threads", None)
    if threads is not None and len(threads) > 1:
        blocks.append(coverage_sections.threads(threads))
    processes = getattr(report, "processes", None)
    if processes is not None and not processes.empty:
        blocks.append(coverage_sections.processes(processes))
    return blocks


def explanations(report: Profile, *, tree: bool) -> Fold:
    """What the numbers mean: shown open once per notebook session, then folded."""
    texts: Sequence[str] = [n for n in report.notes() if n.startswith(INCLUSIVE_PREFIX)]
    blocks = [Paragraph(text, "note") for text in texts]
    blocks.append(Paragraph(sections.WINS_INTRO, "note"))
    blocks.append(
        Paragraph(
            f"Categories under {sections.OTHER_MIN_PCT:g}% of self time are one 'other' row "
            "here; report.categories lists every one. The Rule column shows the first rule "
            "that gave a category its functions; 'Rules' below lists them all.",
            "note",
        )
    )
    if tree and report.stacks is None:
        blocks.append(Paragraph(f"The call tree is {TREE_REBUILT}.", "note"))
    return Fold("About these numbers", tuple(blocks), once=EXPLAINED)


def rules_fold(report: Profile) -> Fold:
    """Every rule of each category, and every rule in the order tried."""
    parts: list[Paragraph | Listing | Any] = []
    if not report.empty:
        parts.append(sections.category_rules(report.categories))
    parts.append(Listing("Category rules, in the order tried", report.rules))
    return Fold("Rules", tuple(parts))
