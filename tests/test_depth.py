"""Profiling depth: line hot spots, native time, GPU status, options from pyproject, --depth."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import workloads
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench.errors import ConfigError
from workbench.profiling.options import Options, resolve_settings
from workbench.report import format as fmt

LOOPS = """\
def hot(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def cold():
    return 1
"""


PLOTLY = "application/vnd.plotly.v1+json"


def run(shell: InteractiveShell, source: str) -> list[dict[str, str]]:
    with capture_output() as cap:
        result = shell.run_cell(source)
    assert result.error_in_exec is None, result.error_in_exec
    return [out.data for out in cap.outputs]


def joined(outputs: list[dict[str, str]], mime: str) -> str:
    """One representation of every output of a cell, in order."""
    return "".join(out[mime] for out in outputs if mime in out)


def test_line_pass_counts_hits_per_line_of_the_chosen_function(shell: InteractiveShell) -> None:
    shell.run_cell(LOOPS)
    outputs = run(shell, "%%optimize -o r -f hot\nhot(500)\ncold()\n")
    lines = shell.user_ns["r"].lines.lines.set_index("line")
    assert lines.loc[3, "hits"] == 501  # the for line: 500 iterations and the exit
    assert lines.loc[4, "hits"] == 500
    assert lines.loc[4, "source"].strip() == "total += i * i"
    assert set(shell.user_ns["r"].lines.lines["function"]) == {"hot"}
    assert "Hottest lines" in joined(outputs, "text/html")
    assert "Line pass: that run took" in joined(outputs, "text/plain")  # -f: its only run


def test_line_pass_picks_the_top_user_functions_by_self_time(shell: InteractiveShell) -> None:
    shell.run_cell(LOOPS)
    run(shell, "%%optimize -q -o r --lines 1\nhot(20000)\ncold()\n")
    assert shell.user_ns["r"].lines.functions == ["hot"]


def test_line_pass_profiles_functions_the_cell_defines_itself(shell: InteractiveShell) -> None:
    run(shell, "%%optimize -q -o r --lines 1\n" + LOOPS + "hot(300)\n")
    lines = shell.user_ns["r"].lines.lines.set_index("line")
    assert lines.loc[4, "hits"] == 300


def test_cell_runs_again_only_for_the_line_pass(shell: InteractiveShell) -> None:
    shell.run_cell(LOOPS + "runs = []")
    run(shell, "%%optimize -q -o r --lines 1\nruns.append(1)\nhot(10)\n")
    assert shell.user_ns["runs"] == [1, 1]  # no profile of it yet: profiled, then lines
    run(shell, "%%optimize -q -o r --lines 1\nruns.append(1)\nhot(10)\n")
    assert shell.user_ns["runs"] == [1, 1, 1]  # the profile taken before picks the functions
    report = shell.user_ns["r"]
    assert report.lines.functions == ["hot"]
    assert report.categories.empty
    assert any("picked from the profile of this code taken before" in n for n in report.notes())


def test_dash_f_runs_line_profiler_alone(shell: InteractiveShell) -> None:
    shell.run_cell(LOOPS + "runs = []")
    run(shell, "%%optimize -q -o r -f hot\nruns.append(1)\nhot(10)\n")
    assert shell.user_ns["runs"] == [1]
    report = shell.user_ns["r"]
    assert report.lines.functions == ["hot"]
    assert report.lines.lines.set_index("line").loc[4, "hits"] == 10
    assert report.headline().startswith("cell: line pass only")


def test_a_line_pass_only_run_neither_says_re_run_nor_states_a_cprofile_overhead(
    shell: InteractiveShell,
) -> None:
    # arc-dsl, --lines 3 after a profile of the same cell: "the code ran once" beside "the
    # code was re-run", and "cProfile's costs could not be measured" with no cProfile run.
    shell.run_cell(LOOPS)
    run(shell, "%%optimize -q -o r\nhot(2000)\n")
    for line in ("--lines 1", "-f hot", "-f nope"):
        run(shell, f"%%optimize -q -o r {line}\nhot(2000)\n")
        notes = shell.user_ns["r"].notes()
        assert notes[0].startswith("Line pass only: the code ran once"), notes
        assert not any("re-run" in n or "overhead" in n.lower() for n in notes), notes


def test_lines_with_another_mode_says_the_mode_was_not_used(shell: InteractiveShell) -> None:
    # arc-dsl: --lines 3 --mode sample after a profile of the same cell reused that profile
    # and ran the line pass alone, with no word about the mode.
    shell.run_cell(LOOPS + "runs = []")
    run(shell, "%%optimize -q -o r\nruns.append(1)\nhot(2000)\n")
    run(shell, "%%optimize -q -o r --lines 1 --mode sample\nruns.append(1)\nhot(2000)\n")
    assert shell.user_ns["runs"] == [1, 1]  # the line pass alone ran
    notes = shell.user_ns["r"].notes()
    assert notes[0].startswith("Line pass only: the code ran once")
    assert notes[1] == (
        "--mode sample was not used: the line pass alone ran, so nothing was sampled "
        "(run without -f / --lines for a sample profile)."
    )
    run(shell, "%%optimize -q -o r --lines 1\nruns.append(1)\nhot(2000)\n")
    assert not any(n.startswith("--mode") for n in shell.user_ns["r"].notes())


def test_when_every_dash_f_name_fails_the_headline_says_the_code_ran(
    shell: InteractiveShell,
) -> None:
    shell.run_cell(LOOPS + "runs = []\nvalue = 3")
    outputs = run(shell, "%%optimize -o r -f nope -f value\nruns.append(1)\nhot(2000)\n")
    assert shell.user_ns["runs"] == [1]
    report = shell.user_ns["r"]
    headline = report.headline()
    assert "nothing measurable ran" not in headline
    assert headline.startswith(f"cell: the code ran ({fmt.seconds(report.wall_s)}, not profiled)")
    assert headline.endswith("no named function could be profiled by line (the notes say why).")
    assert report.wall_s > 0
    assert headline in joined(outputs, "text/plain")


def test_bad_function_names_are_reported_and_the_rest_still_profiled(
    shell: InteractiveShell,
) -> None:
    shell.run_cell(LOOPS + "value = 3")
    outputs = run(shell, "%%optimize -o r -f hot -f value -f nope -f len\nhot(50)\n")
    text = joined(outputs, "text/plain")
    assert "-f value: not a Python function (it is a int); skipped" in text
    assert "-f nope: no such name in the namespace" in text
    assert "-f len: not a Python function (it is a builtin_function_or_method); skipped" in text
    assert shell.user_ns["r"].lines.functions == ["hot"]


def test_dash_f_finds_a_function_of_a_loaded_module_the_cell_did_not_bind(
    shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As with arc-dsl: the cell imports `run` from a driver; the DSL module it uses is
    # loaded (in sys.modules) but not a name in the namespace.
    (tmp_path / "wbprims.py").write_text("def shift(n):\n    return [i + 1 for i in range(n)]\n")
    (tmp_path / "wbdriver.py").write_text(
        "import wbprims\n\ndef go(n):\n    return sum(map(len, (wbprims.shift(n) for _ in range(5))))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "wbprims", raising=False)
    monkeypatch.delitem(sys.modules, "wbdriver", raising=False)
    shell.run_cell("from wbdriver import go")
    assert "wbprims" not in shell.user_ns
    outputs = run(shell, "%%optimize -o r -f wbprims.shift -f wbprims.nope\ngo(20)\n")
    report = shell.user_ns["r"]
    assert report.lines.functions == ["shift"]
    assert report.lines.lines.set_index("line").loc[2, "hits"] == 5
    assert "-f wbprims.nope: has no attribute 'nope'" in joined(outputs, "text/plain")


def test_native_time_is_attributed_to_its_owning_package() -> None:
    def work() -> None:
        a = np.arange(100.0)
        for _ in range(2000):
            a.sum()

    report = workbench.profile(work)
    native = report.native.set_index("package")
    functions = report.functions.set_index("name")
    assert functions.loc["<method 'sum' of 'numpy.ndarray' objects>", "owner"] == "numpy"
    owned = report.functions[report.functions["native"] & (report.functions["owner"] == "numpy")]
    assert native.loc["numpy", "native_calls"] == owned["ncalls"].sum() >= 2000
    assert native.loc["numpy", "native_s"] > 0
    assert "call pattern" in native.loc["numpy", "advice"]


def test_gpu_option_without_cupy_says_so_and_nothing_fails() -> None:
    report = workbench.profile(workloads.top, gpu=True)
    assert report.gpu is not None
    assert not report.gpu.measured
    assert "GPU time not measured" in report.gpu.status
    assert "GPU: GPU time not measured" in report.to_markdown()


def test_pyproject_sets_options_and_the_magic_line_wins(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    (isolated_cwd / "pyproject.toml").write_text("[tool.workbench]\ntop = 1\nlines = 1\n")
    shell.run_cell(LOOPS)
    run(shell, "%%optimize -q -o r\nhot(100)\ncold()\n")
    report = shell.user_ns["r"]
    assert report.top_n == 1
    assert report.lines is not None
    run(shell, "%%optimize -q -o r2 --top 3 --lines 0\nhot(100)\n")
    assert shell.user_ns["r2"].top_n == 3
    assert shell.user_ns["r2"].lines is None


def test_unknown_pyproject_option_is_a_usage_error(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    (isolated_cwd / "pyproject.toml").write_text("[tool.workbench]\ntopp = 1\n")
    with capture_output():
        result = shell.run_cell("%%optimize\nx = 1\n")
    assert "unknown option(s) topp" in str(result.error_in_exec)


def test_depths_set_the_passes_and_explicit_values_win() -> None:
    assert resolve_settings({}, {})["mode"] == "cprofile"
    fast = resolve_settings({"depth": "fast"}, {})
    assert fast["mode"] == "sample"
    aggressive = resolve_settings({"depth": "aggressive"}, {})
    assert (aggressive["lines"], aggressive["gpu"], aggressive["tree"]) == (5, True, True)
    assert resolve_settings({"depth": "aggressive", "lines": 2}, {})["lines"] == 2
    assert resolve_settings({}, {"depth": "aggressive"})["gpu"] is True
    with pytest.raises(ConfigError, match="depth must be one of"):
        resolve_settings({"depth": "turbo"}, {})


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"lines": -1}, "lines must be a whole number"),
        ({"mode": "trace"}, "mode must be one of"),
        ({"chart": "svg"}, "chart must be one of"),
        ({"gpu": "yes"}, "gpu must be true or false"),
    ],
)
def test_invalid_option_values_fail_clearly(given: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Options.build(given, use_pyproject=False)


def test_cli_profiles_a_script_with_its_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli import main

    script = tmp_path / "job.py"
    script.write_text(
        "import sys\ndef work(n):\n    return sum(i for i in range(n))\nprint(work(int(sys.argv[1])))\n"
    )
    out = tmp_path / "out"
    assert main(["profile", "--lines", "1", "--out", str(out), str(script), "1000"]) == 0
    printed = capsys.readouterr().out
    assert "499500" in printed
    report_md = (out / "report.md").read_text()
    assert "Hottest lines" in report_md
    assert sys.argv[0] != str(script)  # argv restored


def test_cli_failing_script_writes_the_partial_report_and_exits_nonzero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli import main

    script = tmp_path / "bad.py"
    script.write_text("def step():\n    return 1\nstep()\nraise RuntimeError('broken input')\n")
    out = tmp_path / "out"
    assert main(["profile", "--out", str(out), str(script)]) == 1
    assert "INCOMPLETE" in (out / "report.md").read_text()
    assert "RuntimeError: broken input" in capsys.readouterr().err


def test_cli_script_exit_code_is_passed_on(tmp_path: Path) -> None:
    from workbench.cli import main

    script = tmp_path / "exits.py"
    script.write_text("import sys\nsys.exit(3)\n")
    assert main(["profile", "--out", str(tmp_path / "o"), str(script)]) == 3
    clean = tmp_path / "clean.py"
    clean.write_text("import sys\nsys.exit(0)\n")
    assert main(["profile", "--out", str(tmp_path / "o2"), str(clean)]) == 0


def test_cli_missing_script_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main

    assert main(["profile", "no_such_script.py"]) == 2
    assert "cannot read script" in capsys.readouterr().err


def test_tree_option_leads_with_an_icicle_and_a_text_tree(shell: InteractiveShell) -> None:
    shell.run_cell(LOOPS)
    outputs = run(shell, "%%optimize -o r --tree\nhot(20000)\ncold()\n")
    report = shell.user_ns["r"]
    assert report.tree is not None and report.tree[0].label == "Total"
    charts = [out[PLOTLY] for out in outputs if PLOTLY in out]
    # The deeper pass leads: the tree is the one chart, the category table compact after it.
    assert [chart["data"][0]["type"] for chart in charts] == ["icicle"]  # type: ignore[index]
    assert PLOTLY in outputs[1] and "By category" in outputs[2]["text/plain"]
    assert "Rule" not in outputs[2]["text/html"].split("Top ")[0]  # compact: no Rule column
    assert report.to_html(chart="inline").count("Plotly.newPlot") == 1
    text = joined(outputs, "text/plain")
    assert "Total:" in text and "hot" in text
    assert "```\nTotal:" in report.to_markdown()


def test_sample_mode_feeds_the_same_tables_with_sample_counts(shell: InteractiveShell) -> None:
    shell.run_cell(LOOPS)
    run(shell, "%%optimize -q -o r --mode pyinstrument --tree\nhot(300000)\n")
    report = shell.user_ns["r"]
    assert report.counts_are_samples
    assert report.overhead.method == "sampled"
    assert "hot" in set(report.functions["name"])
    assert report.categories["self_s"].sum() == pytest.approx(report.profiled_s, rel=0.01)
    assert report.stacks


def test_save_option_writes_speedscope_and_pstats(shell: InteractiveShell, tmp_path: Path) -> None:
    import json
    import pstats

    shell.run_cell(LOOPS)
    run(shell, f"%%optimize -q --save {tmp_path / 'out'}\nhot(1000)\n")
    document = json.loads((tmp_path / "out" / "profile.speedscope.json").read_text())
    assert document["profiles"][0]["type"] == "sampled"
    assert pstats.Stats(str(tmp_path / "out" / "profile.prof")).total_calls > 0  # type: ignore[attr-defined]


def test_saved_profiles_load_back_by_category_and_bad_files_fail_clearly(tmp_path: Path) -> None:
    from workbench.errors import ProfileError

    report = workbench.profile(workloads.top, category=["Leaf=func:^leaf$"])
    report.save(tmp_path / "out")
    loaded = workbench.load(tmp_path / "out" / "profile.prof", category=["Leaf=func:^leaf$"])
    assert loaded.categories.set_index("category").loc["Leaf", "calls"] == 6
    corrupt = tmp_path / "corrupt.prof"
    corrupt.write_bytes(b"\x00\x01not a profile")
    with pytest.raises(ProfileError, match="re-create the profile"):
        workbench.load(corrupt)


def test_recommendations_use_live_sizes_after_the_cell_ran(shell: InteractiveShell) -> None:
    shell.run_cell("import numpy as np\na = np.ones((200, 300))\nb = np.ones((300, 100))")
    outputs = run(shell, "%%optimize -o r\nc = a @ b\ntotal = c.sum()\n")
    table = shell.user_ns["r"].recommendations.set_index("line")
    assert table.loc[1, "pattern"] == "a @ b"
    assert table.loc[1, "complexity"] == "High"
    assert table.loc[1, "residency"] == "host"
    assert table.loc[2, "size"] == 20000  # c exists only after the cell ran
    assert "GPU" not in set(table["backend"])  # no CuPy here
    assert "Backend recommendations" in joined(outputs, "text/html")


def test_stack_sampling_mode_folds_native_time_and_says_so(shell: InteractiveShell) -> None:
    shell.run_cell(LOOPS)
    outputs = run(shell, "%%optimize -o r --mode sample\nhot(400000)\n")
    report = shell.user_ns["r"]
    assert report.counts_are_samples
    assert "native" not in set(report.categories["category"])
    assert "hot" in set(report.functions["name"])
    assert "no native category" in joined(outputs, "text/plain")


def test_measured_gpu_time_is_laid_out_by_every_renderer() -> None:
    # No GPU here: the tables a GPU pass returns, with the numbers an H200 gave, are laid
    # out the way a measured pass would be (the pass itself runs in tests/test_gpu.py).
    import dataclasses

    import pandas as pd

    from workbench.profiling.gpu_pass import DEVICE_COLUMNS, LINE_COLUMNS, GpuPass

    devices = pd.DataFrame(
        [(0, "NVIDIA H200", 3, 0.0137, 0.0151, 1, 16_777_216, 0.0028, 1, 16_777_216, 0.006)],
        columns=DEVICE_COLUMNS,
    )
    lines = pd.DataFrame(
        [("hot", workloads.__file__, 5, 0, 5, 0.0137, 0.0002)], columns=LINE_COLUMNS
    )
    measured = GpuPass("GPU time measured on 1 device(s)", devices, lines, 12, 0.5)
    report = dataclasses.replace(workbench.profile(workloads.top), gpu=measured)
    text, markdown, html = report.to_text(), report.to_markdown(), report.to_html()
    for rendering in (text, markdown, html):
        assert "GPU time per device (CUDA events)" in rendering
        assert "GPU time by source line" in rendering
        assert "16,777,216 in 1" in rendering and "0.0137" in rendering
    assert "| 0 | NVIDIA H200 | 3 | 0.0137 |" in markdown


SORTS = """\
import random
data = [random.random() for _ in range(200_000)]

def sorts(n):
    return sum(len(sorted(data)) for _ in range(n))
"""


def test_a_sampled_native_table_counts_samples_and_gives_no_time_per_call(
    shell: InteractiveShell,
) -> None:
    # pyinstrument on arc-dsl: "Native calls" held sample counts beside a "us/call" made of them.
    shell.run_cell(SORTS)
    outputs = run(shell, "%%optimize -o r --mode pyinstrument\nsorts(10)\n")
    report = shell.user_ns["r"]
    assert report.counts_are_samples and not report.native.empty
    table = next(b for b in report.document.blocks if getattr(b, "title", "").startswith("Native"))
    headers = [column.header for column in table.columns]
    assert headers == ["Package", "Native (s)", "Python (s)", "Native samples", "% of total"]
    assert table.notes[0].startswith("Sampled: the counts are the samples that fell")
    html = joined(outputs, "text/html")
    assert "Native samples" in html and "us/call" not in html
    run(shell, "%%optimize -o c\nsorts(2)\n")
    counted = next(
        b
        for b in shell.user_ns["c"].document.blocks
        if getattr(b, "title", "").startswith("Native")
    )
    assert [column.header for column in counted.columns][3:6] == [
        "Native calls",
        "% of total",
        "us/call",
    ]
