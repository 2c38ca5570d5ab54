"""Markdown layout of a document: GitHub-flavoured tables, stable ordering, no timestamps.

Charts are left out (the HTML and the saved report.html carry them). Every text is shown
as it is (:func:`text`, :func:`code_span`, :func:`fence`): a label, a title, a function
name or a cell's code cannot add headings, links, raw HTML or close a code block.
"""

from __future__ import annotations

import re

from workbench.report.tables import (
    Block,
    Chart,
    Document,
    Fold,
    Listing,
    Paragraph,
    Preformatted,
    Table,
)

# Characters that start inline markdown or raw HTML anywhere in a line; '_' only where it
# could open or close emphasis (not inside a word, as in x86_64).
_INLINE = re.compile(r"([\\`*\[\]<>&~|]|(?<![^\W_])_|_(?![^\W_]))")
# What makes a line's start a block (a heading, a list item, a quote, a rule).
_LINE_START = re.compile(r"^([#+=-])|^(\d{1,9})([.)])(?=\s|$)")
_BACKTICKS = re.compile(r"`+")


def inline(value: str) -> str:
    """Text inside a line (a table cell) that markdown shows as it is: one line, and every
    character that could start emphasis, a link, a code span, raw HTML or an entity (and
    the table's '|') backslash-escaped."""
    return _INLINE.sub(r"\\\1", " ".join(value.split()))


def text(value: str) -> str:
    """A paragraph or a heading's text shown as it is: :func:`inline`, and a start that
    would make a heading, a list item or a rule escaped too, and a heading's closing
    hashes. Labels, titles, function names and error messages come from the user: none of
    them can format the document."""
    line = re.sub(r"#+$", lambda m: "\\" + m[0], inline(value))
    return _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line, 1)


def code_span(value: str) -> str:
    """Inline code that nothing inside can close: a backtick run longer than any in it."""
    line = " ".join(value.splitlines())
    ticks = "`" * (max((len(run) for run in _BACKTICKS.findall(line)), default=0) + 1)
    pad = " " if line.startswith("`") or line.endswith("`") or line.startswith(" ") else ""
    return f"{ticks}{pad}{line}{pad}{ticks}"


def fence(body: str, info: str = "") -> str:
    """A fenced code block that no line of `body` can close: the fence is longer than any
    run of backticks in it (at least three)."""
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{body.rstrip(chr(10))}\n{ticks}"


def _cell(value: str, code: bool = False) -> str:
    if code:
        return code_span(value).replace("|", "\\|")
    return inline(value)  # '|' is escaped there too


def table(t: Table) -> str:
    """A table as GitHub-flavoured markdown: numbers right-aligned, code in backticks."""
    keep = [i for i, c in enumerate(t.columns) if c.kind != "bar"]
    columns = [t.columns[i] for i in keep]
    align = ["---:" if c.right else "---" for c in columns]
    lines = [
        "| " + " | ".join(inline(c.header) for c in columns) + " |",
        "| " + " | ".join(align) + " |",
    ]

    def cells(texts: list[str], bold: bool = False) -> str:
        out = []
        for i, column in zip(keep, columns, strict=True):
            raw = texts[i]
            shown = _cell(raw, code=column.kind == "code") if raw else ""
            if shown and bold and column.kind != "code":
                shown = f"**{shown}**"
            out.append(shown)
        return "| " + " | ".join(out) + " |"

    lines += [cells(texts) for texts, _raw in t.body()]
    if t.total is not None:
        lines.append(cells(t.cells(t.total), bold=True))
    return "\n".join(lines)


def blocks(doc: Document) -> list[str]:
    """The document's blocks as markdown paragraphs, without its title."""
    return _blocks(doc.blocks, "#" * (doc.level + 1))


def _blocks(items: tuple[Block, ...], heading: str) -> list[str]:
    parts: list[str] = []
    for block in items:
        if isinstance(block, Paragraph):
            line = text(block.text)
            parts.append(line if block.tone == "plain" else f"> {line}")
        elif isinstance(block, Table):
            if block.title:
                parts.append(f"{heading} {text(block.title)}")
            if block.intro:
                parts.append(text(block.intro))
            parts.append(table(block))
            parts += [f"_{text(note)}_" for note in block.notes]
        elif isinstance(block, Preformatted):
            if block.title:
                parts.append(f"{heading} {text(block.title)}")
            parts.append(fence(block.text))
        elif isinstance(block, Fold):
            parts.append(f"{heading} {text(block.summary)}")
            parts += _blocks(block.blocks, heading + "#")
        elif isinstance(block, Listing):
            entries = [code_span(i) if block.code else text(i) for i in block.items]
            parts += [
                f"{heading} {text(block.title)}",
                "\n".join(f"{n}. {i}" for n, i in enumerate(entries, 1)),
            ]
        elif isinstance(block, Chart):
            continue
    return parts


def render(doc: Document) -> str:
    """The whole document."""
    title = [f"{'#' * doc.level} {text(doc.title)}"] if doc.title else []
    return "\n\n".join([*title, *blocks(doc)]) + "\n"
