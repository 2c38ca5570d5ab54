"""%%optimize with the run store, baselines, candidates, the workflow and the postmortem,
through a real InteractiveShell."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench.experiment.compare import CompareResult
from workbench.experiment.result import ExperimentResult
from workbench.store.db import RunStore

WORK = """\
def work(n):
    return sum(i * i for i in range(n))

def fast(n):
    return (n - 1) * n * (2 * n - 1) // 6

def slow(n):
    return work(n) + work(n) - work(n)
"""


def run(shell: InteractiveShell, source: str) -> tuple[object, list[dict[str, str]], str]:
    with capture_output() as cap:
        result = shell.run_cell(source)
    return result, [out.data for out in cap.outputs], cap.stderr


def error_of(result: object) -> BaseException | None:
    return result.error_in_exec  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def lab(shell: InteractiveShell) -> InteractiveShell:
    shell.run_cell(WORK)
    return shell


def test_every_profiled_run_is_recorded_with_its_code(lab: InteractiveShell) -> None:
    run(lab, "%%optimize -q\nwork(1000)\n")
    run(lab, "%optimize -q work(10)")
    run(lab, "%%optimize -q --no-store\nwork(10)\n")
    listing = workbench.runs()
    assert list(listing["kind"]) == ["profile", "profile"]
    with RunStore() as store:
        first = store.get_run(1)
    assert first.code == "work(1000)\n"
    assert first.functions.set_index("name").loc["<genexpr>", "ncalls"] == 1001
    assert workbench.workflow().frame().set_index("phase").loc["Profile", "state"] == "Completed"


def test_baseline_then_faster_candidate_is_kept(lab: InteractiveShell) -> None:
    run(lab, "%%optimize -q --baseline base\nwork(20000)\n")
    result, outputs, _ = run(lab, "%%optimize --candidate closed --budget 1 -o e\nfast(20000)\n")
    assert error_of(result) is None
    exp = lab.user_ns["e"]
    assert isinstance(exp, ExperimentResult)
    assert exp.verdict == "keep"
    assert exp.correctness == "equal"
    assert exp.speedup.floor > 1
    assert "KEEP: candidate 'closed' vs baseline 'base'" in outputs[0]["text/plain"]
    assert "<table " in outputs[0]["text/html"]
    stored = workbench.experiments()
    assert list(stored["verdict"]) == ["keep"]
    assert stored.loc[0, "baseline_run"] == 1 and stored.loc[0, "candidate_run"] == 2
    phases = workbench.workflow().frame().set_index("phase")["state"]
    assert phases["Optimize"] == "Completed" and phases["Validate"] == "Completed"


def test_slower_candidate_is_reverted(lab: InteractiveShell) -> None:
    run(lab, "%%optimize -q --baseline base\nwork(20000)\n")
    run(lab, "%%optimize -q --candidate slower --budget 1 -o e\nslow(20000)\n")
    exp = lab.user_ns["e"]
    assert exp.verdict == "revert"
    assert exp.reason.startswith("slower")


def test_a_broken_candidate_is_stated_in_the_postmortem_then_its_resolution(
    lab: InteractiveShell, isolated_cwd: Path
) -> None:
    run(lab, "%%optimize -q --baseline base\nwork(2000)\n")
    run(lab, "%%optimize -q --candidate wrong --budget 0.5 -o e\nwork(2001)\n")
    assert lab.user_ns["e"].verdict == "broken"
    result, outputs, _ = run(lab, "%optimize --postmortem pm.md")
    assert error_of(result) is None  # writing up a failed change is never refused
    text = (isolated_cwd / "pm.md").read_text()
    status = next(line for line in text.splitlines() if line.startswith("**Status**"))
    assert "Validate failed (broken: outputs differ" in status
    assert "Report: this postmortem (pm.md), which records the failure." in status
    assert "Blocked" not in text and "✅" not in text and "❌" not in text
    shown = outputs[0]["text/markdown"]  # the postmortem is shown in the cell
    assert shown.startswith("_Postmortem written to pm.md") and status in shown
    result, outputs, _ = run(lab, "%optimize --resolve Validate --note 'reverted the change'")
    assert error_of(result) is None
    assert "resolved: reverted the change" in outputs[0]["text/plain"]
    result, _, _ = run(lab, "%optimize --postmortem pm.md")
    assert error_of(result) is None
    status = next(
        line for line in (isolated_cwd / "pm.md").read_text().splitlines() if "**Status**" in line
    )
    assert "Validate completed" in status and "failed" not in status
    assert "resolved: reverted the change" in (isolated_cwd / "pm.md").read_text()


def test_named_variables_are_compared_with_check(lab: InteractiveShell) -> None:
    run(lab, "%%optimize -q --baseline base --check total\ntotal = work(3000)\n")
    run(lab, "%%optimize -q --candidate closed --budget 0.5 -o e\ntotal = fast(3000)\n")
    exp = lab.user_ns["e"]
    assert exp.checks == ("total",) and exp.correctness == "equal"
    result, _, _ = run(lab, "%%optimize -q --candidate nothing --budget 0.5\nother = 1\n")
    assert "--check names 'total', which the code did not set" in str(error_of(result))


def test_re_runs_happen_in_copies_of_the_namespace(lab: InteractiveShell) -> None:
    run(lab, "%%optimize -q --baseline base\nleft_by_baseline = work(2000)\n")
    del lab.user_ns["left_by_baseline"]
    run(lab, "%%optimize -q --candidate c --budget 0.5\nleft_by_candidate = fast(2000)\n")
    assert "left_by_baseline" not in lab.user_ns  # the baseline re-ran in copies
    assert lab.user_ns["left_by_candidate"] == 2000 * 1999 * 3999 // 6  # the profiled run


def test_redefined_function_keeps_its_recorded_definition_for_the_baseline(
    lab: InteractiveShell,
) -> None:
    run(lab, "%%optimize -q --baseline base\nwork(20000)\n")
    lab.run_cell("def work(n):\n    return (n - 1) * n * (2 * n - 1) // 6\n")
    run(lab, "%%optimize -q --candidate inplace --budget 1 -o e\nwork(20000)\n")
    exp = lab.user_ns["e"]
    assert any("'work' was redefined after baseline 'base'" in note for note in exp.notes)
    assert exp.verdict == "keep"  # the baseline still ran the old, slow work


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["%%optimize --candidate c\nwork(10)\n"], "no baseline recorded"),
        (
            [
                "%%optimize -q --baseline b\nwork(10)\n",
                "%%optimize --candidate c --against nope\nwork(10)\n",
            ],
            "no baseline named 'nope'",
        ),
        (
            [
                "%%optimize -q --baseline b\nwork(10)\n",
                "%%optimize -q --candidate c --budget 0.3\n[work(10)]\n",
            ],
            "the baseline's is a int, the candidate's a list",
        ),
        (["%%optimize -q --baseline b\n(i for i in range(3))\n"], "cannot be pickled"),
        (["%%optimize --candidate c --baseline b\nwork(10)\n"], "baseline with --against NAME"),
        (["%%optimize --candidate c --budget 0\nwork(10)\n"], "budget must be > 0"),
        (["%optimize --compare 1 2"], "no run '1'"),
        (["%optimize --resolve Bogus --note x"], "no workflow phase 'Bogus'"),
        (["%optimize --workflow --runs"], "give one of --workflow, --runs at a time"),
        (["%%optimize --compare 1 2\nwork(10)\n"], "--compare takes no code"),
        (["%optimize --note x --runs"], "--note goes only with --resolve"),
    ],
)
def test_bad_input_is_one_usage_error(
    lab: InteractiveShell, cells: list[str], message: str
) -> None:
    *setup, last = cells
    for cell in setup:
        run(lab, cell)
    result, _, stderr = run(lab, last)
    error = error_of(result)
    assert type(error).__name__ == "UsageError", error
    assert message in str(error)
    assert "Traceback" not in stderr


def test_corrupt_store_shows_the_report_then_says_so(
    lab: InteractiveShell, isolated_cwd: Path
) -> None:
    bad = isolated_cwd / "bad.sqlite"
    bad.write_bytes(b"garbage" * 200)
    result, outputs, _ = run(lab, f"%%optimize --store {bad} -o r\nwork(100)\n")
    assert len(outputs) == 3  # the report is shown: text, chart, text
    assert lab.user_ns["r"].calls > 100
    assert "not recorded" in str(error_of(result)) and "corrupt" in str(error_of(result))
    assert bad.read_bytes() == b"garbage" * 200


def test_a_failed_profile_stops_the_line_for_candidates(lab: InteractiveShell) -> None:
    run(lab, "%%optimize -q --baseline base\nwork(100)\n")
    result, _, _ = run(lab, "%%optimize -q\n1 / 0\n")
    assert isinstance(error_of(result), ZeroDivisionError)
    result, _, _ = run(lab, "%%optimize --candidate c\nfast(100)\n")
    assert "Optimize is blocked because Profile failed (run #2)" in str(error_of(result))
    run(lab, "%%optimize -q\nwork(100)\n")  # profiling again resolves it
    result, _, _ = run(lab, "%%optimize -q --candidate c --budget 0.3\nfast(100)\n")
    assert error_of(result) is None


def test_compare_line_magic_diffs_stored_runs(lab: InteractiveShell) -> None:
    run(lab, "%%optimize -q -l before\nwork(30000)\n")
    run(lab, "%%optimize -q -l after\nfast(30000)\n")
    _, outputs, _ = run(lab, "%optimize --compare before after -o c")
    comparison = lab.user_ns["c"]
    assert isinstance(comparison, CompareResult)
    functions = comparison.functions.set_index("name")
    assert functions.loc["<genexpr>", "status"] == "gone"
    assert functions.loc["fast", "status"] == "new"
    assert "default: no repeated runs" in comparison.noise.source
    assert "### Compare: A = #1" in outputs[0]["text/markdown"]


def test_store_option_alone_switches_the_session_store(
    lab: InteractiveShell, isolated_cwd: Path
) -> None:
    target = isolated_cwd / "elsewhere" / "runs.sqlite"
    run(lab, f"%optimize --store {target}")
    run(lab, "%%optimize -q\nwork(10)\n")
    assert len(workbench.runs(target)) == 1
    assert not (isolated_cwd / ".workbench").exists()


def test_help_says_that_candidates_re_run_the_code(lab: InteractiveShell) -> None:
    doc = lab.find_line_magic("optimize").__doc__ or ""
    for option in (
        "--baseline NAME",
        "--candidate NAME",
        "--check VAR",
        "--budget SECONDS",
        "--compare A B",
        "--postmortem FILE",
    ):
        assert option in doc
    assert "RE-RUN both the baseline's stored code and this cell" in " ".join(doc.split())
