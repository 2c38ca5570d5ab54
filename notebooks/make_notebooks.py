"""Write the notebooks in this folder from their cell lists (run after editing a list).

Keeping the cells here keeps the .ipynb files free of outputs and easy to review.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from workbench.ui.tuner.words import STATES

HERE = Path(__file__).parent


def _tagged(cell: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    """A cell with a tag the tests find it by (definitions, after-restart)."""
    cell.metadata["tags"] = [tag]
    return cell


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
    new_code_cell(
        "r.categories[['category', 'corrected_pct', 'pct', 'self_s', 'inclusive_s', 'calls', 'functions']]"
        "  # every category, the small ones too"
    ),
    new_code_cell("r.wins  # whole-run speedup if a category's self time were cut by 25..100%"),
    new_code_cell("r.native  # C time per package beside its Python time"),
    new_markdown_cell(
        "Down to lines: `--lines 3` re-runs the cell with line_profiler on the three user "
        "functions with the most self time; `--tree` adds the call tree. The output leads "
        "with the hot lines and the tree; the category table is compact beneath them."
    ),
    new_code_cell(
        "%%optimize -o deep --lines 3 --tree -c DSL='*/workbench/demo/dsl.py'\n"
        "run_demo(n_tasks=SIZE)"
    ),
    new_code_cell(
        "deep.lines.hottest(10)[['function', 'line', 'hits', 'time_s', 'pct_of_function']]"
    ),
    new_code_cell("from workbench.profiling.tree import text_tree\nprint(text_tree(deep.tree))"),
]


DEFINITIONS = """\
import numpy as np
import workbench
from collections import Counter


@workbench.experts(size=lambda x: x.size)
def scale_rows(x):  # the first implementation is the reference: plain Python
    out = []
    for row in x.tolist():
        mean = sum(row) / len(row)
        std = (sum((v - mean) ** 2 for v in row) / len(row)) ** 0.5 or 1.0
        out.append([(v - mean) / std for v in row])
    return np.array(out)


@scale_rows.expert("numpy")
def _(x):
    mean = x.mean(axis=1, keepdims=True)
    std = x.std(axis=1, keepdims=True)
    return (x - mean) / np.where(std == 0, 1.0, std)


@workbench.experts(size=lambda grids: len(grids) * len(grids[0]) * len(grids[0][0]))
def color_counts(grids):  # how many cells of each colour, over a batch of DSL grids
    counts = Counter()
    for grid in grids:
        for row in grid:
            counts.update(row)
    return tuple(counts.get(c, 0) for c in range(10))


@color_counts.expert("numpy")
def _(grids):
    flat = np.asarray(grids, dtype=np.int64).ravel()
    return tuple(np.bincount(flat, minlength=10)[:10].tolist())"""

TUNING = [
    new_markdown_cell(
        "# Experts for your own functions, and the thresholds tuned\n\n"
        "Give a hot function other implementations (*experts*) and the workbench runs, at "
        "each size, the one measured fastest on this machine: it learns on your real calls, "
        "checks every expert's result against your original, and saves what it learned in "
        "the machine profile, so the next kernel reuses it. Then tune the thresholds by hand "
        "in the tuner, for your functions, a function of the demo with pure-Python, NumPy and "
        "CuPy experts, and the router's op families."
    ),
    new_markdown_cell(
        "## 1. Two functions of yours, with experts\n\n"
        "`@workbench.experts` makes the function the reference; `@f.expert('numpy')` adds an "
        "implementation (its kind, from the name, says where its arrays must live)."
    ),
    _tagged(new_code_cell(DEFINITIONS), "definitions"),
    new_markdown_cell(
        "Your loop, over inputs of varying size. The first calls in each size bucket time "
        "the experts; after that each call runs the fastest directly."
    ),
    _tagged(
        new_code_cell(
            "from workbench.demo.experts import sample_batch\n\n"
            "sizes = [256, 1024, 4096, 16384, 65536]\n"
            "rng = np.random.default_rng(0)\n"
            "rows = {n: rng.standard_normal((n // 8, 8)) for n in sizes}\n"
            "batches = {n: sample_batch(n // 25, 5) for n in sizes}  # 5 x 5 grids\n"
            "for _ in range(20):\n"
            "    for n in sizes:\n"
            "        scale_rows(rows[n])\n"
            "        color_counts(batches[n])"
        ),
        "definitions",
    ),
    new_markdown_cell(
        "The routed loop against the best expert picked by hand for each size (medians of "
        "interleaved repeats, in process CPU time: the gate adds the size function and a "
        "dict lookup per call)."
    ),
    new_code_cell(
        "import statistics, time, timeit\n"
        "import pandas as pd\n\n"
        "def per_call(fns, args, rounds=9):\n"
        "    # CPU time of this process, interleaved rounds: other jobs on the machine stay out\n"
        "    clock = lambda fn: timeit.Timer(lambda: fn(*args), timer=time.process_time)\n"
        "    number = max(1, int(5e-3 / max(1e-7, clock(fns[0]).timeit(number=1))))\n"
        "    times = [[] for _ in fns]\n"
        "    for _ in range(rounds):\n"
        "        for i, fn in enumerate(fns):\n"
        "            times[i].append(clock(fn).timeit(number=number) / number)\n"
        "    return [statistics.median(t) for t in times]\n\n"
        "table = []\n"
        "for f, inputs in ((scale_rows, rows), (color_counts, batches)):\n"
        "    for n, x in inputs.items():\n"
        "        names = list(f.experts)\n"
        "        experts = list(f.experts.values())\n"
        "        routed, *by_hand = per_call([f, *experts, *experts], (x,))  # each expert twice\n"
        "        first, again = by_hand[: len(names)], by_hand[len(names) :]\n"
        "        best = min(range(len(names)), key=lambda i: first[i])\n"
        "        table.append((f.__name__, n, f.explain(x).chosen, names[best],\n"
        "                      routed / first[best], again[best] / first[best]))\n"
        "pd.DataFrame(table, columns=['function', 'size', 'routed to', 'best by hand', 'routed / best',\n"
        "                             'best timed again / best (the noise)'])"
    ),
    new_markdown_cell(
        "Why: the choice per size bucket, with the measured times, and the thresholds."
    ),
    new_code_cell("print(scale_rows.explain(rows[4096]))"),
    new_code_cell(
        "color_counts.table()[['bucket', 'expert', 'calls', 'samples', 'median_s', 'status']]"
    ),
    new_code_cell("print(scale_rows.thresholds)\nprint(color_counts.thresholds)"),
    new_markdown_cell(
        "## 2. A function of the demo, swept up front\n\n"
        "`workbench.demo.experts.outline_all` outlines a batch of DSL grids: the DSL's own "
        "code, the same on stacked NumPy arrays, and on a GPU with CuPy. "
        "`workbench.calibrate(f, inputs=..., sizes=...)` times every expert at each size "
        "(SIZE seconds), with a progress bar; without a GPU the CuPy expert says why it "
        "cannot run."
    ),
    new_code_cell(
        "from workbench import gpu, progress\n"
        "from workbench.demo.experts import outline_all\n\n"
        "status = gpu.probe()\n"
        "print('GPU:', status.reason if status.available else f'skipped ({status.reason}): CPU curves only')\n"
        "def outline_inputs(n):\n"
        "    side = max(2, min(10, round(n ** 0.5)))\n"
        "    return (sample_batch(max(1, n // (side * side)), side), 5)\n"
        "sweep = workbench.calibrate(outline_all, inputs=outline_inputs, "
        "sizes=[4, 16, 36, 100, 400, 1600, 6400, 25600], budget_s=SIZE,\n"
        "                           progress=progress.steps('sweeping outline_all'))\n"
        "print(sweep.summary())\n"
        "print(outline_all.thresholds)"
    ),
    new_markdown_cell(
        "And the router's op families (pure Python, NumPy, CuPy kernels), scored against "
        "idiomatic code timed apart: the regret table (the time the thresholds pick over the "
        "fastest measured, geometric mean over sizes: 1.000 is always the fastest)."
    ),
    new_code_cell(
        "from workbench.calibration import calibrate, fit, log_sizes\n"
        "from workbench.ui.tuner.view import device_label\n"
        "cal = calibrate(['add', 'sum', 'vdot', 'matmul', 'standard_scale'], budget_s=SIZE, "
        "sizes=log_sizes(10, 1e6), progress=progress.steps('calibrating'))\n"
        "print(cal.summary())\n"
        "result = fit(cal)\n"
        "regret = result.regret_table().assign(runs_on=lambda t: t['device'].map(device_label))\n"
        "regret.pivot_table(index=['op', 'residency', 'runs_on'], columns='table', "
        "values='geo_mean').round(3)"
    ),
    new_markdown_cell(
        "The summaries count the points of each sweep by state; only `ok` points were timed. "
        "The others, and why:\n\n"
        + "\n".join(f"- **{state}**: {words}" for state, words in STATES.items() if state != "ok")
    ),
    new_markdown_cell(
        "## 3. The tuner\n\n"
        "- **tune** picks a gated function or an op family, **inputs in** where its data "
        "lives, **runs on** the CPU only or a GPU (by its index and name).\n"
        "- The chart: seconds per call of each expert (pure Python, NumPy, CuPy) against "
        "size, the fastest measured as a dotted line, the pick of the current thresholds as "
        "circles; the shading says which backend each size gets.\n"
        "- Move **pure Python up to** or **CuPy above** and the shading and the regret follow "
        "at once; set one to *never* or *at every size* and its slider is off until you "
        "set it back to a size (it returns to the size it had).\n"
        "- **Run benchmark** measures again within the budget (the function is swept again); "
        "**Save profile** writes the machine profile your functions read and says where."
    ),
    new_code_cell(
        "from workbench.route.learned import default_profile_path\n"
        "from workbench.ui.tuner import Tuner\n\n"
        "tuner = Tuner(result, outline_all, scale_rows, color_counts, path=str(default_profile_path()))\n"
        "tuner.op.value = outline_all.qualname  # start on the demo's function\n"
        "tuner"
    ),
    new_code_cell(
        "path = tuner.save()  # what the Save button does\n"
        "print('saved to', path)\n"
        "from workbench import Router\n"
        "router = Router(path)\n"
        "print(router.explain('sum', np.random.rand(200)))"
    ),
    new_markdown_cell(
        "## 4. After a kernel restart\n\n"
        "Restart the kernel, run the two definition cells of section 1 again, then this "
        "cell: the choices come from the saved profile (the functions' source and this "
        "machine are what they were), so nothing is learned again."
    ),
    _tagged(
        new_code_cell(
            "x = np.random.default_rng(1).standard_normal((512, 8))\n"
            "print(scale_rows.explain(x))\n"
            "scale_rows.table()[['bucket', 'expert', 'calls', 'status']]"
        ),
        "after-restart",
    ),
]


INSTALL = """\
# Install workbench: from wheels in an attached dataset (found wherever it is mounted),
# with the package index for missing dependencies when the internet is on.
import importlib.util, socket, subprocess, sys
from pathlib import Path

def online(host="pypi.org"):
    try:
        socket.create_connection((host, 443), timeout=3).close()
        return True
    except OSError:
        return False

if importlib.util.find_spec("workbench") is not None:
    print("workbench is already installed")
else:
    wheels = sorted(Path("/kaggle/input").rglob("*.whl")) if Path("/kaggle/input").is_dir() else []
    if not any(w.name.startswith("workbench-") for w in wheels):
        raise SystemExit("no workbench wheel under /kaggle/input: attach the dataset built by `make wheels`")
    net = online()
    command = [sys.executable, "-m", "pip", "install", "--quiet", *([] if net else ["--no-index"])]
    for folder in sorted({str(w.parent) for w in wheels}):
        command += ["--find-links", folder]
    # the wheel file itself, not the name: "workbench" on PyPI is another project
    ours = max(w for w in wheels if w.name.startswith("workbench-"))
    print("installing", ours.name, "from", len(wheels), "wheels,", "internet on" if net else "internet off")
    subprocess.check_call([*command, str(ours)])"""

EXPERIMENT = [
    new_markdown_cell(
        "# Measure, change, measure again\n\n"
        "Record a baseline, try one change, and let the workbench measure the candidate "
        "against the baseline: interleaved runs, a speedup with its confidence interval, a "
        "check that the outputs are equal, and a verdict (keep, revert or broken). Then "
        "write the postmortem from what was measured."
    ),
    new_code_cell(
        "%load_ext workbench\n"
        "import workbench\n"
        "from workbench.demo import run_demo\n"
        "RULES = \"-c DSL='*/workbench/demo/dsl.py' -c Framework='*/workbench/demo/search.py'\""
    ),
    new_markdown_cell("The baseline: profiled, and its code, profile and result stored as `v1`."),
    new_code_cell(
        "%%optimize -o base --baseline v1 -c DSL='*/workbench/demo/dsl.py' -c Framework='*/workbench/demo/search.py'\n"
        "result = run_demo(n_tasks=SIZE)\n"
        "result"
    ),
    new_markdown_cell(
        "The change: cache the DSL's connected components (`dsl.objects`) per grid. The "
        "candidate cell is profiled, then the baseline's stored code and this cell are re-run "
        "in turn until the verdict is clear or the budget is spent."
    ),
    new_code_cell(
        "%%optimize -o exp --candidate memo --budget 15 -c DSL='*/workbench/demo/dsl.py' -c Framework='*/workbench/demo/search.py'\n"
        "from workbench.demo.variants import memoized\n"
        "with memoized('objects'):\n"
        "    result = run_demo(n_tasks=SIZE)\n"
        "result"
    ),
    new_code_cell("print(repr(exp))\nexp.verdict"),
    new_code_cell("%optimize --compare v1 memo"),
    new_code_cell(
        "workbench.experiments()[['name', 'baseline', 'verdict', 'speedup', 'ci_low', 'ci_high', 'correctness']]"
    ),
    new_markdown_cell(
        "The postmortem of this notebook's runs, written from the run store and shown here "
        "(the parts only you know are marked to be written). A reverted change does not "
        "stop it: its status line says so."
    ),
    new_code_cell("%optimize --postmortem postmortem.md --target 10"),
]

KAGGLE = [
    new_markdown_cell(
        "# workbench on Kaggle: the whole loop in one run\n\n"
        "Profile the ARC demo by category, calibrate the backend router on this machine's "
        "CPU and every GPU (Kaggle's T4 x2 included), route with the fitted thresholds, "
        "measure one change against the baseline, and write the postmortem. Everything is "
        "written to the working folder (/kaggle/working on Kaggle). It runs top to bottom "
        'with "Save & Run All"; raise SIZE for a longer run.'
    ),
    new_code_cell(INSTALL),
    new_code_cell(
        "import workbench\n"
        "from workbench import kaggle as wk\n"
        "out = wk.working_dir()\n"
        "print('on Kaggle' if wk.on_kaggle() else 'not on Kaggle', '- artefacts go to', out)\n"
        "print(wk.gpu_summary())"
    ),
    new_markdown_cell(
        "## 1. Profile: where the time goes, by category\n\nThe chart is plotly's own output "
        "type (drawn by JupyterLab, Notebook 7 and VS Code) with a static SVG image as its "
        "fallback, which draws where plotly's renderer is missing: each output stays small. "
        "`--chart inline` would embed plotly.js (4.7 MB) instead."
    ),
    new_code_cell("%load_ext workbench\nfrom workbench.demo import run_demo"),
    new_code_cell(
        "%%optimize -o r --baseline kaggle-v1 -c DSL='*/workbench/demo/dsl.py' -c Framework='*/workbench/demo/search.py'\n"
        "result = run_demo(n_tasks=SIZE)\n"
        "result"
    ),
    new_code_cell("saved = r.save(out / 'report')\nsorted(p.name for p in saved.values())"),
    new_markdown_cell(
        "## 2. Calibrate the router here\n\nEvery op family on pure Python, NumPy and, on "
        "each GPU, CuPy. Without a GPU the CuPy curves are skipped and the output says so."
    ),
    new_code_cell(
        "from workbench import progress\n"
        "from workbench.calibration import calibrate, fit, log_sizes\n"
        "from workbench.calibration.text import bandwidth_text, thresholds_text\n"
        "cal = calibrate(['add', 'sum', 'vdot', 'matmul', 'standard_scale'], "
        "budget_s=6 * SIZE, sizes=log_sizes(10, 1e7), progress=progress.steps('calibrating'))\n"
        "print(cal.summary())\n"
        "fitted = fit(cal)\n"
        "print(thresholds_text(fitted))\n"
        "print(bandwidth_text(fitted) or 'host<->device copies: skipped (no GPU)')\n"
        "profile_path = fitted.profile(name='kaggle').save(out / 'machine-profile.json')\n"
        "fitted.regret_table().to_csv(out / 'regret.csv', index=False)"
    ),
    new_markdown_cell("## 3. Route with the fitted thresholds, on each GPU"),
    new_code_cell(
        "import numpy as np\n"
        "from workbench import Router, gpu\n"
        "status = gpu.probe()\n"
        "devices = range(len(status.devices)) if status.available else [None]\n"
        "a = np.random.default_rng(0).random((1500, 1500))\n"
        "for device in devices:\n"
        "    router = Router(profile_path, device=device)\n"
        "    c = router.run('matmul', a, a)\n"
        "    where = 'CPU only' if device is None else f'GPU {device}'\n"
        "    print(where, '->', router.explain('matmul', a, a).reason)\n"
        "router.counts()"
    ),
    new_markdown_cell(
        "## 3b. Tune a demo function per GPU\n\n"
        "`outline_all` has pure-Python, NumPy and CuPy experts. On each GPU, "
        "`workbench.calibrate` sweeps it; its thresholds per GPU are printed and the tuner "
        "shows every GPU's curves. Without a GPU this step is skipped and says why."
    ),
    new_code_cell(
        "from workbench.demo.experts import outline_all, sample_batch\n"
        "from workbench.route.learned import default_profile_path\n"
        "from workbench.ui.tuner import Tuner\n"
        "def outline_inputs(n):\n"
        "    side = max(2, min(30, round(n ** 0.5)))\n"
        "    return (sample_batch(max(1, n // (side * side)), side), 5)\n"
        "if status.available:\n"
        "    gpus = list(range(len(status.devices)))\n"
        "    sweep = workbench.calibrate(outline_all, inputs=outline_inputs, "
        "sizes=[16, 100, 900, 9000, 90000, 900000], budget_s=3 * SIZE, devices=gpus)\n"
        "    print(sweep.summary())\n"
        "    for device in gpus:\n"
        "        outline_all.use_device(device)\n"
        "        print(f'GPU {device}:', outline_all.thresholds)\n"
        "    outline_all.save(out / 'machine-profile.json')\n"
        "    display(Tuner(outline_all, path=str(out / 'machine-profile.json')))\n"
        "else:\n"
        "    print(f'tuning outline_all per GPU: skipped (no GPU: {status.reason})')"
    ),
    new_markdown_cell("## 4. One change, measured against the baseline"),
    new_code_cell(
        "%%optimize -o exp --candidate kaggle-memo --budget 20 -c DSL='*/workbench/demo/dsl.py' -c Framework='*/workbench/demo/search.py'\n"
        "from workbench.demo.variants import memoized\n"
        "with memoized('objects'):\n"
        "    result = run_demo(n_tasks=SIZE)\n"
        "result"
    ),
    new_code_cell("print(repr(exp))"),
    new_markdown_cell("## 5. The postmortem and the artefacts"),
    new_code_cell(
        "workbench.postmortem(out / 'postmortem.md', target_pct=10)\n"
        "workbench.experiments().to_csv(out / 'experiments.csv', index=False)\n"
        "for path in sorted(out.rglob('*')):\n"
        "    if path.is_file() and '.workbench' not in path.parts:\n"
        "        print(path.relative_to(out), path.stat().st_size, 'bytes')"
    ),
]


SHAPES = """\
%%writefile shapes.py
\"\"\"Grid helpers: a grid is a tuple of rows of ints.\"\"\"


def rotate(grid):
    return tuple(zip(*grid[::-1]))


def flip(grid):
    return tuple(row[::-1] for row in grid)


def recolor(grid, old, new):
    return tuple(tuple(new if cell == old else cell for cell in row) for row in grid)


def neighbours(grid, r, c):
    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        if 0 <= r + dr < len(grid) and 0 <= c + dc < len(grid[0]):
            yield r + dr, c + dc


def components(grid):
    seen, found = set(), []
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if cell and (r, c) not in seen:
                stack, part = [(r, c)], []
                seen.add((r, c))
                while stack:
                    here = stack.pop()
                    part.append(here)
                    for there in neighbours(grid, *here):
                        if there not in seen and grid[there[0]][there[1]] == cell:
                            seen.add(there)
                            stack.append(there)
                found.append(part)
    return found"""

SEARCH = """\
%%writefile search.py
\"\"\"A brute-force search over short programs of grid transformations.\"\"\"
import itertools
import random

import shapes

STEPS = {
    "rotate": shapes.rotate,
    "flip": shapes.flip,
    "recolor12": lambda g: shapes.recolor(g, 1, 2),
    "recolor21": lambda g: shapes.recolor(g, 2, 1),
}


def random_grid(rng, size=12):
    return tuple(tuple(rng.choice((0, 0, 1, 2)) for _ in range(size)) for _ in range(size))


def score(grid, target):
    same = sum(a == b for ra, rb in zip(grid, target) for a, b in zip(ra, rb))
    return same - abs(len(shapes.components(grid)) - len(shapes.components(target)))


def solve(grid, target, depth=3):
    best = (-1, ())
    for n in range(1, depth + 1):
        for program in itertools.product(STEPS, repeat=n):
            out = grid
            for step in program:
                out = STEPS[step](out)
            best = max(best, (score(out, target), program))
    return best


def solve_all(tasks, seed=0):
    rng = random.Random(seed)
    solved = 0
    for _ in range(tasks):
        grid = random_grid(rng)
        target = shapes.rotate(shapes.flip(grid))
        found, _program = solve(grid, target)
        solved += found == len(grid) ** 2
    return solved"""

OWN_CODE = [
    new_markdown_cell(
        "# Your own code, by module, without rules\n\n"
        "Two small modules of your own (written here with `%%writefile`: grid helpers and a "
        "search over programs). Without any rule, `%%optimize` gives each of your modules its "
        "own category (`user:shapes`, `user:search`, and `user:<cell>` for code typed in "
        "cells); installed packages get theirs (`library:<package>`)."
    ),
    new_code_cell(SHAPES),
    new_code_cell(SEARCH),
    new_code_cell("%load_ext workbench\nimport search"),
    new_code_cell("%%optimize -o r\nsolved = search.solve_all(SIZE)\nsolved"),
    new_code_cell("r.categories[['category', 'self_s', 'pct', 'calls', 'functions']]"),
    new_markdown_cell(
        "A rule that matches nothing is named in the report, with what it might have meant: "
        "a path pattern is matched against the whole file path."
    ),
    new_code_cell("%%optimize -q -o typo -c Shapes=shape.py\nsearch.solve_all(SIZE)"),
    new_code_cell("print(*[note for note in typo.notes() if note.startswith('Rule')], sep='\\n')"),
]


def parameters_cell(
    size: int, text: str = "ARC tasks to search; raise it for a longer run"
) -> nbformat.NotebookNode:
    cell = new_code_cell(f"SIZE = {size}  # {text}")
    cell.metadata["tags"] = ["parameters"]
    return cell


def write(
    name: str, cells: list[nbformat.NotebookNode], size: int, text: str | None = None
) -> Path:
    params = parameters_cell(size) if text is None else parameters_cell(size, text)
    notebook = new_notebook(cells=[cells[0], params, *cells[1:]])
    stem = name.removesuffix(".ipynb")
    for index, cell in enumerate(notebook.cells):  # stable ids: a rewrite changes only what changed
        cell.id = f"{stem}-{index:02d}"
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
    print(write("experiment.ipynb", EXPERIMENT, size=4))
    print(write("kaggle.ipynb", KAGGLE, size=6))
    print(
        write("own_code.ipynb", OWN_CODE, size=20, text="search tasks; raise it for a longer run")
    )
