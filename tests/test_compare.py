"""Comparing two stored runs honestly: across profilers by share only, words only where
an interval backs them, and no inf or NaN in any table."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import workloads

import workbench
from workbench.experiment.compare import SHARE_COLUMNS, compare_stored, measured_noise
from workbench.experiment.session import Session
from workbench.store.db import RunStore

CODE = (
    "import workloads\n"
    "def leaf_only(n):\n"
    "    return sum(workloads.leaf(i) for i in range(n))\n"
    "leaf_only(200_000)\n"
)


def _record(session: Session, code: str, mode: str, label: str) -> None:
    options = session.options({"mode": mode}, categories=["Leaf=func:^leaf$"], label=label)
    profiled = session.profile(code, options)
    assert profiled.error is None and profiled.run_id is not None


def _no_inf_or_nan(frame: pd.DataFrame) -> None:
    for value in frame.to_numpy().ravel():
        if isinstance(value, float):
            assert math.isfinite(value), frame


def test_runs_of_two_profilers_are_compared_by_share_only_and_say_so(tmp_path: Path) -> None:
    session = Session({"workloads": workloads}, store=tmp_path / "runs.sqlite", call_cost_s=1e-7)
    _record(session, CODE, "cprofile", "traced")
    _record(session, CODE, "sample", "sampled")
    with RunStore(tmp_path / "runs.sqlite") as store:
        result = compare_stored(store, "traced", "sampled")
    assert not result.same_mode
    assert list(result.categories.columns) == SHARE_COLUMNS
    assert "profiled differently" in result.headline()
    assert "faster" not in result.headline() and "slower" not in result.headline()
    assert result.change_pct is None
    shares = result.categories.set_index("category")
    assert shares["share_a"].sum() == 100.0 or abs(shares["share_a"].sum() - 100.0) < 1e-6
    text = result.to_markdown()
    assert "shares only" in text and "Calls" not in text
    _no_inf_or_nan(result.categories)
    _no_inf_or_nan(result.functions)


def test_a_category_new_in_the_candidate_is_new_not_inf(tmp_path: Path) -> None:
    session = Session({"workloads": workloads}, store=tmp_path / "runs.sqlite", call_cost_s=1e-7)
    _record(session, "sum(range(10000))\n", "cprofile", "before")
    _record(session, CODE, "cprofile", "after")
    with RunStore(tmp_path / "runs.sqlite") as store:
        result = compare_stored(store, "before", "after")
    assert result.same_mode
    rows = result.categories.set_index("category")
    assert rows.loc["Leaf", "status"] == "new"
    assert rows.loc["Leaf", "self_change_pct"] is None
    _no_inf_or_nan(result.categories)
    _no_inf_or_nan(result.functions)
    assert "inf" not in result.to_markdown().lower().replace("info", "")


def test_single_runs_say_more_or_less_time_never_faster_or_slower(tmp_path: Path) -> None:
    session = Session({"workloads": workloads}, store=tmp_path / "runs.sqlite", call_cost_s=1e-7)
    _record(session, "sum(workloads.leaf(i) for i in range(2000))\n", "cprofile", "small")
    _record(session, CODE, "cprofile", "big")
    with RunStore(tmp_path / "runs.sqlite") as store:
        result = compare_stored(store, "small", "big")
    assert not measured_noise(result.noise)  # no repeated timings: the default noise
    statuses = set(result.categories["status"]) | set(result.functions["status"])
    assert statuses <= {"new", "gone", "within noise", "more time", "less time"}
    assert "more time" in result.headline()


def test_the_sampled_report_names_its_counts_samples_and_states_its_cost() -> None:
    report = workbench.profile(lambda: workloads.mid(200_000), mode="sample")
    markdown = report.to_markdown()
    assert "| Samples |" in markdown and "| Calls |" not in markdown
    assert report.overhead.method == "sampled"
    assert report.overhead.samples > 0
    sentence = report.overhead.sentence()
    assert f"{report.overhead.samples:,} samples" in sentence
    assert "held the interpreter" in sentence
