"""One renderer-neutral model of what a report shows, like rich's ``Table``.

A :class:`Table` is a title, columns (each with a header and a kind that says how its
values read: seconds, a share, a count, code, ...), rows of raw values, an optional
closing row and notes. A :class:`Document` is a title and blocks: paragraphs, tables,
charts (plotly figures as plain dicts), preformatted text, lists, and folds (blocks a
layout may collapse under a summary). Every section is built
once as these objects (:mod:`workbench.report.sections` for profiles and stored runs, the
result objects for experiments, comparisons and the workflow); :mod:`~workbench.report.html`,
:mod:`~workbench.report.markdown` and :mod:`~workbench.report.text` only lay them out.

Nothing here imports pandas, IPython or plotly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from workbench.report import format as fmt

Kind = Literal[
    "text",  # words, shown as they are
    "name",  # a category or other label, emphasised in HTML
    "code",  # code or a rule: monospaced
    "seconds",  # a plain decimal of seconds, `digits` places
    "signed",  # a signed decimal of seconds (a change)
    "pct",  # a share in percent, one decimal
    "change",  # a signed relative change in percent
    "count",  # a whole number with thousands separators
    "factor",  # a speedup such as 1.25x
    "bar",  # (percent, colour): an in-table bar, drawn by HTML only
]
RIGHT_ALIGNED = frozenset({"seconds", "signed", "pct", "change", "count", "factor"})
Tone = Literal["plain", "note", "warn"]


def format_value(value: Any, kind: Kind, digits: int = 3) -> str:
    """One cell as text: the same string in every renderer."""
    if value is None or kind == "bar":
        return ""
    if isinstance(value, str):
        return value
    if kind == "seconds":
        return fmt.fixed(value, digits)
    if kind == "signed":
        return f"{value:+.{digits}f}"
    if kind == "pct":
        return fmt.pct(value)
    if kind == "change":
        return fmt.change(value)
    if kind == "count":
        return fmt.count(value)
    if kind == "factor":
        return fmt.factor(value)
    return str(value)


@dataclass(frozen=True)
class Column:
    """A column: its header, the kind of its values, and how a layout treats it.

    `wide` marks a detail column that a narrow layout (plain text) leaves out.
    """

    header: str
    kind: Kind = "text"
    digits: int = 3
    wide: bool = False

    @property
    def right(self) -> bool:
        """Numbers are right-aligned."""
        return self.kind in RIGHT_ALIGNED


@dataclass(frozen=True)
class Table:
    """A header, rows of raw values (one per column), an optional closing row, notes.

    With `grouped`, the first column names a group: layouts show it only on the first
    row of each group.
    """

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    total: tuple[Any, ...] | None = None
    notes: tuple[str, ...] = ()
    intro: str = ""
    grouped: bool = False

    def __post_init__(self) -> None:
        width = len(self.columns)
        for row in (*self.rows, *([self.total] if self.total is not None else [])):
            if len(row) != width:
                raise ValueError(f"table {self.title!r}: a row has {len(row)} cells, not {width}")

    def cells(self, row: Sequence[Any]) -> list[str]:
        """A row as text, column by column."""
        return [format_value(v, c.kind, c.digits) for v, c in zip(row, self.columns, strict=True)]

    def body(self) -> list[tuple[list[str], tuple[Any, ...]]]:
        """Every row as (text cells, raw values); repeated group names are blanked."""
        out = []
        previous: object = object()
        for row in self.rows:
            cells = self.cells(row)
            if self.grouped:
                if row[0] == previous:
                    cells[0] = ""
                previous = row[0]
            out.append((cells, row))
        return out

    @property
    def empty(self) -> bool:
        """True when the table has no rows."""
        return not self.rows


@dataclass(frozen=True)
class Paragraph:
    """A sentence or two; `tone` marks notes and warnings."""

    text: str
    tone: Tone = "plain"


@dataclass(frozen=True)
class Preformatted:
    """Text whose line breaks and spacing matter (a call tree), under a title."""

    title: str
    text: str


@dataclass(frozen=True)
class Chart:
    """A plotly figure as a plain dict (``{"data": [...], "layout": {...}}``)."""

    figure: dict[str, Any]


@dataclass(frozen=True)
class Listing:
    """A numbered list under a title; `collapsed` lets HTML fold it away."""

    title: str
    items: tuple[str, ...]
    collapsed: bool = False
    code: bool = True


@dataclass(frozen=True)
class Fold:
    """Blocks a layout may fold away under a one-line summary (HTML: ``<details>``).

    `once` names an explanation: a notebook session shows it open the first time a fold
    with that name is displayed, folded afterwards (see ``bundle.outputs(shown=...)``).
    Markdown and text always lay the blocks out in full. Charts do not go in folds.
    """

    summary: str
    blocks: tuple[Paragraph | Table | Preformatted | Listing, ...]
    once: str = ""


Block = Paragraph | Table | Preformatted | Chart | Listing | Fold


@dataclass(frozen=True)
class Document:
    """A title and its blocks, in reading order.

    `level` is the heading level of the title in markdown (2: ``##``); sections sit one
    level below. `tone` names a state the HTML title is coloured by (keep, revert, ...).
    """

    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    level: int = 2
    tone: str = ""

    def charts(self) -> list[Chart]:
        """The charts, in order."""
        return [b for b in self.blocks if isinstance(b, Chart)]
