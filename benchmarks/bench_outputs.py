"""Output sizes of every notebook, executed by a real kernel (nbclient), per output and in all.

Target (issue [notebook-ux]): each output at most 150 KB with the default options. Prints
the figures; asserts nothing (tests/test_notebooks.py asserts the limit).

    python benchmarks/bench_outputs.py [--keep DIR] [NAME.ipynb ...]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
LIMIT = 150 * 1024


def execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        extra_arguments=["--InteractiveShell.display_page=True"],
    ).execute()
    return notebook


def output_sizes(notebook: nbformat.NotebookNode) -> list[tuple[int, str, int]]:
    """(cell index, what the output is, bytes of its JSON) for every output."""
    out = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            kinds = ",".join(sorted(output.get("data", {}))) or output["output_type"]
            out.append((index, kinds, len(json.dumps(output))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    parser.add_argument("--keep", type=Path, help="write the executed notebooks here")
    args = parser.parse_args()
    paths = [NOTEBOOKS / n for n in args.names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        with tempfile.TemporaryDirectory() as tmp:
            notebook = execute(path, Path(tmp))
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, args.keep / path.name)
        sizes = output_sizes(notebook)
        total = sum(s for _i, _k, s in sizes)
        biggest = max(sizes, key=lambda s: s[2], default=(0, "", 0))
        print(
            f"{path.name}: {len(sizes)} outputs, {total / 1024:,.1f} KB in all; the biggest "
            f"{biggest[2] / 1024:,.1f} KB (cell {biggest[0]}, {biggest[1]}); "
            f"limit per output {LIMIT // 1024} KB"
        )
        for index, kinds, size in sizes:
            if size > 10 * 1024:
                print(f"    cell {index:2d}  {size / 1024:8.1f} KB  {kinds}")


if __name__ == "__main__":
    main()
