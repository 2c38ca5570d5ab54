"""Per-category changes from an experiment's interleaved rounds, each round sampled."""

from __future__ import annotations

import math

import pytest

from workbench.experiment.measure import Plan
from workbench.experiment.session import Session
from workbench.profiling.round_shares import CategoryChange, category_changes, sign_interval


def test_the_sign_test_interval_is_the_order_statistics_it_should_be() -> None:
    values = [float(v) for v in range(1, 21)]  # 20 rounds
    # P(Binomial(20, 1/2) <= 3) = 1351 / 2**20 <= 0.005 < P(... <= 4): the 4th and 17th
    assert sum(math.comb(20, i) for i in range(4)) / 2**20 <= 0.005
    assert sum(math.comb(20, i) for i in range(5)) / 2**20 > 0.005
    assert sign_interval(values, 0.99) == (4.0, 17.0)
    assert sign_interval(values[:5], 0.99) is None  # too few rounds
    assert sign_interval(values[:7], 0.99) is None  # 1/2**7 > 0.005: no interval at 99%
    assert sign_interval(values[:8], 0.99) == (1.0, 8.0)  # 1/2**8 <= 0.005: the extremes


def test_a_category_is_faster_only_where_its_interval_leaves_out_zero() -> None:
    base = [{"DSL": 1.0, "rest": 0.5}] * 12
    cand = [{"DSL": 0.5 + 0.01 * i, "rest": 0.5 + (0.02 if i % 2 else -0.02)} for i in range(12)]
    changes = category_changes(base, cand, 0.99)
    assert changes["DSL"].status == "faster"
    assert changes["DSL"].high_s < 0
    assert changes["rest"].status == "no clear change"
    assert changes["rest"].low_s < 0 < changes["rest"].high_s
    assert category_changes(base[:3], cand[:3]) == {}


def test_a_new_category_counts_from_zero() -> None:
    changes = category_changes([{}] * 10, [{"new": 0.2}] * 10)
    assert changes["new"] == CategoryChange(0.2, 0.2, 0.2, 10, 0.99)
    assert changes["new"].status == "slower"


def test_an_experiment_gives_each_category_an_interval_from_its_rounds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code_a = "def leaf(x):\n    return x + 1\nsum(leaf(i) for i in range(20000))\n"
    code_b = "def leaf(x):\n    return x + 1\nsum(leaf(i) for i in range(5000))\n"
    session = Session({}, store=tmp_path / "runs.sqlite", call_cost_s=1e-7)
    options = session.options({}, categories=["Leaf=func:^leaf$"], use_pyproject=False)
    assert session.baseline("base", code_a, options).error is None
    plan = Plan(budget_s=4, min_rounds=10, max_rounds=12, min_sample_s=0.01)
    result = session.candidate("less", code_b, options, plan=plan).result
    assert result is not None
    leaf = result.category_changes["Leaf"]
    assert leaf.rounds >= 10
    comparison = result.comparison
    assert comparison is not None and comparison.rounds == leaf.rounds
    rows = comparison.categories.set_index("category")
    assert rows.loc["Leaf", "round_change_s"] == pytest.approx(leaf.median_s)
    assert rows.loc["Leaf", "status"] == leaf.status
    assert set(rows["status"]) <= {
        "faster",
        "slower",
        "no clear change",
        "new",
        "gone",
        "within noise",
        "more time",
        "less time",
    }
    assert "interleaved rounds was sampled" in comparison.to_markdown()
