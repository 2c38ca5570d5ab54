"""The core session without IPython: plain values in, finished results out; its hooks;
the configuration read once per run; results that do not change afterwards."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Tick

import workbench
from workbench.errors import ExperimentError, StoreError, WorkflowBlockedError
from workbench.experiment.measure import Plan
from workbench.experiment.session import PythonCompiler, Session
from workbench.profiling import config
from workbench.profiling.options import Options
from workbench.store.db import RunStore

WORK = "def work(n):\n    return sum(i * i for i in range(n))\n"


@pytest.fixture
def session() -> Iterator[Session]:
    namespace: dict[str, object] = {}
    exec(compile(WORK, "<work>", "exec"), namespace)
    opened = Session(namespace, call_cost_s=1e-7)
    yield opened
    opened.close()


def test_profile_runs_code_in_the_namespace_and_records_it(session: Session) -> None:
    outcome = session.profile("total = work(100)\ntotal", session.options({}, label="w"))
    assert outcome.error is None and outcome.problem is None and outcome.run_id == 1
    assert session.namespace["total"] == outcome.report.result == sum(i * i for i in range(100))
    assert outcome.report.label == "w"
    with RunStore() as store:
        assert store.get_run(1).code == "total = work(100)\ntotal"
    assert workbench.workflow().frame().set_index("phase").loc["Analyze", "state"] == "Completed"


def test_a_callable_is_profiled_and_its_exception_handed_back(session: Session) -> None:
    def fails() -> None:
        raise ValueError("boom")

    outcome = session.profile(fails, session.options({}), record=False)
    assert isinstance(outcome.error, ValueError) and outcome.run_id is None
    assert not outcome.report.complete and outcome.report.error == "ValueError: boom"


def test_results_do_not_change_after_they_are_returned(session: Session) -> None:
    report = session.profile("work(10)", session.options({}), record=False).report
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.label = "other"  # type: ignore[misc]
    assert report.document is report.document  # built once


class BinaryTick(Tick):
    """Each reading 1/1024 s later: differences of readings are exact in binary."""

    def __call__(self) -> float:
        self.readings += 1
        return self.readings / 1024


def test_the_candidate_runs_inside_around_and_each_round_is_reported(
    isolated_cwd: Path,
) -> None:
    namespace: dict[str, object] = {}
    exec(compile(WORK, "<work>", "exec"), namespace)
    entered: list[str] = []
    rounds: list[tuple[int, int]] = []

    @contextlib.contextmanager
    def around() -> Iterator[None]:
        entered.append("in")
        yield

    session = Session(
        namespace, clock=BinaryTick(), call_cost_s=1e-7, on_round=lambda *r: rounds.append(r)
    )
    try:
        session.baseline("base", "work(50)", session.options({}))
        candidacy = session.candidate(
            "c", "work(50)", session.options({}), plan=Plan(budget_s=1.0), around=around
        )
    finally:
        session.close()
    result = candidacy.result
    assert result is not None and candidacy.error is None
    # Every run of either version takes two readings of the fake clock: the same time.
    assert result.timings.number_b == result.timings.number_c == 21  # 20 ms / (1/1024 s)
    assert result.verdict == "revert" and result.speedup.point == 1.0
    n = result.speedup.rounds
    assert rounds == [(i, n) for i in range(1, n + 1)]
    assert entered == ["in"] * (1 + 1 + n)  # the profiled run, the first run, n rounds
    assert (result.experiment_id, result.baseline_run, result.candidate_run) == (1, 1, 2)
    assert result.comparison is not None and result.candidate_report is candidacy.report


def test_bad_candidate_input_raises_before_anything_runs(session: Session) -> None:
    with pytest.raises(StoreError, match="no baseline recorded"):
        session.candidate("c", "work(5)", session.options({}))
    session.baseline("b", "work(5)", session.options({}))
    with pytest.raises(ExperimentError, match="cannot parse the code"):
        session.candidate("c", "work(5", session.options({}))
    session.profile("1 / 0", session.options({}))
    runs = len(workbench.runs())
    with pytest.raises(WorkflowBlockedError, match="Optimize is blocked because Profile failed"):
        session.candidate("c", "work(5)", session.options({}))
    assert len(workbench.runs()) == runs


def test_pyproject_is_read_once_per_run(
    session: Session, isolated_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_cwd / "pyproject.toml").write_text(
        '[tool.workbench]\ntop = 2\nstore = "elsewhere.sqlite"\n'
        '[tool.workbench.categories]\nSquares = "func:genexpr"\n'
    )
    reads: list[Path] = []
    real = config.read_toml

    def counted(path: Path) -> dict[str, object]:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(config, "read_toml", counted)
    outcome = session.profile("work(30)", session.options({}))
    assert reads == [isolated_cwd / "pyproject.toml"]
    assert outcome.report.top_n == 2 and "Squares" in set(outcome.report.categories["category"])
    assert (isolated_cwd / "elsewhere.sqlite").is_file()


def test_options_only_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_files(path: Path) -> dict[str, object]:
        raise AssertionError(f"read {path}")

    monkeypatch.setattr(config, "read_toml", no_files)
    assert Options(top=3, lines=1).wants_lines
    with pytest.raises(workbench.ConfigError, match="top must be"):
        Options(top=-1)


def test_a_script_compiles_under_its_own_file_name(tmp_path: Path) -> None:
    compiler = PythonCompiler(str(tmp_path / "job.py"))
    cell = compiler.parse("x = 1\nx + 1\n")
    assert cell.filename == str(tmp_path / "job.py") and cell.has_result
    namespace: dict[str, object] = {}
    assert [step() for step in cell.steps(namespace)] == [None, 2]
