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
from workbench.report.figures import category_figure
from workbench.report.html import ChartMode
from workbench.report.tables import Document

if TYPE_CHECKING:
    from workbench.profiling.gpu_pass import GpuPass
    from workbench.profiling.lines import LinePass
    from workbench.profiling.memory import MemoryPass
    from workbench.profiling.tree import TreeNode
    from workbench.profiling.whatif import WhatIfPass

INCLUSIVE_NOTE = (
    "Self time partitions the profiled time: the self column adds up to the total. "
    "Inclusive time counts everything that ran while the category was on the stack, "
    "so categories overlap and inclusive times sum past 100% (the seeds' 'Cum Time' is inclusive)."
)


# How the remark of a run with the line pass alone (no profile) begins.
LINE_PASS_ONLY = "Line pass only:"


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
    # One row per thread / child process or Dask worker the capture saw (None: not looked).
    threads: pd.DataFrame | None = field(default=None, repr=False)
    processes: pd.DataFrame | None = field(default=None, repr=False)
    memory_pass: MemoryPass | None = field(default=None, repr=False)

    @property
    def memory(self) -> pd.DataFrame | None:
        """``--memory``: per category, the bytes allocated while the code ran (`allocated_bytes`,
        `blocks`) and held at the peak (`peak_bytes`), biggest first; None without --memory.
        The top allocating lines are ``report.memory_lines``."""
        return None if self.memory_pass is None else self.memory_pass.categories

    @property
    def memory_lines(self) -> pd.DataFrame | None:
        """``--memory``: the lines that allocated most, with their function and category."""
        return None if self.memory_pass is None else self.memory_pass.lines

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
        shares = self.categories[_share_column(self.categories)]
        big = self.categories[(shares >= min_pct) | (self.categories["pct"] >= min_pct)]["category"]
        keep = set(big) | set(self.categories["category"].head(1))
        return self.top[self.top["category"].isin(keep)], len(self.categories) - len(keep)

    def top_filter_words(self) -> str:
        """What :meth:`top_shown` compares a category's share with, in words."""
        if _share_column(self.categories) == "corrected_pct":
            return "both the measured self time and the corrected time"
        return "self time"

    def headline(self) -> str:
        """The one-sentence summary at the top of every rendering."""
        if self.empty and self.lines is not None and not self.lines.lines.empty:
            return (
                f"{self.label}: line pass only, {fmt.seconds(self.lines.seconds)} under "
                f"line_profiler on {', '.join(self.lines.functions)}."
            )
        if self.empty and any(r.startswith(LINE_PASS_ONLY) for r in self.remarks):
            if self.lines is None:
                return (
                    f"{self.label}: the code ran ({fmt.seconds(self.wall_s)}, not profiled); "
                    "no named function could be profiled by line (the notes say why)."
                )
            return (
                f"{self.label}: line pass only, {fmt.seconds(self.lines.seconds)} under "
                f"line_profiler on {', '.join(self.lines.functions)}; none of their lines ran."
            )
        if self.empty:
            return f"{self.label}: nothing measurable ran (0 function calls with time recorded)."
        text = (
            f"{self.label}: {fmt.seconds(self.profiled_s)} profiled "
            f"(wall {fmt.seconds(self.wall_s)}), {fmt.count(self.calls)} calls "
            f"in {fmt.count(len(self.functions))} functions."
        )
        if self.wins.empty:
            return text + " All of it was waiting (locks, sleeps, queues): no work to cut here."
        biggest = self.wins.iloc[0]
        return (
            text + f" Biggest category: {biggest['category']} with {fmt.pct(biggest['pct'])} "
            f"of the time ({self._corrected_words()}); halving it would make the whole run "
            f"{fmt.factor(biggest['cut_50'])} faster."
        )

    def _corrected_words(self) -> str:
        if self.counts_are_samples:
            return "sampled, the C time it calls included"
        return "corrected: the profiler's cost out, the C time it calls included"

    def notes(self) -> list[str]:
        """Caveats, in the order a reader needs them."""
        notes = []
        if not self.complete:
            notes.append(
                f"INCOMPLETE: the code stopped with {self.error}; these numbers cover what ran before it."
            )
        notes.extend(self.remarks)
        notes.extend(f"Finding: {f['title']}. {f['detail']}" for f in self.findings)
        if not (self.empty and any(r.startswith(LINE_PASS_ONLY) for r in self.remarks)):
            # A line-pass-only run has no profile whose overhead could be stated.
            notes.append(self.overhead.sentence())
            warning = self.overhead.warning()
            if warning:
                notes.append("Warning: " + warning)
        if not self.empty:
            notes.append(INCLUSIVE_NOTE)
        return notes

    @cached_property
    def document(self) -> Document:
        """Everything the report shows, built once; every rendering lays this out
        (:func:`workbench.report.profile_doc.profile_document`)."""
        from workbench.report.profile_doc import profile_document

        tree_text = None
        if self.tree is not None:
            from workbench.profiling.tree import text_tree

            tree_text = text_tree(self.tree)
        return profile_document(self, tree_text)

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

        from workbench.report.profile_doc import chart_frame, title_of

        return go.Figure(category_figure(chart_frame(self), title_of(self)))

    def __repr__(self) -> str:
        state = "complete" if self.complete else "incomplete"
        return f"<Report {self.label!r}: {fmt.seconds(self.profiled_s)} profiled, {state}>"

    def save(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write report.md, report.html (self-contained), the tables as CSV,
        profile.prof (pstats, for snakeviz or tuna) and profile.speedscope.json into
        `folder`; returns the paths.

        All or nothing: every file is rendered first, then written to a temporary name,
        and only when all are written are they renamed into place; the report files a
        save before left and this one does not write (lines.csv) are removed. SaveError
        when the folder cannot take them (a file of that name, read-only, full): the
        folder is then as it was.
        """
        from workbench.atomic import write_files
        from workbench.errors import SaveError

        try:
            files = self.files()
        except Exception as exc:  # a value no file format can hold: say so, write nothing
            raise SaveError(
                f"cannot save the report to {str(folder)!r}: rendering its files failed "
                f"({type(exc).__name__}: {exc}); nothing was written"
            ) from exc
        try:
            paths = write_files(folder, files, replaces=REPORT_FILES)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise SaveError(
                f"cannot save the report to {str(folder)!r}: {reason}; nothing was written "
                "there (give --save a folder that can be written)"
            ) from None
        return {SAVED_AS[name]: path for name, path in paths.items()}

    def files(self) -> dict[str, bytes]:
        """The report's files, rendered: what :meth:`save` writes, by file name."""
        from workbench.profiling.export import prof_bytes, speedscope_bytes
        from workbench.report import html

        files = {
            "report.md": self.to_markdown().encode(),
            "report.html": html.page(self.document).encode(),
        }
        for name in ("categories", "functions", "top", "wins", "native"):
            frame: pd.DataFrame = getattr(self, name)
            files[f"{name}.csv"] = frame.to_csv(index=False).encode()
        if self.lines is not None:
            files["lines.csv"] = self.lines.lines.to_csv(index=False).encode()
        files["profile.prof"] = prof_bytes(self.stats)
        if self.whatif is not None:
            files["whatif.csv"] = self.whatif.to_csv(index=False).encode()
        if self.stacks is not None:
            files["profile.speedscope.json"] = speedscope_bytes(stacks=self.stacks, name=self.label)
        else:
            files["profile.speedscope.json"] = speedscope_bytes(stats=self.stats, name=self.label)
        return files


# The files a saved report has, and the keys save() returns them under.
SAVED_AS = {
    "report.md": "markdown",
    "report.html": "html",
    "categories.csv": "categories",
    "functions.csv": "functions",
    "top.csv": "top",
    "wins.csv": "wins",
    "native.csv": "native",
    "lines.csv": "lines",
    "whatif.csv": "whatif",
    "profile.prof": "pstats",
    "profile.speedscope.json": "speedscope",
}
REPORT_FILES = tuple(SAVED_AS)


def _share_column(frame: pd.DataFrame) -> str:
    return "corrected_pct" if "corrected_pct" in frame.columns else "pct"
