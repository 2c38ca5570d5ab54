"""Every notebook runs top to bottom in a real kernel (nbclient); outputs are asserted on."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


Executed = Callable[[str], tuple[nbformat.NotebookNode, Path]]


PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"
MAX_OUTPUT_BYTES = 150 * 1024  # issue [notebook-ux]: every output at most 150 KB by default


def outputs(notebook: nbformat.NotebookNode) -> list[dict[str, object]]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


def charts(every: list[dict[str, object]]) -> list[dict[str, object]]:
    """The plotly figures the notebook displayed as plotly's own mimetype."""
    return [o["data"][PLOTLY] for o in every if PLOTLY in o.get("data", {})]  # type: ignore[index,operator,attr-defined]


def assert_small_outputs_with_static_fallbacks(notebook: nbformat.NotebookNode) -> None:
    """Every output is at most 150 KB, and every chart carries its static SVG image (an
    <img>, no script) for frontends that cannot draw plotly's mimetype."""
    for index, cell in enumerate(notebook.cells):
        for out in cell.get("outputs", []):
            size = len(json.dumps(out))
            assert size <= MAX_OUTPUT_BYTES, f"cell {index}: an output of {size:,} bytes"
            data = out.get("data", {})
            if PLOTLY in data:
                assert (
                    "<img" in data["text/html"]
                    and "data:image/svg+xml;base64," in data["text/html"]
                )
                assert "<script" not in data["text/html"]


def progress_bars(cell: nbformat.NotebookNode) -> int:
    """How many widgets (tqdm.auto's bars, in a kernel) the cell displayed."""
    return sum(WIDGET in out.get("data", {}) for out in cell.get("outputs", []))


def cell_with(notebook: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if c.cell_type == "code" and text in c.source)


def test_quickstart_shows_categories_chart_lines_and_tree(executed_notebooks: Executed) -> None:
    notebook, _ = executed_notebooks("quickstart.ipynb")
    every = outputs(notebook)
    assert not [o for o in every if o["output_type"] == "error"]
    html = [o["data"]["text/html"] for o in every if "text/html" in o.get("data", {})]
    report_html = [h for h in html if "Where the time goes" in h]
    assert report_html and "<table " in report_html[0]
    assert "<style" not in "".join(report_html)  # inline styles: they survive untrusted notebooks
    kinds = [chart["data"][0]["type"] for chart in charts(every)]  # type: ignore[index]
    assert kinds == ["bar", "icicle"]  # the profile, then the deeper pass's call tree
    assert any("self_s" in h and "DSL" in h and "Framework" in h for h in html)  # r.categories
    assert any("pct_of_function" in h for h in html)  # deep.lines.hottest()
    streams = "".join(str(o.get("text", "")) for o in every if o["output_type"] == "stream")
    assert "Total:" in streams  # the text tree
    # The deeper pass leads with its hot lines; the explanations are folded the second time.
    deep = [
        o["data"]
        for o in cell_with(notebook, "--lines 3").outputs
        if "wb-report" in o.get("data", {}).get("text/html", "")
    ]
    lead = deep[0]["text/plain"]
    assert "Hottest lines" in lead and "By category" not in lead  # the tree chart comes next
    assert "By category" in deep[1]["text/plain"]
    first = cell_with(notebook, "result = run_demo(n_tasks=SIZE)")
    first_html = "".join(o.get("data", {}).get("text/html", "") for o in first.outputs)
    assert "data-once='profile' open" in first_html
    deep_html = "".join(d.get("text/html", "") for d in deep)
    assert "data-once='profile'" in deep_html and "data-once='profile' open" not in deep_html
    assert progress_bars(cell_with(notebook, "--lines 3")) == 1  # the line pass's bar
    assert first.outputs[-1]["output_type"] == "execute_result"  # the cell's value is its Out
    assert_small_outputs_with_static_fallbacks(notebook)


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebooks_are_committed_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def execute_with_restart(name: str, workdir: Path) -> tuple[nbformat.NotebookNode, list[Any]]:
    """Run the notebook top to bottom, then restart its kernel (a new process), run the
    cells tagged 'definitions' again and the 'after-restart' cells: their outputs."""
    from nbclient.util import run_sync

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        extra_arguments=["--InteractiveShell.display_page=True"],
    )
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        pid_before = _kernel_pid(client)
        run_sync(client.km.restart_kernel)(now=False)
        run_sync(client.kc.wait_for_ready)(timeout=120)
        assert _kernel_pid(client) != pid_before  # a real restart: a new process
        again = []
        for index, cell in enumerate(notebook.cells):
            tags = cell.metadata.get("tags", [])
            if "definitions" in tags or "after-restart" in tags:
                copy = nbformat.from_dict(dict(cell))
                client.execute_cell(copy, index)
                if "after-restart" in tags:
                    again.extend(copy.outputs)
    return notebook, again


def _kernel_pid(client: NotebookClient) -> int:
    cell = nbformat.v4.new_code_cell("import os; print(os.getpid())")
    client.execute_cell(cell, 0)
    return int(cell.outputs[0]["text"])


def test_tuning_notebook_learns_tunes_saves_and_a_restarted_kernel_reuses_it(
    tmp_path: Path,
) -> None:
    notebook, after = execute_with_restart("tuning.ipynb", tmp_path)
    every = outputs(notebook)
    assert not [o for o in every if o["output_type"] == "error"]
    streams = "".join(str(o.get("text", "")) for o in every if o["output_type"] == "stream")
    assert "GPU:" in streams and "points in" in streams
    assert "calibrated thresholds for sum" in streams  # the router used the saved profile
    assert "__main__.scale_rows: size 4,096" in streams and "chosen:" in streams  # explain()
    assert "inputs on the host:" in streams  # thresholds
    html = [o["data"]["text/html"] for o in every if "text/html" in o.get("data", {})]
    assert any("fitted" in h and "seed" in h for h in html)  # the regret table
    assert any("routed / best" in h and "best by hand" in h for h in html)  # routed vs by hand
    views = [o for o in every if WIDGET in o.get("data", {})]
    assert views  # the tuner widget
    assert progress_bars(cell_with(notebook, "progress.steps('calibrating')")) == 1
    assert progress_bars(cell_with(notebook, "progress.steps('sweeping outline_all')")) == 1
    # the regret table names where each group runs in words, not by device number
    (table,) = [h for h in html if "fitted" in h and "seed" in h]
    assert "CPU only" in table and "-1" not in table
    profile = tmp_path / ".workbench" / "machine-profile.json"
    assert profile.is_file()
    saved = json.loads(profile.read_text())
    assert {
        "__main__.scale_rows",
        "__main__.color_counts",
        "workbench.demo.experts.outline_all",
    } <= set(saved["functions"])
    # after the restart: the choices come from the saved profile, nothing learned again
    assert not [o for o in after if o["output_type"] == "error"]
    text = "".join(str(o.get("text", "")) for o in after if o["output_type"] == "stream")
    assert "restored from the saved profile" in text and "bucket choice(s) restored from" in text


def assert_postmortem_matches_store(folder: Path, postmortem: Path) -> None:
    """Each stored experiment's verdict, speedup and interval are in the postmortem."""
    from workbench.store.db import RunStore

    text = postmortem.read_text()
    with RunStore(folder / ".workbench" / "runs.sqlite") as store:
        rows = store.experiments()
    assert len(rows) >= 1
    for row in rows:
        assert row.speedup is not None and row.ci_low is not None and row.ci_high is not None
        assert f"'{row.name}' vs baseline '{row.baseline}'" in text
        assert f"{row.verdict.upper()}, {row.speedup:.3f}x" in text
        assert f"99% CI {row.ci_low:.3f}x to {row.ci_high:.3f}x" in text


def test_experiment_notebook_gives_a_verdict_and_a_postmortem(executed_notebooks: Executed) -> None:
    notebook, folder = executed_notebooks("experiment.ipynb")
    every = outputs(notebook)
    assert not [o for o in every if o["output_type"] == "error"]
    html = [o["data"]["text/html"] for o in every if "text/html" in o.get("data", {})]
    assert any("Where the time goes" in h and "<table " in h for h in html)
    assert charts(every)
    streams = "".join(str(o.get("text", "")) for o in every if o["output_type"] == "stream")
    assert re.search(r"candidate 'memo' vs baseline 'v1'", streams)
    assert progress_bars(cell_with(notebook, "--candidate memo")) == 1  # the rounds' bar
    assert_postmortem_matches_store(folder, folder / "postmortem.md")
    # The postmortem is shown in the cell; after a reverted change its status says so.
    (shown,) = [o["data"]["text/markdown"] for o in cell_with(notebook, "--postmortem").outputs]
    assert shown.startswith("_Postmortem written to postmortem.md")
    status = next(line for line in shown.splitlines() if line.startswith("**Status**"))
    text = (folder / "postmortem.md").read_text()
    assert status in text and "Blocked" not in text
    if "REVERT: candidate 'memo'" in streams:
        assert "Validate failed (revert: " in status and "records the failure" in status
    assert not re.search("[\u2600-\u27bf\U0001f300-\U0001faff]", text)  # no emoji
    assert_small_outputs_with_static_fallbacks(notebook)


def test_kaggle_notebook_runs_the_whole_loop_and_writes_the_artefacts(
    executed_notebooks: Executed,
) -> None:
    notebook, folder = executed_notebooks("kaggle.ipynb")
    every = outputs(notebook)
    assert not [o for o in every if o["output_type"] == "error"]
    streams = "".join(str(o.get("text", "")) for o in every if o["output_type"] == "stream")
    assert "workbench is already installed" in streams
    assert "no GPU:" in streams and "GPU steps are skipped" in streams  # CPU-only here
    assert "host<->device copies: skipped (no GPU)" in streams
    assert "CPU only -> " in streams and "calibrated thresholds for matmul" in streams
    assert "tuning outline_all per GPU: skipped (no GPU:" in streams  # a GPU step, said so
    assert charts(every)  # the default: plotly's mimetype with a static image, no plotly.js
    assert_small_outputs_with_static_fallbacks(notebook)
    for name in (
        "report/report.html",
        "report/categories.csv",
        "machine-profile.json",
        "regret.csv",
        "experiments.csv",
        "postmortem.md",
    ):
        assert (folder / name).is_file(), name
    assert_postmortem_matches_store(folder, folder / "postmortem.md")


def test_own_code_notebook_shows_its_modules_as_categories_without_rules(
    executed_notebooks: Executed,
) -> None:
    notebook, _ = executed_notebooks("own_code.ipynb")
    every = outputs(notebook)
    assert not [o for o in every if o["output_type"] == "error"]
    html = "".join(o["data"].get("text/html", "") for o in every if "data" in o)
    for category in ("user:shapes", "user:search", "user:&lt;cell&gt;"):
        assert category in html
    streams = "".join(str(o.get("text", "")) for o in every if o["output_type"] == "stream")
    assert "Rule Shapes = path 'shape.py' (-c) matched no function" in streams
    assert "Did you mean '*/shapes.py'" in streams
    assert_small_outputs_with_static_fallbacks(notebook)
