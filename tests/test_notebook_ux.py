"""Issue [notebook-ux]: static charts, outputs that survive an untrusted notebook, tidy
category tables, the user's modules split without rules, rule hints, progress bars, the
run store per notebook, the cell's value as Out, snakeviz that says where and stops."""

from __future__ import annotations

import base64
import io
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench import machine, progress
from workbench.profiling.categories import (
    FunctionSite,
    Ruleset,
    is_tooling,
    make_rule,
    unmatched_rules,
    user_category,
)
from workbench.report import html, sections
from workbench.report.bundle import PLOTLY_MIME, chart_bundle, outputs
from workbench.report.figures import category_figure, chart_title
from workbench.report.svg import figure_svg, nice_ticks
from workbench.report.tables import Document, Fold, Paragraph
from workbench.store.db import RunStore
from workbench.ui.origin import notebook_origin

SVG = "{http://www.w3.org/2000/svg}"


def categories_frame(shares: dict[str, float]) -> pd.DataFrame:
    rows = [
        (name, pct / 100, min(1.0, 2 * pct / 100), pct, 10, 2, 0.001, f"{name} = built-in: x")
        for name, pct in shares.items()
    ]
    columns = [
        "category",
        "self_s",
        "inclusive_s",
        "pct",
        "calls",
        "functions",
        "est_overhead_s",
        "rule",
    ]
    return pd.DataFrame(rows, columns=columns)


# --- static charts -------------------------------------------------------------------


def test_the_static_bar_chart_draws_one_bar_per_category_to_scale() -> None:
    frame = categories_frame({"user:dsl": 60.0, "user:solvers": 30.0, "stdlib": 10.0})
    svg = figure_svg(category_figure(frame, "Where the time goes: x"))
    assert svg is not None and "<script" not in svg
    root = ET.fromstring(svg)
    self_bars = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "12"]
    widths = [float(r.get("width", "0")) for r in self_bars]
    assert len(widths) == 3
    # 0.6 s : 0.3 s : 0.1 s, top to bottom (the biggest first), to one decimal of a pixel
    assert widths[0] / widths[1] == pytest.approx(2.0, abs=0.01)
    assert widths[0] / widths[2] == pytest.approx(6.0, abs=0.05)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.index("user:dsl") < texts.index("user:solvers") < texts.index("stdlib")
    assert {"self", "inclusive", "60.0%"} <= set(texts)


def test_nice_ticks_cover_the_largest_value_in_round_steps() -> None:
    assert nice_ticks(0.93) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(7.0) == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert nice_ticks(0.0) == [0.0, 1.0]


def test_a_chart_bundle_carries_plotly_and_a_scriptless_image_fallback() -> None:
    frame = categories_frame({"a": 70.0, "b": 30.0})
    bundle = chart_bundle(category_figure(frame, "T"))
    assert set(bundle) == {PLOTLY_MIME, "text/html", "text/plain"}
    fallback = bundle["text/html"]
    assert "<script" not in fallback and "<svg" not in fallback  # inline SVG is sanitized away
    uri = re.search(r"src='data:image/svg\+xml;base64,([^']+)'", fallback)
    assert uri is not None
    assert base64.b64decode(uri.group(1)).decode().startswith("<svg xmlns=")


def test_the_legend_tells_self_from_inclusive_and_the_title_names_the_first_line() -> None:
    figure = category_figure(categories_frame({"a": 70.0, "b": 30.0}), "T")
    self_trace, inclusive = figure["data"]
    assert self_trace["marker"]["color"][0] != inclusive["marker"]["color"]
    assert chart_title("cell", "%%optimize -q\n\n# setup\nresult = solve(tasks)\n") == (
        "Where the time goes: result = solve(tasks)"
    )
    assert chart_title("v1", "x = 1") == "Where the time goes: v1"
    assert len(chart_title("cell", "y = " + "1 + " * 40)) < 90


# --- HTML that survives JupyterLab's sanitizer ---------------------------------------


def test_report_html_has_no_style_element_and_styles_every_cell_inline() -> None:
    report = workbench.profile("sum(i * i for i in range(3000))", {}, call_cost_s=1e-7)
    text = report.to_html()
    assert "<style" not in text and "<script" not in text
    cells = re.findall(r"<td[^>]*>", text)
    assert cells and all("style='" in cell for cell in cells)
    assert "word-break:break-word" not in text  # dropped by the sanitizer: not relied on
    assert "span class='bar' style='display:inline-block;height:10px" in text


def test_long_code_gets_break_points_and_short_text_stays_on_one_line() -> None:
    from workbench.report.tables import Column, Table

    long = "a_very/long/path/to/some_module.py:123 and more"
    t = Table("", (Column("Short"), Column("Long", "code")), (("abc", long),))
    out = html.table(t)
    assert "white-space:nowrap'>abc<" in out
    assert "a_<wbr>very/<wbr>long/<wbr>" in out


def test_an_explanation_fold_is_open_once_per_session_then_folded() -> None:
    doc = Document("T", (Paragraph("x"), Fold("About", (Paragraph("why"),), once="profile")))
    shown: set[str] = set()
    first = outputs(doc, shown=shown)[0]["text/html"]
    second = outputs(doc, shown=shown)[0]["text/html"]
    assert "data-once='profile' open" in first
    assert "data-once='profile'" in second and "open>" not in second
    assert shown == {"profile"}
    assert "data-once='profile' open" in outputs(doc)[0]["text/html"]  # no session: open
    assert "why" in outputs(doc, shown=shown)[0]["text/markdown"]  # markdown lays it out


# --- tidy tables -----------------------------------------------------------------------


def test_categories_under_half_a_percent_fold_into_one_other_row() -> None:
    frame = categories_frame({"big": 95.0, "mid": 4.5, "tiny1": 0.3, "tiny2": 0.2})
    folded = sections.fold_small(frame)
    assert list(folded["category"]) == ["big", "mid", "other"]
    other = folded.iloc[-1]
    assert other["self_s"] == pytest.approx(0.005) and other["pct"] == pytest.approx(0.5)
    assert other["calls"] == 20 and other["functions"] == 4
    assert other["rule"] == "2 categories under 0.5%: tiny1, tiny2"
    one_small = categories_frame({"big": 99.7, "tiny": 0.3})
    assert list(sections.fold_small(one_small)["category"]) == ["big", "tiny"]
    table = sections.categories(frame, profiled_s=1.0, calls=40, functions=8)
    assert [row[0] for row in table.rows] == ["big", "mid", "other"]


def test_the_rule_column_shows_one_short_rule() -> None:
    assert sections.short_rule("DSL = path '*/dsl.py' (-c)") == "path '*/dsl.py' (-c)"
    assert sections.short_rule("native = built-in: a C function; native = built-in: gen") == (
        "built-in (+1 more)"
    )
    frame = categories_frame({"a": 100.0})
    frame.loc[0, "rule"] = "a = path 'x' (-c); a = func 'y' (-c)"
    rules = sections.category_rules(frame)
    assert [row[1] for row in rules.rows] == ["a = path 'x' (-c)", "a = func 'y' (-c)"]


# --- the user's own modules, tooling, rule hints -------------------------------------


def site(path: str, module: str, name: str = "f") -> FunctionSite:
    return FunctionSite(path, 1, name, module, False, module.split(".", 1)[0])


def test_user_code_is_split_by_its_top_level_module_or_package() -> None:
    ruleset = Ruleset()
    home = "/home/me/project"
    assert ruleset.classify(site(f"{home}/dsl.py", "dsl")).category == "user:dsl"
    assert ruleset.classify(site(f"{home}/solvers.py", "solvers")).category == "user:solvers"
    assert ruleset.classify(site(f"{home}/pkg/sub/m.py", "pkg.sub.m")).category == "user:pkg"
    assert user_category(site(f"{home}/run.py", "__main__")) == "user:run"
    assert ruleset.classify(site("<ipython-input-3-abc123>", "__main__")).category == (
        "user:<cell>"
    )
    rule = make_rule("DSL", "*/dsl.py", "-c")
    assert Ruleset([rule]).classify(site(f"{home}/dsl.py", "dsl")).category == "DSL"  # rules win


def test_packaging_machinery_is_one_tooling_category() -> None:
    assert is_tooling("__editable___workbench_0_1_0_finder")
    assert is_tooling("_distutils_hack") and not is_tooling("numpy")
    import sysconfig

    purelib = sysconfig.get_paths()["purelib"]
    finder = site(f"{purelib}/__editable___workbench_0_1_0_finder.py", "x")
    assert Ruleset().classify(finder).category == "tooling"


def test_a_rule_that_matches_nothing_is_named_with_what_it_might_have_meant() -> None:
    sites = [site("/p/dsl.py", "dsl", "rot90"), site("/p/solvers.py", "solvers", "solve_a")]
    notes = unmatched_rules(
        [
            make_rule("DSL", "dsl.py", "-c"),
            make_rule("Solvers", "module:solver", "-c"),
            make_rule("Rot", "func:^rot9$", "-c"),
            make_rule("Proj", "module:other", "pyproject.toml"),  # project-wide: not named
        ],
        sites,
        used=set(),
    )
    assert len(notes) == 3
    assert "Rule DSL = path 'dsl.py' (-c) matched no function." in notes[0]
    assert "start it with */" in notes[0] and "'*/dsl.py' (/p/dsl.py)" in notes[0]
    assert "Did you mean module:solvers?" in notes[1]
    assert "func:^rot90$" in notes[2]


def test_two_modules_of_ones_own_come_out_as_two_categories_without_rules(tmp_path: Path) -> None:
    """Two modules written here (not ours, not installed): each its own category."""
    (tmp_path / "grids.py").write_text("def rot(g):\n    return [list(r) for r in zip(*g[::-1])]\n")
    (tmp_path / "solve.py").write_text(
        "import grids\ndef run(n):\n    g = [[1, 2], [3, 4]]\n"
        "    for _ in range(n):\n        g = grids.rot(g)\n    return g\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        import solve  # type: ignore[import-not-found]

        report = workbench.profile(lambda: solve.run(3000), use_pyproject=False)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("solve", None)
        sys.modules.pop("grids", None)
    assert {"user:grids", "user:solve"} <= set(report.categories["category"])


# --- progress ------------------------------------------------------------------------


def test_a_bar_counts_what_is_done_and_a_new_total() -> None:
    stream = io.StringIO()
    bar = progress.Bar("rounds", total=4, file=stream)
    bar.update(1)
    bar.update(3, total=6)
    bar.close()
    bar.close()  # idempotent
    text = stream.getvalue()
    assert "rounds" in text and "3/6" in text
    assert bar.done == 3 and bar.total == 6


def test_rounds_and_steps_hooks_open_one_bar_and_close_it() -> None:
    stream = io.StringIO()
    hook = progress.rounds("candidate 'x': rounds")
    hook.file = stream
    for done in range(1, 4):
        hook(done, 3)
    assert hook.calls == 3 and hook.bar is None  # closed after the last round
    assert "3/3" in stream.getvalue()
    steps = progress.steps("calibrating")
    steps.file = stream
    steps(5, 10, "sum: numpy")
    steps.close()
    assert "5/10" in stream.getvalue() and "sum: numpy" in stream.getvalue()
    quiet = progress.rounds("q", enabled=False)
    quiet(1, 2)
    assert quiet.bar is not None and quiet.bar._bar is None  # nothing drawn


def test_a_stage_shows_one_step_and_reraises(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.stage("line pass"):
        pass
    with pytest.raises(KeyError), progress.stage("gpu pass"):
        raise KeyError("x")
    err = capsys.readouterr().err
    assert "line pass" in err and "1/1" in err and "gpu pass" in err and "0/1" in err


def test_the_magic_shows_a_bar_for_the_line_pass_and_none_with_q(shell: InteractiveShell) -> None:
    shell.run_cell("def work(n):\n    return sum(i * i for i in range(n))\n")
    with capture_output() as cap:
        shell.run_cell("%%optimize --lines 1\nwork(5000)\n")
    assert "line pass (line_profiler)" in cap.stderr and "1/1" in cap.stderr
    with capture_output() as cap:
        shell.run_cell("%%optimize -q --lines 1\nwork(5000)\n")
    assert "line pass" not in cap.stderr


# --- the cell's value, the store per notebook ----------------------------------------


def test_the_cells_last_value_is_the_magics_value(shell: InteractiveShell) -> None:
    result = shell.run_cell("%%optimize -q\nx = 6\nx * 7\n")
    assert result.result == 42
    assert shell.run_cell("%%optimize -q\ny = 1\n").result is None


def test_the_notebook_is_found_from_the_kernel_or_falls_back_to_the_session() -> None:
    assert notebook_origin({"__session__": "/w/a.ipynb"}, "1-2", env={}) == "/w/a.ipynb"
    assert notebook_origin({}, "1-2", env={"JPY_SESSION_NAME": "/w/b.ipynb"}) == "/w/b.ipynb"
    vsc = {"__vsc_ipynb_file__": "/w/c.ipynb", "__session__": "/w/x"}
    assert notebook_origin(vsc, "1-2", env={}) == "/w/c.ipynb"
    assert notebook_origin({}, "1-2", env={}) == "kernel session 1-2"


def test_postmortem_and_compare_read_this_notebooks_runs(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    shell.run_cell("def work(n):\n    return sum(i * i for i in range(n))\n")
    with capture_output():
        shell.user_ns["__session__"] = str(isolated_cwd / "other.ipynb")
        shell.run_cell("%%optimize -q -l theirs\nwork(1000)\n")
        shell.user_ns["__session__"] = str(isolated_cwd / "mine.ipynb")
        shell.run_cell("%%optimize -q -l first\nwork(1000)\n")
        shell.run_cell("%%optimize -q -l second\nwork(2000)\n")
        shell.user_ns["__session__"] = str(isolated_cwd / "other.ipynb")
        shell.run_cell("%%optimize -q -l theirs-again\nwork(1000)\n")
        shell.user_ns["__session__"] = str(isolated_cwd / "mine.ipynb")
        result = shell.run_cell("%optimize --compare -2 -1")
        compared = result.result
        assert compared is None
        shell.run_cell("%optimize -q -o c --compare -2 -1")
        shell.run_cell("%optimize -q -o every --compare -2 -1 --all-runs")
        shell.run_cell("%optimize -q -o w --postmortem pm.md")
    mine, every = shell.user_ns["c"], shell.user_ns["every"]
    assert (mine.a.label, mine.b.label) == ("first", "second")
    assert (every.a.label, every.b.label) == ("second", "theirs-again")
    text = (isolated_cwd / "pm.md").read_text()
    assert f"**Runs of**: {isolated_cwd / 'mine.ipynb'}" in text
    assert "theirs" not in text.split("## Runs referenced")[1]
    with RunStore() as store:
        assert list(store.runs()["origin"]).count(str(isolated_cwd / "mine.ipynb")) == 2


def test_a_schema_1_store_is_migrated_in_place_and_keeps_its_runs(isolated_cwd: Path) -> None:
    report = workbench.profile("sum(range(100))", {}, call_cost_s=1e-7)
    env = machine.current_environment(device="test")
    with RunStore() as store:
        first = store.add_run(report, env=env, origin="a.ipynb")
        path = store.path
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE runs DROP COLUMN origin")  # as schema 1 wrote it
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with RunStore(path, read_only=True) as old:  # read-only: no migration, no origins
        assert not old.has_origins() and list(old.runs()["origin"]) == [None]
        assert old.resolve_run(-1, "a.ipynb") == first  # nothing to filter on
    with RunStore(path) as store:
        assert store.has_origins()
        second = store.add_run(report, env=env, origin="b.ipynb")
        origins = store.runs()["origin"]
        assert origins.isna().tolist() == [True, False] and origins.iloc[1] == "b.ipynb"
        assert store.resolve_run(-1, "b.ipynb") == second
        assert store.get_run(first).label == report.label
    conn = sqlite3.connect(path)
    (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    conn.close()
    assert version == "2"


# --- snakeviz --------------------------------------------------------------------------


def _serves(url: str, attempts: int = 100) -> bool:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            time.sleep(0.1)
    return False


def test_snakeviz_says_where_and_how_to_stop_even_with_q(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("snakeviz")
    for name in ("KAGGLE_KERNEL_RUN_TYPE", "COLAB_RELEASE_TAG", "SSH_CONNECTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.delenv("BINDER_SERVICE_HOST", raising=False)
    if Path("/kaggle/input").is_dir():
        pytest.skip("on Kaggle the magic says why it does not start snakeviz")
    shell.run_cell("def work(n):\n    return sum(i * i for i in range(n))\n")
    with capture_output() as cap:
        shell.run_cell("%%optimize -q --snakeviz\nwork(1000)\n")
    line = cap.stdout.strip()
    match = re.search(r"at (http://127\.0\.0\.1:\d+/snakeviz/\S+) \(process (\d+)\)", line)
    assert match, line
    assert f"!kill {match.group(2)}" in line and "stops when this kernel stops" in line
    servers = shell.magics_manager.registry["OptimizeMagics"].servers
    try:
        assert _serves(match.group(1))
    finally:
        stopped = servers.stop_all()
    assert stopped == [int(match.group(2))] and servers.running == {}


def test_a_snakeviz_server_stops_once_its_kernel_is_gone(tmp_path: Path) -> None:
    """A 'kernel' process starts a server and is killed outright (no exit handlers run)."""
    pytest.importorskip("snakeviz")
    prof = tmp_path / "p.prof"
    import cProfile

    cProfile.run("sum(range(10))", str(prof))
    kernel = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from workbench.ui.snakeviz import Servers\n"
            "servers = Servers()\n"
            f"print(servers.open(Path({str(prof)!r})), flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert kernel.stdout is not None
    line = kernel.stdout.readline()
    match = re.search(r"at (\S+) \(process (\d+)\)", line)
    assert match, line
    pid = int(match.group(2))
    assert _serves(match.group(1))
    kernel.kill()
    kernel.wait(timeout=30)
    for _ in range(300):  # the server polls for its kernel once a second
        try:
            with open(f"/proc/{pid}/stat") as stat:
                gone = stat.read().split()[2] == "Z"
        except FileNotFoundError:
            gone = True
        if gone:
            break
        time.sleep(0.1)
    assert gone, f"snakeviz server {pid} outlived its kernel"
