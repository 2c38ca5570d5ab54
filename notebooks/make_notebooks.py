"""Write the notebooks in this folder from their cell lists (run after editing a list).

Keeping the cells here keeps the .ipynb files free of outputs and easy to review.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

QUICKSTART = [
    new_markdown_cell(
        "# workbench quickstart\n\n"
        "Profile the embedded ARC demo (a grid DSL plus a program-search framework) by "
        "category, then go down to functions, lines, native time and the call tree."
    ),
    new_code_cell("%load_ext workbench\nfrom workbench.demo import run_demo"),
    new_markdown_cell(
        "`%%optimize` runs the cell once under cProfile. `-c LABEL=PATTERN` rules give the "
        "framework and the DSL their own categories; everything else gets a built-in one."
    ),
    new_code_cell(
        "%%optimize -o r -c DSL='*/workbench/demo/dsl.py' -c Framework='*/workbench/demo/search.py'\n"
        "result = run_demo(n_tasks=SIZE)\n"
        "result.summary()"
    ),
    new_markdown_cell("The report is an object holding DataFrames: slice them."),
    new_code_cell("r.categories"),
    new_code_cell("r.wins  # whole-run speedup if a category's self time were cut by 25..100%"),
    new_code_cell("r.native  # C time per package beside its Python time"),
    new_markdown_cell(
        "Down to lines: `--lines 3` re-runs the cell with line_profiler on the three user "
        "functions with the most self time; `--tree` adds the call tree."
    ),
    new_code_cell(
        "%%optimize -q -o deep --lines 3 --tree -c DSL='*/workbench/demo/dsl.py'\n"
        "run_demo(n_tasks=SIZE)"
    ),
    new_code_cell("deep.lines.hottest(10)"),
    new_code_cell("from workbench.tree import text_tree\nprint(text_tree(deep.tree))"),
]


def parameters_cell(size: int) -> nbformat.NotebookNode:
    cell = new_code_cell(f"SIZE = {size}  # ARC tasks to search; raise it for a longer run")
    cell.metadata["tags"] = ["parameters"]
    return cell


def write(name: str, cells: list[nbformat.NotebookNode], size: int) -> Path:
    notebook = new_notebook(cells=[cells[0], parameters_cell(size), *cells[1:]])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = HERE / name
    nbformat.write(notebook, path)
    return path


if __name__ == "__main__":
    print(write("quickstart.ipynb", QUICKSTART, size=10))
