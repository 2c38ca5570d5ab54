"""The Report: one immutable object users keep, holding DataFrames.

It is built once, from what each pass returned (:func:`workbench.profiling.run.build_report`),
and never changes afterwards. What it shows is one :class:`~workbench.report.tables.Document`
built from its tables; the renderers in :mod:`workbench.report` lay that out as HTML,
markdown or text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.profiling.breakdown import Tables
from workbench.profiling.capture import FuncKey, FuncStats
from workbench.profiling.overhead import Overhead
from workbench.report import format as fmt
from workbench.report import sections
from workbench.report.figures import category_figure, icicle_figure
from workbench.report.html import ChartMode
from workbench.report.tables import Block, Chart, Document, Listing, Paragraph, Preformatted

if TYPE_CHECKING:
    from workbench.profiling.gpu_pass import GpuPass
    from workbench.profiling.lines import LinePass
    from workbench.profiling.tree import TreeNode
    from workbench.profiling.whatif import WhatIfPass

INCLUSIVE_NOTE = (
    "Self time partitions the profiled time: the self column adds up to the total. "
    "Inclusive time counts everything that ran while the category was on the stack, "
    "so categories overlap and inclusive times sum past 100% (the seeds' 'Cum Time' is inclusive)."
)


@dataclass(frozen=True, eq=False)
class Report:
    """Where the time of one profiled run went, by category and by function.

    `categories`, `functions`, `top` and `wins` are pandas DataFrames; slice them.
    `remarks` are the passes' own notes, `findings` what the workbench found (as stored
    with the run); both are shown among the notes.
    """

    label: str
    tables: Tables
    overhead: Overhead
    complete: bool
    error: str | None
    rules: tuple[str, ...]
    top_n: int
    source: str | None = None
    result: object = field(default=None, repr=False)
    stats: Mapping[FuncKey, FuncStats] = field(default_factory=dict, repr=False)
    chart: ChartMode = "mime"
    mode: str = "cprofile"
    depth: str = "balanced"
    remarks: tuple[str, ...] = ()
    findings: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    lines: LinePass | None = None
    gpu: GpuPass | None = None
    counts_are_samples: bool = False
    stacks: list[tuple[tuple[FuncKey, ...], float]] | None = field(default=None, repr=False)
    tree: list[TreeNode] | None = field(default=None, repr=False)
    recommendations: pd.DataFrame | None = field(default=None, repr=False)
    whatif_pass: WhatIfPass | None = field(default=None, repr=False)

    @property
    def whatif(self) -> pd.DataFrame | None:
        """The what-if pass's predictions (``--whatif``), best first: `function`, `change`,
        `predicted_low` / `predicted` / `predicted_high` (whole-run speedups), `saving_s`,
        `recommended`, `evidence`, `calls`, `try` (the ``--try`` that measures it, where the
        change can be applied mechanically); None when the pass did not run."""
        return None if self.whatif_pass is None else self.whatif_pass.changes

    @property
    def categories(self) -> pd.DataFrame:
        """One row per category: self and inclusive seconds, share, calls, functions, rule."""
        return self.tables.categories

    @property
    def functions(self) -> pd.DataFrame:
        """One row per profiled function, with its category and the rule that gave it."""
        return self.tables.functions

    @property
    def top(self) -> pd.DataFrame:
        """The top functions by self time in each category."""
        return self.tables.top

    @property
    def wins(self) -> pd.DataFrame:
        """Amdahl: the whole run's speedup if one category's self time were cut."""
        return self.tables.wins

    @property
    def native(self) -> pd.DataFrame:
        """C-level time per owning package beside that package's Python time."""
        return self.tables.native

    @property
    def profiled_s(self) -> float:
        """Total self time cProfile recorded; the category self times add up to it."""
        return self.tables.profiled_s

    @property
    def wall_s(self) -> float:
        """Wall-clock seconds of the profiled run, profiler overhead included."""
        return self.overhead.profiled_wall_s

    @property
    def calls(self) -> int:
        """Function calls recorded."""
        return self.tables.calls

    @property
    def empty(self) -> bool:
        """True when nothing measurable ran."""
        return self.tables.functions.empty or self.profiled_s <= 0

    def top_shown(self, min_pct: float = sections.TOP_MIN_PCT) -> tuple[pd.DataFrame, int]:
        """Top functions of the categories holding at least `min_pct` of self time (always
        the biggest), and how many smaller categories were left out of the display."""
        big = self.categories[self.categories["pct"] >= min_pct]["category"]
        keep = set(big) | set(self.categories["category"].head(1))
        return self.top[self.top["category"].isin(keep)], len(self.categories) - len(keep)

    def headline(self) -> str:
        """The one-sentence summary at the top of every rendering."""
        if self.empty:
            return f"{self.label}: nothing measurable ran (0 function calls with time recorded)."
        text = (
            f"{self.label}: {fmt.seconds(self.profiled_s)} profiled "
            f"(wall {fmt.seconds(self.wall_s)}), {fmt.count(self.calls)} calls "
            f"in {fmt.count(len(self.functions))} functions."
        )
        biggest = self.wins.iloc[0]
        return (
            text + f" Biggest category: {biggest['category']} with {fmt.pct(biggest['pct'])} "
            f"of self time; halving it would make the whole run {fmt.factor(biggest['cut_50'])} faster."
        )

    def notes(self) -> list[str]:
        """Caveats, in the order a reader needs them."""
        notes = []
        if not self.complete:
            notes.append(
                f"INCOMPLETE: the code stopped with {self.error}; these numbers cover what ran before it."
            )
        notes.extend(self.remarks)
        notes.extend(f"Finding: {f['title']}. {f['detail']}" for f in self.findings)
        notes.append(self.overhead.sentence())
        warning = self.overhead.warning()
        if warning:
            notes.append("Warning: " + warning)
        if not self.empty:
            notes.append(INCLUSIVE_NOTE)
        return notes

    @cached_property
    def document(self) -> Document:
        """Everything the report shows, built once; every rendering lays this out."""
        blocks: list[Block] = [Paragraph(self.headline())]
        blocks += [
            Paragraph(n, "warn" if n.startswith(("Warning", "INCOMPLETE")) else "note")
            for n in self.notes()
        ]
        if not self.empty:
            shown, hidden = self.top_shown()
            blocks += [
                sections.categories(
                    self.categories,
                    profiled_s=self.profiled_s,
                    calls=self.calls,
                    functions=len(self.functions),
                ),
                Chart(category_figure(self.categories, f"Where the time goes: {self.label}")),
                sections.top_functions(
                    shown,
                    title=f"Top {self.top_n} functions by self time, per category",
                    hidden=hidden,
                ),
                sections.wins(self.wins),
            ]
            blocks += self._deeper_blocks()
        blocks.append(Listing("Category rules, in the order tried", self.rules, collapsed=True))
        return Document(f"Where the time goes: {self.label}", tuple(blocks))

    def _deeper_blocks(self) -> list[Block]:
        """The call tree, native time, hot lines, recommendations and GPU time, when present."""
        blocks: list[Block] = []
        if self.tree is not None:
            from workbench.profiling.tree import text_tree

            kind = (
                "exact, from sampled stacks"
                if self.stacks is not None
                else (
                    "approximate: cProfile keeps only caller edges, so a function's time is "
                    "split among its callers in proportion"
                )
            )
            order = list(self.categories["category"])
            blocks += [
                Chart(icicle_figure(self.tree, f"Call tree: {self.label}", order=order)),
                Preformatted(f"Call tree ({kind})", text_tree(self.tree)),
            ]
        if not self.native.empty:
            blocks.append(sections.native(self.native))
        if self.lines is not None and not self.lines.lines.empty:
            blocks.append(sections.hottest_lines(self.lines.hottest(12), self.lines.functions))
        if self.whatif_pass is not None:
            blocks.append(sections.whatif(self.whatif_pass.changes))
        if self.recommendations is not None and not self.recommendations.empty:
            blocks.append(sections.recommendations(self.recommendations))
        if self.gpu is not None:
            if self.gpu.measured:
                blocks += [
                    sections.gpu_devices(self.gpu.devices),
                    sections.gpu_lines(self.gpu.lines),
                ]
            blocks.append(Paragraph(f"GPU: {self.gpu.status}.", "note"))
        return blocks

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, Any]:
        from workbench.report.bundle import bundle

        out = bundle(self.document, self.chart)
        if include is not None:
            out = {k: v for k, v in out.items() if k in set(include)}
        if exclude is not None:
            out = {k: v for k, v in out.items() if k not in set(exclude)}
        return out

    def _ipython_display_(self) -> None:
        """In a notebook: the report, with each chart as its own output in ``"mime"`` mode."""
        from IPython.display import display

        from workbench.report.bundle import outputs

        for part in outputs(self.document, self.chart):
            display(part, raw=True)  # type: ignore[no-untyped-call]

    def to_markdown(self) -> str:
        """The report as GitHub-flavoured markdown."""
        from workbench.report import markdown

        return markdown.render(self.document)

    def to_html(self, chart: ChartMode | None = None) -> str:
        """The report as an HTML fragment; `chart` says how charts are included."""
        from workbench.report import html

        return html.render(self.document, chart or self.chart)

    def to_text(self) -> str:
        """The report as plain text."""
        from workbench.report import text

        return text.render(self.document)

    def figure(self) -> Any:
        """The category chart as a plotly Figure."""
        import plotly.graph_objects as go

        return go.Figure(category_figure(self.categories, f"Where the time goes: {self.label}"))

    def __repr__(self) -> str:
        state = "complete" if self.complete else "incomplete"
        return f"<Report {self.label!r}: {fmt.seconds(self.profiled_s)} profiled, {state}>"

    def save(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write report.md, report.html (self-contained), the tables as CSV,
        profile.prof (pstats, for snakeviz or tuna) and profile.speedscope.json into
        `folder`; returns the paths.

        Each file is written to a temporary name and renamed, so none is ever half-written.
        """
        from workbench.atomic import write_atomic
        from workbench.profiling.export import write_prof, write_speedscope
        from workbench.report import html

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = {
            "markdown": write_atomic(out / "report.md", self.to_markdown().encode()),
            "html": write_atomic(out / "report.html", html.page(self.document).encode()),
        }
        for name in ("categories", "functions", "top", "wins", "native"):
            frame: pd.DataFrame = getattr(self, name)
            written[name] = write_atomic(out / f"{name}.csv", frame.to_csv(index=False).encode())
        if self.lines is not None:
            written["lines"] = write_atomic(
                out / "lines.csv", self.lines.lines.to_csv(index=False).encode()
            )
        if self.whatif is not None:
            written["whatif"] = write_atomic(
                out / "whatif.csv", self.whatif.to_csv(index=False).encode()
            )
        written["pstats"] = write_prof(out / "profile.prof", self.stats)
        if self.stacks is not None:
            speedscope = write_speedscope(
                out / "profile.speedscope.json", stacks=self.stacks, name=self.label
            )
        else:
            speedscope = write_speedscope(
                out / "profile.speedscope.json", stats=self.stats, name=self.label
            )
        written["speedscope"] = speedscope
        return written
