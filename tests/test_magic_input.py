"""Issue 16 items 8, 9 and 11 (round two), through a real InteractiveShell: quotes are
taken off every value of the magic line (rules, names, labels, paths), empty values and
kind prefixes with no pattern are refused, ``[tool.workbench]`` and rules files are
type-checked before anything runs, bad budgets and an empty ``--postmortem`` are refused
before anything runs, ``--store`` edge cases are one UsageError, and
``profile(on_error="return")`` never keeps KeyboardInterrupt or SystemExit."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench.errors import ConfigError
from workbench.profiling.config import rules_from_file
from workbench.profiling.options import Options

MODULE = "def helper(n):\n    return sum(i * i for i in range(n))\n"


def run(shell: InteractiveShell, source: str) -> tuple[BaseException | None, str]:
    with capture_output() as cap:
        result = shell.run_cell(source)
    return result.error_in_exec, cap.stderr  # type: ignore[attr-defined]


@pytest.fixture
def lab(
    shell: InteractiveShell, isolated_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> InteractiveShell:
    (isolated_cwd / "helpers.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(isolated_cwd))
    shell.run_cell("from helpers import helper\n")
    return shell


def calls_of(shell: InteractiveShell, category: str) -> int:
    cats = shell.user_ns["r"].categories.set_index("category")
    return int(cats.loc[category, "calls"]) if category in cats.index else 0


# --- item 8: quotes are not kept ---------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "'Mine=*/helpers.py'",
        '"Mine=*/helpers.py"',
        "Mine='*/helpers.py'",
        "'Mine=path:*/helpers.py'",
    ],
)
def test_a_quoted_rule_matches_what_it_says(lab: InteractiveShell, rule: str) -> None:
    error, _ = run(lab, f"%%optimize -q --no-store -o r -c {rule}\nhelper(300)\n")
    assert error is None
    assert calls_of(lab, "Mine") == 302  # helper, its generator expression (301 resumptions)
    assert lab.user_ns["r"].rules[0] == "Mine = path '*/helpers.py' (-c)"


def test_a_quoted_baseline_name_is_found_unquoted(lab: InteractiveShell) -> None:
    assert run(lab, "%%optimize -q --baseline 'v1'\nhelper(100)\n")[0] is None
    error, _ = run(lab, "%%optimize -q --candidate c --against v1 --budget 0.3 -o e\nhelper(100)\n")
    assert error is None and lab.user_ns["e"].baseline_name == "v1"
    error, _ = run(lab, '%%optimize -q --candidate d --against "v1" --budget 0.3\nhelper(100)\n')
    assert error is None
    assert list(workbench.experiments()["baseline"]) == ["v1", "v1"]


def test_labels_titles_and_paths_lose_their_quotes(
    lab: InteractiveShell, isolated_cwd: Path
) -> None:
    error, _ = run(lab, "%%optimize -q -o r -l 'my run' --save 'out dir'\nhelper(10)\n")
    assert error is None
    assert lab.user_ns["r"].label == "my run"
    assert (isolated_cwd / "out dir" / "report.md").is_file()
    assert run(lab, "%optimize -q -o r -l \"it's\" --mode 'sample' helper(10)")[0] is None
    assert lab.user_ns["r"].label == "it's" and lab.user_ns["r"].mode == "sample"
    assert run(lab, "%optimize -q -o r -l '-fast-' helper(10)")[0] is None
    assert lab.user_ns["r"].label == "-fast-"
    error, _ = run(lab, "%optimize -q --postmortem 'post mortem.md' --title='A B'")
    assert error is None
    assert (isolated_cwd / "post mortem.md").read_text().startswith("# A B\n")


def test_the_statement_keeps_its_quotes_and_spacing(lab: InteractiveShell) -> None:
    assert run(lab, "%optimize -q -o r -l 'x' text = 'a  \"b\"'.split()")[0] is None
    assert lab.user_ns["r"].source == "text = 'a  \"b\"'.split()\n"
    assert lab.user_ns["text"] == ["a", '"b"']


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-c DSL=func:", "has nothing after 'func:'"),
        ("-c 'DSL=module:'", "has nothing after 'module:'"),
        ("-c DSL=path:", "has nothing after 'path:'"),
        ("-c DSL=", "has an empty pattern"),
        ("-l ''", "-l/--label needs a value"),
        ("--save ''", "--save needs a value"),
        ("--baseline ''", "--baseline needs a value"),
        ("-f ''", "-f/--function needs a value"),
        ("-l 'open", "' that is not closed"),
    ],
)
def test_empty_values_are_refused_before_the_cell_runs(
    lab: InteractiveShell, line: str, message: str
) -> None:
    error, stderr = run(lab, f"%%optimize {line}\nran = True\n")
    assert type(error).__name__ == "UsageError" and message in str(error), error
    assert "ran" not in lab.user_ns and "Traceback" not in stderr


# --- item 9: [tool.workbench] types checked before the code runs ------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("functions = 5", "functions must be a list of function names"),
        ("save = 5", "save must be a folder path (a string), got 5"),
        ("lines = true", "lines must be a whole number >= 0, got True"),
        ("gpu = 'yes'", "gpu must be true or false, got 'yes'"),
        ("rules = ['a']", "rules must be a rules file path"),
        ("store = 3", "store must be a run store file path"),
        ("categories = 'x'", "categories must be a table"),
        ("depth = 1", 'depth must be one of "fast"'),
        ("mode = ''", "mode must be one of"),
        ("rules = 'missing.toml'", "rules = 'missing.toml': cannot read rules file"),
        ("interval = 'fast'", "interval must be a number of seconds"),
    ],
)
def test_pyproject_types_are_checked_before_the_cell_runs(
    lab: InteractiveShell, isolated_cwd: Path, table: str, message: str
) -> None:
    (isolated_cwd / "pyproject.toml").write_text(f"[tool.workbench]\n{table}\n")
    error, stderr = run(lab, "%%optimize\nran = True\n")
    assert type(error).__name__ == "UsageError", error
    assert "[tool.workbench]" in str(error) and message in str(error)
    assert "ran" not in lab.user_ns and "Traceback" not in stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tool = 5", "tool must be a table"),
        ("[tool]\nworkbench = 'x'", "tool.workbench must be a table"),
    ],
)
def test_a_pyproject_whose_tool_is_not_a_table_is_one_config_error(
    isolated_cwd: Path, text: str, message: str
) -> None:
    (isolated_cwd / "pyproject.toml").write_text(text + "\n")
    with pytest.raises(ConfigError, match=message):
        Options.build({})
    rules = isolated_cwd / "rules.toml"
    rules.write_text(text + "\n")
    with pytest.raises(ConfigError, match=message):
        rules_from_file(rules)


def test_functions_from_the_api_are_checked_too(isolated_cwd: Path) -> None:
    with pytest.raises(ConfigError, match="save must be a folder path"):
        workbench.profile("x = 1", save=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="functions must be a list of names"):
        workbench.profile("x = 1", functions=5)  # type: ignore[arg-type]


# --- item 11: budgets, --postmortem '', --store ---------------------------------------------------


@pytest.mark.parametrize("budget", ["inf", "nan", "-1", "1e300", "'-inf'"])
def test_a_bad_budget_is_refused_before_the_candidate_runs(
    lab: InteractiveShell, budget: str
) -> None:
    assert run(lab, "%%optimize -q --baseline b\nhelper(10)\n")[0] is None
    error, _ = run(lab, f"%%optimize --candidate c --budget {budget}\nran = True\n")
    assert type(error).__name__ == "UsageError" and "budget must be > 0" in str(error)
    assert "ran" not in lab.user_ns
    assert list(workbench.runs()["kind"]) == ["baseline"]


@pytest.mark.parametrize("option", ["--rtol inf", "--atol nan", "--rtol -1"])
def test_a_bad_tolerance_is_refused_before_the_candidate_runs(
    lab: InteractiveShell, option: str
) -> None:
    run(lab, "%%optimize -q --baseline b\nhelper(10)\n")
    error, _ = run(lab, f"%%optimize --candidate c {option}\nran = True\n")
    assert type(error).__name__ == "UsageError" and "tolerances must be >= 0" in str(error)
    assert "ran" not in lab.user_ns


@pytest.mark.parametrize("target", ["''", '""', ".", "folder"])
def test_postmortem_needs_a_file_name(
    lab: InteractiveShell, isolated_cwd: Path, target: str
) -> None:
    (isolated_cwd / "folder").mkdir()
    run(lab, "%%optimize -q\nhelper(10)\n")
    before = sorted(p.name for p in isolated_cwd.iterdir())
    error, stderr = run(lab, f"%optimize --postmortem {target}")
    assert type(error).__name__ == "UsageError", error
    assert "needs" in str(error) and "Traceback" not in stderr
    assert sorted(p.name for p in isolated_cwd.iterdir()) == before


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ("''", "--store needs a value"),
        ("folder", "is a folder: give a file name"),
        ("/dev/null", "is not a plain file"),
        ("not-a-store.txt", "is not a readable workbench run store"),
    ],
)
def test_store_edge_cases_are_one_usage_error_and_keep_the_store(
    lab: InteractiveShell, isolated_cwd: Path, store: str, message: str
) -> None:
    (isolated_cwd / "folder").mkdir()
    (isolated_cwd / "not-a-store.txt").write_text("my notes")
    for line in (f"%optimize --store {store}", f"%optimize -q --store {store} helper(10)"):
        error, stderr = run(lab, line)
        assert type(error).__name__ == "UsageError" and message in str(error), error
        assert "Traceback" not in stderr
    assert (isolated_cwd / "not-a-store.txt").read_text() == "my notes"
    run(lab, "%%optimize -q\nhelper(10)\n")  # the session's store is still the default one
    assert len(workbench.runs()) == 1


def test_a_quoted_store_path_with_a_space_is_used_as_typed(
    lab: InteractiveShell, isolated_cwd: Path
) -> None:
    assert run(lab, "%optimize --store 'my runs.sqlite'")[0] is None
    run(lab, "%%optimize -q\nhelper(10)\n")
    assert len(workbench.runs(isolated_cwd / "my runs.sqlite")) == 1


# --- item 11: on_error="return" never keeps Ctrl-C or SystemExit -----------------------------------


def interrupted() -> None:
    sum(range(100))
    raise KeyboardInterrupt


def exits() -> None:
    raise SystemExit(3)


@pytest.mark.parametrize(
    ("target", "kind"), [(interrupted, KeyboardInterrupt), (exits, SystemExit)]
)
def test_on_error_return_re_raises_interrupts_with_the_report(
    target: object, kind: type[BaseException]
) -> None:
    with pytest.raises(kind) as caught:
        workbench.profile(target, on_error="return", call_cost_s=1e-7)  # type: ignore[arg-type]
    report = caught.value.workbench_report  # type: ignore[attr-defined]
    assert isinstance(report, workbench.Report) and not report.complete
    assert report.error is not None and kind.__name__ in report.error


def test_on_error_return_still_keeps_ordinary_exceptions() -> None:
    def fails() -> None:
        raise ValueError("kept")

    report = workbench.profile(fails, on_error="return", call_cost_s=1e-7)
    assert report.error == "ValueError: kept"
