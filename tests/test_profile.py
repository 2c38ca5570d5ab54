"""workbench.profile() without IPython: categories, exact counts, overhead, errors."""

from __future__ import annotations

import marshal
import math
import pstats
import sys
from pathlib import Path

import pytest
import workloads
from conftest import Tick

import workbench
from workbench.errors import ConfigError, ProfileError
from workbench.profiling.capture import measure_call_cost

WORKLOADS = Path(workloads.__file__).name


def test_known_call_counts_are_exact(tick: Tick) -> None:
    report = workbench.profile(workloads.top, timer=tick, call_cost_s=0.0)
    calls = report.functions.set_index("name")["ncalls"]
    assert calls["top"] == 1
    assert calls["mid"] == 2
    assert calls["leaf"] == 6
    assert report.calls == 9


def test_self_times_partition_the_profiled_total(tick: Tick) -> None:
    report = workbench.profile(workloads.top, timer=tick, call_cost_s=0.0)
    # Every timer reading is 1 ms: leaf holds 6 ticks, mid 2*4, top 3 (see the tick fixture).
    selfs = report.functions.set_index("name")["tottime"]
    assert selfs["leaf"] == pytest.approx(0.006)
    assert selfs["mid"] == pytest.approx(0.008)
    assert selfs["top"] == pytest.approx(0.003)
    assert report.profiled_s == pytest.approx(0.017)
    assert report.categories["self_s"].sum() == pytest.approx(report.profiled_s, rel=1e-12)


def test_user_rule_claims_functions_before_builtins(tick: Tick) -> None:
    report = workbench.profile(
        workloads.top, category=["Leaf=func:^leaf$", f"Work=*/{WORKLOADS}"], timer=tick
    )
    by_name = report.functions.set_index("name")
    assert by_name.loc["leaf", "category"] == "Leaf"
    assert by_name.loc["mid", "category"] == "Work"
    assert by_name.loc["leaf", "rule"] == "Leaf = function '^leaf$' (-c)"
    cats = report.categories.set_index("category")
    assert cats.loc["Leaf", "calls"] == 6
    assert cats.loc["Work", "calls"] == 3
    assert cats.loc["Leaf", "self_s"] == pytest.approx(0.006)


def test_first_matching_rule_wins_in_the_order_given(tick: Tick) -> None:
    report = workbench.profile(
        workloads.top, category=[f"A=*/{WORKLOADS}", "B=func:^leaf$"], timer=tick
    )
    assert set(report.categories["category"]) == {"A"}


def test_module_prefix_rule_matches_the_module_and_its_children() -> None:
    report = workbench.profile(lambda: workloads.serialise(20), category=["JSON=module:json"])
    by_name = report.functions.set_index("name")
    assert by_name.loc["dumps", "category"] == "JSON"
    assert by_name.loc["encode", "category"] == "JSON"  # json.encoder
    assert by_name.loc["serialise", "category"] == "user:workloads"  # tests/workloads.py


def test_builtin_categories_for_stdlib_library_native_and_cell_code() -> None:
    import numpy as np

    source = "import json\nimport numpy as np\ndef f(a):\n    return np.mean(a) + a.sum()\nx = f(np.arange(10.0)); json.dumps([1])\n"
    report = workbench.profile(source, {"np": np})
    by_name = report.functions.set_index("name")
    assert by_name.loc["f", "category"] == "user:<cell>"
    assert by_name.loc["dumps", "category"] == "stdlib"
    assert by_name.loc["mean", "category"] == "library:numpy"
    native = report.functions[report.functions["native"]]
    sums = native[native["name"] == "<method 'sum' of 'numpy.ndarray' objects>"]
    assert list(sums["category"]) == ["native"]
    assert list(sums["owner"]) == ["numpy"]


def test_every_function_has_exactly_one_category_and_a_rule() -> None:
    report = workbench.profile(lambda: workloads.serialise(50), category=["Leaf=func:leaf"])
    assert report.functions["category"].notna().all()
    assert (report.functions["rule"].str.len() > 0).all()
    assert report.categories["functions"].sum() == len(report.functions)
    assert report.categories["calls"].sum() == report.calls


def test_inclusive_time_is_at_least_self_time_and_at_most_the_total(tick: Tick) -> None:
    report = workbench.profile(workloads.top, category=["Leaf=func:^leaf$"], timer=tick)
    cats = report.categories.set_index("category")
    # user:workloads (top, mid) is entered once, at the root, and holds everything.
    assert cats.loc["user:workloads", "inclusive_s"] == pytest.approx(report.profiled_s)
    assert cats.loc["Leaf", "inclusive_s"] == pytest.approx(0.006)
    assert (report.categories["inclusive_s"] >= report.categories["self_s"] - 1e-12).all()


def test_amdahl_wins_follow_the_formula(tick: Tick) -> None:
    report = workbench.profile(
        workloads.top, category=["Leaf=func:^leaf$"], timer=tick, call_cost_s=0.0
    )
    wins = report.wins.set_index("category")
    share = 0.006 / 0.017
    assert wins.loc["Leaf", "cut_50"] == pytest.approx(1 / (1 - share * 0.5))
    assert wins.loc["Leaf", "cut_100"] == pytest.approx(1 / (1 - share))
    only = workbench.profile(workloads.top, category=["All=func:."], timer=Tick())
    assert math.isinf(only.wins.set_index("category").loc["All", "cut_100"])


def test_code_runs_exactly_once_by_default() -> None:
    ns: dict[str, object] = {"runs": []}
    workbench.profile("runs.append(1)", ns)
    assert ns["runs"] == [1]


def test_overhead_flag_runs_a_plain_pass_and_labels_it_measured() -> None:
    ns: dict[str, object] = {"runs": []}
    report = workbench.profile("runs.append(1)\nsum(range(1000))", ns, overhead=True)
    assert ns["runs"] == [1, 1]
    assert report.overhead.method == "measured"
    assert "measured" in report.to_text()


def test_overhead_is_estimated_and_labelled_as_an_estimate_otherwise(tick: Tick) -> None:
    report = workbench.profile(workloads.top, timer=tick, clock=Tick(), call_cost_s=0.0001)
    assert report.overhead.method == "estimated"
    assert report.overhead.per_call_s == 0.0001
    assert report.overhead.profiled_wall_s == 0.001  # two readings of the fake clock
    assert report.calls == 9
    assert report.overhead.plain_s == max(0.001 - 9 * 0.0001, 0.0)
    assert "estimate: 9 calls x 100000 ns given per call" in report.overhead.sentence()


class Script:
    """A fake clock that returns the given readings in order."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0)


def test_call_cost_is_the_best_paired_difference_per_call() -> None:
    # Per repeat: plain start and end, then profiled start and end.
    clock = Script(0.0, 1.0, 2.0, 3.25, 4.0, 5.0, 6.0, 7.5, 8.0, 9.0, 10.0, 11.125)
    assert measure_call_cost(calls=1000, repeats=3, clock=clock) == 0.125 / 1000
    assert clock.readings == []
    slower_plain = Script(0.0, 2.0, 2.0, 3.0)  # profiled faster than plain: no cost, not negative
    assert measure_call_cost(calls=10, repeats=1, clock=slower_plain) == 0.0


def test_exception_is_reraised_unchanged_and_no_profiler_is_left() -> None:
    error = ValueError("boom")

    def fails() -> None:
        workloads.top()
        raise error

    with pytest.raises(ValueError) as caught:
        workbench.profile(fails)
    assert caught.value is error
    assert sys.getprofile() is None


def test_exception_can_be_kept_on_an_incomplete_report() -> None:
    def fails() -> None:
        workloads.top()
        raise KeyError("k")

    report = workbench.profile(fails, on_error="return")
    assert not report.complete
    assert report.error == "KeyError: 'k'"
    assert "INCOMPLETE" in report.to_markdown()
    assert report.functions.set_index("name").loc["leaf", "ncalls"] == 6


def test_keyboard_interrupt_stops_the_run_and_is_reraised() -> None:
    def interrupted() -> None:
        workloads.top()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        workbench.profile(interrupted)
    assert sys.getprofile() is None


def test_empty_code_gives_a_report_that_says_so_without_nan() -> None:
    report = workbench.profile("", {})
    assert report.empty
    assert "nothing measurable ran" in report.headline()
    for text in (report.to_text(), report.to_markdown(), report.to_html(chart="none")):
        assert "nan" not in text.lower().replace("nanoseconds", "")
    assert report.categories.empty
    assert list(report.categories.columns)[:7] == [
        "category",
        "self_s",
        "inclusive_s",
        "pct",
        "calls",
        "functions",
        "est_overhead_s",
    ]


def test_all_zero_times_give_zero_shares_not_nan() -> None:
    report = workbench.profile(workloads.top, timer=lambda: 0.0)
    assert report.profiled_s == 0
    assert not report.categories.isna().any().any()
    assert not report.wins.isna().any().any()


def test_trailing_expression_is_the_result() -> None:
    report = workbench.profile("x = 20\nx + 1", {})
    assert report.result == 21


def test_another_active_profiler_is_refused_and_left_alone() -> None:
    def tracer(frame: object, event: str, arg: object) -> None:
        return None

    sys.setprofile(tracer)
    try:
        with pytest.raises(ProfileError, match="another profiler is already active"):
            workbench.profile(workloads.top)
        assert sys.getprofile() is tracer
    finally:
        sys.setprofile(None)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("nolabel", "has no '='"),
        ("=*/x.py", "has no label"),
        ("X=func:(", "not a valid regex"),
        ("X=hello world", "cannot tell what kind of pattern"),
        ("X=", "empty pattern"),
    ],
)
def test_bad_rules_fail_with_one_clear_message(rule: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        workbench.profile(workloads.top, category=[rule])


def test_rules_file_and_pyproject_apply_after_line_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[categories]\nFromFile = ["func:^mid$", "func:^leaf$"]\n')
    (tmp_path / "pyproject.toml").write_text(
        '[tool.workbench.categories]\nFromPyproject = "func:^(top|mid|leaf)$"\n'
    )
    report = workbench.profile(
        workloads.top, category=["FromLine=func:^leaf$"], rules=rules, project_dir=tmp_path
    )
    by_name = report.functions.set_index("name")
    assert by_name.loc["leaf", "category"] == "FromLine"
    assert by_name.loc["mid", "category"] == "FromFile"
    assert by_name.loc["top", "category"] == "FromPyproject"
    assert list(report.rules[:4]) == [
        "FromLine = function '^leaf$' (-c)",
        "FromFile = function '^mid$' (rules.toml)",
        "FromFile = function '^leaf$' (rules.toml)",
        "FromPyproject = function '^(top|mid|leaf)$' (pyproject.toml)",
    ]


def test_pyproject_is_found_in_a_parent_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.workbench.categories]\nP = "func:leaf"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    report = workbench.profile(workloads.top, project_dir=nested)
    assert "P" in set(report.categories["category"])
    ignored = workbench.profile(workloads.top, project_dir=nested, use_pyproject=False)
    assert "P" not in set(ignored.categories["category"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[categories\nX = 1", "not valid TOML"),
        ("[other]\nX = 'a'", "no \\[categories\\] table"),
        ("[categories]\nX = 3", "must be a pattern string or a list"),
    ],
)
def test_malformed_rules_file_fails_clearly(tmp_path: Path, content: str, message: str) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(content)
    with pytest.raises(ConfigError, match=message):
        workbench.profile(workloads.top, rules=rules)


def test_missing_rules_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read rules file"):
        workbench.profile(workloads.top, rules=tmp_path / "nope.toml")


def test_top_n_limits_functions_per_category() -> None:
    report = workbench.profile(lambda: workloads.serialise(50), top=2)
    assert report.top.groupby("category").size().max() <= 2
    assert list(report.top["rank"])[:2] == [1, 2]
    with pytest.raises(ConfigError, match="top must be"):
        workbench.profile(workloads.top, top=-1)


def test_renderings_carry_the_table_and_the_chart() -> None:
    report = workbench.profile(lambda: workloads.serialise(50), category=["Leaf=func:leaf"])
    bundle = report._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/markdown", "text/plain"}
    assert "<table " in bundle["text/html"]
    assert "plotly-graph-div" not in bundle["text/html"]  # "mime": the chart is its own output
    html = report.to_html(chart="inline")
    assert "<table " in html and "plotly-graph-div" in html and "Plotly.newPlot" in html
    assert len(html) > 1_000_000  # plotly.js inline: shows offline and after reopening
    assert "cdn.plot.ly" in report.to_html(chart="cdn")
    assert "plotly-graph-div" not in report.to_html(chart="none")
    assert (
        "| Category | % corrected | of it C | % as profiled | Self (s) |" in bundle["text/markdown"]
    )


def test_save_writes_every_file_atomically_and_the_prof_loads_in_pstats(tmp_path: Path) -> None:
    report = workbench.profile(workloads.top)
    written = report.save(tmp_path / "out")
    assert {p.name for p in written.values()} == {
        "report.md",
        "report.html",
        "categories.csv",
        "functions.csv",
        "top.csv",
        "wins.csv",
        "native.csv",
        "profile.speedscope.json",
        "profile.prof",
    }
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in written.values()
    )  # no temporary files left behind
    stats = pstats.Stats(str(written["pstats"]))
    assert stats.total_calls == 9  # type: ignore[attr-defined]
    assert marshal.loads(written["pstats"].read_bytes()) == report.stats


def test_target_must_be_code_or_callable() -> None:
    with pytest.raises(ConfigError, match="needs a callable or source code"):
        workbench.profile(42)  # type: ignore[arg-type]
