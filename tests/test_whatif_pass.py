"""The what-if pass end to end, without IPython: workbench.profile(whatif=True), the
Report's table and section, --depth aggressive, the functions restored, the code's own
exception handed back, and the scanner's findings kept only where a hot spot confirms
them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import whatif_workloads as w

import workbench
from workbench.errors import ConfigError
from workbench.profiling.options import Options
from workbench.profiling.whatif import COLUMNS
from workbench.profiling.whatif_confirm import confirmed

ORIGINALS = {name: getattr(w, name) for name in ("slow_square", "squares", "lookup")}


def _namespace() -> dict[str, object]:
    return {"w": w, "VALUES": [i % 20 for i in range(600)]}


def test_the_pass_predicts_a_cache_where_calls_repeat() -> None:
    # the repeats are 97% of the run, so the predicted win, run / (run - repeats), moves a
    # lot with a few ms of load: 4-13x seen here with two busy cores beside it, 1.08x once
    # in a full CI run. Up to three tries; one must show the clear win.
    seen = []
    for _ in range(3):
        report = workbench.profile(
            "w.squares(VALUES)", _namespace(), whatif=True, use_pyproject=False
        )
        table = report.whatif
        assert isinstance(table, pd.DataFrame) and list(table.columns) == COLUMNS
        row = report.whatif_pass.lookup("memoize", "whatif_workloads.slow_square")  # type: ignore[union-attr]
        assert row is not None
        assert row["predicted_low"] <= row["predicted"] <= row["predicted_high"]
        seen.append(f"{row['predicted']:.2f}x: {row['evidence']}")
        if row["predicted"] > 2.0:
            break
    assert row["predicted"] > 2.0, seen
    assert bool(row["recommended"])
    assert row["try"] == "memoize:whatif_workloads.slow_square"
    assert "580 of 600 calls (97%) repeat" in row["evidence"]
    assert {name: getattr(w, name) for name in ORIGINALS} == ORIGINALS
    assert any(n.startswith("What-if pass: the code was re-run") for n in report.notes())


def test_the_report_shows_the_best_five_and_saves_the_table(tmp_path: Path) -> None:
    report = workbench.profile("w.squares(VALUES)", _namespace(), whatif=True, use_pyproject=False)
    text = report.to_text()
    assert "What if: predicted wins of specific changes" in text
    assert "memoize:whatif_workloads.slow_square" in text
    written = report.save(tmp_path / "out")
    saved = pd.read_csv(written["whatif"])
    assert list(saved.columns) == COLUMNS and len(saved) == len(report.whatif)  # type: ignore[arg-type]


def test_without_the_option_there_is_no_pass() -> None:
    report = workbench.profile("w.squares(VALUES)", _namespace(), use_pyproject=False)
    assert report.whatif is None and report.whatif_pass is None


def test_aggressive_depth_includes_the_pass() -> None:
    assert Options.build({"depth": "aggressive"}, use_pyproject=False).whatif is True
    assert Options.build({"depth": "balanced"}, use_pyproject=False).whatif is False
    with pytest.raises(ConfigError, match="whatif must be true or false"):
        Options(whatif="yes")  # type: ignore[arg-type]


def test_the_codes_exception_comes_back_unchanged_and_nothing_stays_patched() -> None:
    namespace = _namespace()
    namespace["boom"] = {"calls": 0}
    code = (
        "w.squares(VALUES)\n"
        "boom['calls'] += 1\n"
        "if boom['calls'] > 1:\n"
        "    raise RuntimeError('second run')\n"
    )
    report = workbench.profile(code, namespace, whatif=True, use_pyproject=False, on_error="return")
    assert report.complete  # the capture ran through; the pass raised
    assert report.whatif_pass is not None and report.whatif_pass.error == "RuntimeError: second run"
    with pytest.raises(RuntimeError, match="second run"):
        workbench.profile(code, namespace, whatif=True, use_pyproject=False)
    assert {name: getattr(w, name) for name in ORIGINALS} == ORIGINALS


def test_exceptions_that_steer_control_flow_are_predicted() -> None:
    namespace = {"w": w, "TABLE": {i: i for i in range(50)}, "KEYS": list(range(100)) * 30}
    report = workbench.profile(
        "w.lookups(TABLE, KEYS)", namespace, whatif=True, use_pyproject=False
    )
    row = report.whatif_pass.lookup("exceptions", "whatif_workloads.lookup")  # type: ignore[union-attr]
    assert row is not None and "KeyError 1,500x" in row["evidence"]
    assert row["try"] == ""  # only the user can write the check


def test_a_mutating_function_is_flagged_not_recommended() -> None:
    namespace = {"w": w}
    code = "bucket = []\nfor i in range(400):\n    w.fill(bucket, i % 4)\nlen(bucket)"
    report = workbench.profile(code, namespace, whatif=True, use_pyproject=False)
    table = report.whatif
    assert table is not None
    rows = table[(table["function"] == "whatif_workloads.fill") & (table["change"] == "memoize")]
    assert not rows.empty and not rows["recommended"].iloc[0]
    assert "NOT" in rows["evidence"].iloc[0]


SCANNED = """\
import numpy as np

def setup(m):
    return float(np.sum(m @ m))

def hot(n):
    total = 0.0
    for k in range(n):
        total += k * 0.5
    return total

start = setup(np.ones((3, 3)))
hot(300_000) + start
"""


def test_scanner_findings_without_a_hot_spot_are_left_out() -> None:
    report = workbench.profile(SCANNED, {}, use_pyproject=False)
    frame = report.recommendations
    assert frame is not None
    assert "setup" not in set(frame["function"])
    assert "hot" in set(frame["function"])
    assert any("had no measured hot spot behind them" in n for n in report.notes())


def test_confirmed_keeps_findings_inside_a_function_holding_enough_time() -> None:
    stats = {
        ("cell", 1, "<module>"): (1, 1, 0.5, 1.0, {}),
        ("cell", 3, "hot"): (10, 10, 0.4, 0.45, {("cell", 1, "<module>"): (10, 10, 0.4, 0.45)}),
        ("cell", 9, "cold"): (1, 1, 0.001, 0.001, {("cell", 1, "<module>"): (1, 1, 0.001, 0.001)}),
    }
    frame = pd.DataFrame(
        {"function": ["hot", "cold", "<module>"], "runs": [10, 1, 1], "code": ["a", "b", "c"]}
    )
    kept, note = confirmed(frame, "cell", stats, 1.0)
    assert list(kept["code"]) == ["a", "c"]
    assert note is not None and "2 of 3 patterns" in note


def test_with_sampled_counts_the_pass_still_predicts_but_not_inline() -> None:
    report = workbench.profile(
        "w.squares(VALUES * 3)", _namespace(), whatif=True, mode="sample", use_pyproject=False
    )
    assert report.whatif_pass is not None
    assert any("inline: not predicted" in n for n in report.whatif_pass.notes)


CLOSURES = """\
def slow(n):
    return sum(i * i for i in range(n))

def slower(n):
    return sum(i * i * i for i in range(n))

HELD = [slow, slower]  # called through the list too: references no probe replaces

def drive():
    total = 0
    for k in range(40):
        total += slow(300) + slower(300)
        for f in HELD:
            total += f(300)
    return total
"""


def test_calls_the_probes_missed_are_one_note_naming_each_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # arc-dsl calls its primitives through closures (rbind, compose): a dozen functions
    # were each one note; now they are one, with each function's counts.
    (tmp_path / "wbheld.py").write_text(CLOSURES)
    monkeypatch.syspath_prepend(str(tmp_path))
    import wbheld

    report = workbench.profile(
        "wbheld.drive()", {"wbheld": wbheld}, whatif=True, use_pyproject=False
    )
    notes = [n for n in report.notes() if "calls cProfile counted" in n]
    assert len(notes) == 1, report.notes()
    assert "for 2 function(s)" in notes[0]
    assert "wbheld.slow 40 of 80" in notes[0] and "wbheld.slower 40 of 80" in notes[0]


def test_code_with_no_function_of_the_users_says_why_nothing_was_predicted() -> None:
    # stdlib-work's method_heavy: the time is in fractions and _pydecimal, the user's own
    # functions run once; the note said only "no function of yours to measure" and the
    # empty table "all predictions are in report.whatif" (there were none).
    code = "import fractions\nsum(fractions.Fraction(i, 7) for i in range(300))"
    report = workbench.profile(code, {}, whatif=True, use_pyproject=False)
    assert report.whatif is not None and report.whatif.empty
    (note,) = [n for n in report.notes() if n.startswith("What-if pass: none of your functions")]
    assert "not the standard library's" in note
    text = report.to_text()
    assert "Nothing was predicted: the pass measured none of your functions" in text
    assert "all predictions are in report.whatif" not in text
