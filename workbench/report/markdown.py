"""Markdown layout of a document: GitHub-flavoured tables, stable ordering, no timestamps.

Charts are left out (the HTML and the saved report.html carry them).
"""

from __future__ import annotations

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


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(t: Table) -> str:
    """A table as GitHub-flavoured markdown: numbers right-aligned, code in backticks."""
    keep = [i for i, c in enumerate(t.columns) if c.kind != "bar"]
    columns = [t.columns[i] for i in keep]
    align = ["---:" if c.right else "---" for c in columns]
    lines = [
        "| " + " | ".join(c.header for c in columns) + " |",
        "| " + " | ".join(align) + " |",
    ]

    def cells(texts: list[str], bold: bool = False) -> str:
        out = []
        for i, column in zip(keep, columns, strict=True):
            text = _cell(texts[i])
            if text and column.kind == "code":
                text = f"`{text}`"
            elif text and bold:
                text = f"**{text}**"
            out.append(text)
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
            parts.append(block.text if block.tone == "plain" else f"> {block.text}")
        elif isinstance(block, Table):
            if block.title:
                parts.append(f"{heading} {block.title}")
            if block.intro:
                parts.append(block.intro)
            parts.append(table(block))
            parts += [f"_{note}_" for note in block.notes]
        elif isinstance(block, Preformatted):
            if block.title:
                parts.append(f"{heading} {block.title}")
            parts.append(f"```\n{block.text}\n```")
        elif isinstance(block, Fold):
            parts.append(f"{heading} {block.summary}")
            parts += _blocks(block.blocks, heading + "#")
        elif isinstance(block, Listing):
            entries = [f"`{i}`" if block.code else i for i in block.items]
            parts += [
                f"{heading} {block.title}",
                "\n".join(f"{n}. {i}" for n, i in enumerate(entries, 1)),
            ]
        elif isinstance(block, Chart):
            continue
    return parts


def render(doc: Document) -> str:
    """The whole document."""
    title = [f"{'#' * doc.level} {doc.title}"] if doc.title else []
    return "\n\n".join([*title, *blocks(doc)]) + "\n"
