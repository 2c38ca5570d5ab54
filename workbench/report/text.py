"""Plain-text layout of a document, for terminals and logs: aligned columns, no markup.

Charts are left out; so are the columns a table marks `wide` (details such as the rule
that gave each category), to keep lines readable in a terminal.
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


def table(t: Table) -> str:
    """A table as aligned columns: numbers right-aligned, the rest left."""
    keep = [i for i, c in enumerate(t.columns) if not c.wide and c.kind != "bar"]
    header = [t.columns[i].header for i in keep]
    rows = [[cells[i] for i in keep] for cells, _raw in t.body()]
    if t.total is not None:
        total = t.cells(t.total)
        rows.append([total[i] for i in keep])
    widths = [max(len(r[n]) for r in [header, *rows]) for n in range(len(keep))]
    right = [t.columns[i].right for i in keep]

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in rows]
    return "\n".join(lines).lstrip("\n")


def render(doc: Document) -> str:
    """The whole document."""
    lines = [doc.title] if doc.title else []
    lines += _lines(doc.blocks)
    return "\n".join(lines).lstrip("\n")


def _lines(items: tuple[Block, ...]) -> list[str]:
    lines: list[str] = []
    for block in items:
        if isinstance(block, Paragraph):
            lines.append(block.text if block.tone == "plain" else f"  * {block.text}")
        elif isinstance(block, Table):
            lines += ["", f"{block.title}:"] if block.title else [""]
            if block.intro:
                lines.append(block.intro)
            lines.append(table(block))
            lines += [f"  ({note})" for note in block.notes]
        elif isinstance(block, Preformatted):
            lines += ["", f"{block.title}:" if block.title else "", block.text]
        elif isinstance(block, Fold):
            lines += ["", f"{block.summary}:", *_lines(block.blocks)]
        elif isinstance(block, Listing):
            lines += ["", f"{block.title}:"]
            lines += [f"  {n}. {item}" for n, item in enumerate(block.items, 1)]
        elif isinstance(block, Chart):
            continue
    return lines
