"""%%optimize --whatif and --try in a real IPython shell, on functions of the user's own
cell: the predictions listed, one change measured with predicted against measured, and
bad input refused before anything runs, with nothing left patched."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench

USER_CODE = """\
def slow(n):
    total = 0
    for i in range(1500):
        total += (i * n) % 7
    return total

def work(reps):
    return sum(slow(i % 25) for i in range(reps))
"""


@pytest.fixture
def user_shell(shell: InteractiveShell) -> InteractiveShell:
    shell.run_cell(USER_CODE)
    return shell


def _raises(shell: InteractiveShell, cell: str) -> BaseException | None:
    with capture_output():
        result = shell.run_cell(cell)
    return result.error_in_exec or result.error_before_exec


def test_whatif_lists_changes_with_predicted_wins(user_shell: InteractiveShell) -> None:
    with capture_output() as cap:
        user_shell.run_cell("%%optimize --whatif -o r\nwork(600)\n")
    report = user_shell.user_ns["r"]
    best = report.whatif_pass.best()
    assert best.iloc[0]["function"] == "slow" and best.iloc[0]["change"] == "memoize"
    assert best.iloc[0]["predicted_low"] > 1.1  # a clear win (its size moves with the load)
    html = "".join(str(o.data.get("text/html", "")) for o in cap.outputs)
    assert "What if: predicted wins of specific changes" in html
    assert "memoize:slow" in html


def test_try_measures_the_change_and_shows_predicted_against_measured(
    user_shell: InteractiveShell,
) -> None:
    original = user_shell.user_ns["slow"]
    with capture_output() as cap:
        user_shell.run_cell("%%optimize --try memoize:slow --budget 3 -o e\nwork(600)\n")
    result = user_shell.user_ns["e"]
    assert result.name == "memoize:slow" and result.baseline_name == "before memoize:slow"
    assert result.prediction["function"] == "slow" and result.prediction["change"] == "memoize"
    assert result.prediction["low"] <= result.prediction["high"]
    assert result.verdict in ("keep", "revert")
    line = result.prediction_line()
    assert line.startswith("Predicted ") and f"measured {result.speedup.point:.3f}x" in line
    html = "".join(str(o.data.get("text/html", "")) for o in cap.outputs)
    assert "Predicted " in html
    assert user_shell.user_ns["slow"] is original  # restored
    row = workbench.experiments().iloc[-1]
    assert row["name"] == "memoize:slow"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--try batch:slow", "cannot be applied mechanically"),
        ("--try memoize:nothere", "no such function"),
        ("--try memoize:len", "no such function"),
        ("--try memoize", "needs CHANGE:FUNCTION"),
        ("--try memoize:slow --no-store", "needs the run store"),
        ("--try memoize:slow --baseline b", "give one of"),
    ],
)
def test_bad_try_input_is_one_message_and_nothing_runs(
    user_shell: InteractiveShell, line: str, message: str, isolated_cwd: Path
) -> None:
    original = user_shell.user_ns["slow"]
    error = _raises(user_shell, f"%%optimize {line}\nwork(10)\n")
    assert error is not None and message in str(error)
    assert type(error).__name__ == "UsageError"
    assert user_shell.user_ns["slow"] is original
    assert not (isolated_cwd / ".workbench" / "runs.sqlite").exists() or workbench.runs().empty


def test_try_on_a_missing_attribute_of_an_imported_module_names_both(
    user_shell: InteractiveShell,
) -> None:
    user_shell.run_cell("import whatif_workloads")
    error = _raises(user_shell, "%%optimize --try memoize:whatif_workloads.slow_sqare\nwork(10)\n")
    assert type(error).__name__ == "UsageError"
    text = str(error)
    assert "module whatif_workloads is there but has no attribute 'slow_sqare'" in text
    assert "closest names: whatif_workloads.slow_square" in text


def test_a_cell_that_raises_during_try_is_reraised_and_nothing_stays_patched(
    user_shell: InteractiveShell,
) -> None:
    original = user_shell.user_ns["slow"]
    error = _raises(user_shell, "%%optimize --try memoize:slow --budget 2\nwork(50)\n1 / 0\n")
    assert isinstance(error, ZeroDivisionError)
    assert user_shell.user_ns["slow"] is original


def test_try_without_code_is_refused(user_shell: InteractiveShell) -> None:
    error = _raises(user_shell, "%optimize --try memoize:slow")
    assert error is not None and "needs code to measure" in str(error)


def test_the_postmortem_records_prediction_against_measurement(
    user_shell: InteractiveShell, tmp_path: Path
) -> None:
    with capture_output():
        user_shell.run_cell("%%optimize --try memoize:slow --budget 2 -q -o e\nwork(300)\n")
        if user_shell.user_ns["e"].verdict != "keep":  # a loaded machine: go on anyway
            user_shell.run_cell("%optimize --resolve Validate --note 'measured again later'")
        user_shell.run_cell(f"%optimize --postmortem {tmp_path / 'post.md'}")
    text = (tmp_path / "post.md").read_text()
    assert "### Predicted against measured (what-if pass, --try)" in text
    assert "`memoize:slow`" in text


# arc-dsl's rbind: the lambda it returns depends on the arity read from __code__.
ARITY_CODE = """\
def rbind(function, fixed):
    n = function.__code__.co_argcount
    if n == 2:
        return lambda x: function(x, fixed)
    return lambda x, y: function(x, y, fixed)

def paint(cell, colour):
    total = 0
    for i in range(400):
        total += (i * cell + colour) % 7
    return total

def solve(reps):
    recolour = rbind(paint, 3)
    return [recolour(i % 20) for i in range(reps)]
"""


def test_the_probes_and_the_cache_keep_the_arity_code_reads(shell: InteractiveShell) -> None:
    # A probe taking (*args, **kwargs) has co_argcount 0 and lru_cache has no __code__:
    # arc-dsl's solvers then raised inside the pass (the probe saw 60 of 2,001 calls of
    # dsl.occurrences) and --try memoize:dsl.objects was BROKEN by an AttributeError.
    shell.run_cell(ARITY_CODE)
    original = shell.user_ns["paint"]
    with capture_output():
        shell.run_cell("%%optimize -q --whatif -o r\nsolve(300)\n")
    report = shell.user_ns["r"]
    assert report.error is None
    row = report.whatif_pass.lookup("memoize", "paint")
    assert row is not None and row["calls"] == 300
    assert not (report.whatif["change"] == "exceptions").any()
    with capture_output() as shown:
        done = shell.run_cell("%%optimize -q --try memoize:paint --budget 2 -o e\nsolve(300)\n")
    assert "e" in shell.user_ns, (done.error_in_exec, shown.stdout, shown.stderr)
    result = shell.user_ns["e"]
    assert result.verdict != "broken", result
    assert shell.user_ns["paint"] is original


DOMINATED = """\
def heavy(n):
    total = 0
    for i in range(6000):
        total += (i * n) % 7
    return total


def work(reps):
    return sum(heavy(i) for i in range(reps))
"""


def test_try_on_a_function_of_the_dominant_category_is_not_told_it_is_ignored(
    shell: InteractiveShell, isolated_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # arc-dsl: --try memoize:dsl.objects was told "'user:dsl' dominates and is not being
    # worked on". Every argument here is new, so the cache changes nothing beyond the noise.
    (isolated_cwd / "dominated.py").write_text(DOMINATED)
    monkeypatch.syspath_prepend(str(isolated_cwd))
    shell.run_cell("import dominated")
    with capture_output() as cap:
        result = shell.run_cell(
            "%%optimize --try memoize:dominated.heavy --budget 3 -o e\ndominated.work(150)\n"
        )
    assert result.error_in_exec is None and result.error_before_exec is None
    experiment = shell.user_ns["e"]
    categories = experiment.candidate_report.categories
    assert categories.iloc[0]["category"] == "user:dominated"
    assert categories.iloc[0]["pct"] > 50
    kinds = [f["kind"] for f in experiment.findings]
    assert "dominant-category" not in kinds
    text = "".join(str(o.data.get("text/plain", "")) for o in cap.outputs)
    assert "dominates and is not being worked on" not in text
    # The next profile of the same code is told again: no experiment is trying it now.
    with capture_output():
        shell.run_cell("%%optimize -o r\ndominated.work(150)\n")
    report = shell.user_ns["r"]
    assert report.categories.iloc[0]["category"] == "user:dominated"
    status = experiment.comparison.categories.set_index("category").loc["user:dominated", "status"]
    if status not in ("faster", "slower", "less time", "more time", "gone"):
        assert any(f["kind"] == "dominant-category" for f in report.findings)
