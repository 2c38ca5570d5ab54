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


TUNING = [
    new_markdown_cell(
        "# Tune the backend router's thresholds\n\n"
        "Measure each op on pure Python, NumPy and (with a GPU) CuPy on this machine, fit "
        "the thresholds, then move them by hand in the tuner and watch what each choice "
        "costs against the fastest backend at every size. Save the profile for the router."
    ),
    new_code_cell(
        "from workbench import gpu\n"
        "from workbench.calibrate import calibrate, fit, log_sizes\n"
        "from workbench.ui.tuner import Tuner\n\n"
        "status = gpu.probe()\n"
        "print('GPU:', status.reason if status.available else f'skipped ({status.reason}): CPU curves only')"
    ),
    new_markdown_cell(
        "A short sweep (SIZE seconds) over sizes 10 to 1e6. `workbench calibrate` on the "
        "command line does the full one (10 to 1e8, 30 s; 60 s with a GPU)."
    ),
    new_code_cell(
        "cal = calibrate(['add', 'sum', 'vdot', 'matmul', 'standard_scale'], budget_s=SIZE, "
        "sizes=log_sizes(10, 1e6))\n"
        "print(cal.summary())\n"
        "result = fit(cal)\n"
        "result.regret_table().pivot_table(index=['op', 'residency', 'device'], columns='table', "
        "values='geo_mean').round(3)"
    ),
    new_markdown_cell(
        "The tuner: pick an op and where its inputs live; move **pure Python up to** or "
        "**CuPy above** and the shaded regions and the regret follow at once."
    ),
    new_code_cell("tuner = Tuner(result, path='hardware-profile.json')\ntuner"),
    new_code_cell(
        "path = tuner.save()  # what the Save button does\n"
        "from workbench import Router\n"
        "import numpy as np\n"
        "router = Router(path)\n"
        "x = np.random.rand(200)\n"
        "print(router.explain('sum', x))"
    ),
]


def parameters_cell(size: int, text: str = "ARC tasks to search; raise it for a longer run") -> nbformat.NotebookNode:
    cell = new_code_cell(f"SIZE = {size}  # {text}")
    cell.metadata["tags"] = ["parameters"]
    return cell


def write(
    name: str, cells: list[nbformat.NotebookNode], size: int, text: str | None = None
) -> Path:
    params = parameters_cell(size) if text is None else parameters_cell(size, text)
    notebook = new_notebook(cells=[cells[0], params, *cells[1:]])
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
    print(write("tuning.ipynb", TUNING, size=8, text="seconds of calibration"))
