"""The stop-the-line workflow, and the noise threshold of comparisons."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench
from workbench import machine
from workbench.errors import ConfigError, WorkflowBlockedError
from workbench.experiment.compare import compare_stored, robust_spread_pct
from workbench.experiment.workflow import PHASES, Workflow
from workbench.store.db import ExperimentRow, RunStore


def test_phases_start_not_started_and_survive_reopening(isolated_cwd: Path) -> None:
    with RunStore() as store:
        flow = Workflow(store)
        assert [p.state for p in flow.status().phases] == ["NotStarted"] * 5
        flow.start("Optimize", "trying")
    with RunStore() as store:
        states = Workflow(store).status().frame().set_index("phase")["state"]
    assert states["Optimize"] == "InProgress"
    assert list(states.index) == list(PHASES)


def test_a_failed_phase_blocks_only_later_phases_until_resolved(isolated_cwd: Path) -> None:
    with RunStore() as store:
        flow = Workflow(store)
        with store.write() as writer:
            writer.add_phase_event("default", "Optimize", "Failed", "candidate raised", run_id=None)
        flow.require("Profile")
        flow.require("Optimize")  # the failed phase itself may run again
        with pytest.raises(
            WorkflowBlockedError,
            match="Validate is blocked because Optimize failed: candidate raised",
        ):
            flow.require("Validate")
        assert [phase for phase, _ in flow.status().blocked()] == ["Validate", "Report"]
        with pytest.raises(ConfigError, match="say how Optimize was resolved"):
            flow.resolved("optimize", "  ")
        flow.resolved("optimize", "fixed the import")
        flow.require("Report")
        status = {p.phase: p for p in flow.status().phases}["Optimize"]
        assert status.reason == "resolved: fixed the import (was: candidate raised)"
        with pytest.raises(ConfigError, match="is Completed, not Failed"):
            flow.resolved("Optimize", "again")
        flow.reset()
        assert {p.state for p in flow.status().phases} == {"NotStarted"}


def test_workflows_are_separate_by_name(isolated_cwd: Path) -> None:
    with RunStore() as store, store.write() as writer:
        writer.add_phase_event("phase4", "Profile", "Failed", "boom")
    assert workbench.workflow(name="phase4").blocked()
    assert not workbench.workflow().blocked()


def test_robust_spread_ignores_one_outlier() -> None:
    assert robust_spread_pct([1.0, 1.0]) is None
    spread = robust_spread_pct([1.0, 1.01, 0.99, 1.0, 5.0])
    assert spread is not None and spread < 2.0


def test_compare_uses_the_noise_of_the_experiment_that_timed_the_runs(isolated_cwd: Path) -> None:
    env = machine.current_environment(device="d")
    report = workbench.profile("sum(i for i in range(3000))", {}, call_cost_s=1e-7)
    times = [1.0, 1.02, 0.98, 1.01, 0.99]
    with RunStore() as store:
        with store.write() as writer:
            a = writer.add_run(report, env=env)
            b = writer.add_run(report, env=env)
        assert "default" in compare_stored(store, a, b).noise.source
        with store.write() as writer:
            writer.add_experiment(
                ExperimentRow(
                    "c",
                    "base",
                    a,
                    b,
                    "revert",
                    "r",
                    1.0,
                    0.9,
                    1.1,
                    0.99,
                    1.0,
                    1.0,
                    5,
                    "equal",
                    {"baseline_times": times, "candidate_times": times},
                )
            )
        result = compare_stored(store, a, b)
    assert result.noise.source == "2 x robust spread of experiment 1 (5 timed runs)"
    assert result.noise.pct == pytest.approx(2 * 100 * 1.4826 * 0.01)
    assert set(result.categories["status"]) == {"within noise"}
