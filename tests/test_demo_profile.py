"""The embedded demo profiled end to end: the magic with the shipped rules, and the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench.cli import demo_rules, main
from workbench.route import Router

REPO = Path(__file__).resolve().parents[1]


def test_shipped_rules_are_the_data_file() -> None:
    assert demo_rules().read_text() == (REPO / "data" / "demo_categories.toml").read_text()


def test_magic_on_the_demo_splits_dsl_from_framework(shell: InteractiveShell) -> None:
    shell.run_cell("from workbench.demo import run_demo")
    with capture_output() as cap:
        shell.run_cell(f"%%optimize -o r --rules {demo_rules()}\nrun_demo(n_tasks=3)\n")
    assert len(cap.outputs) == 3  # the tables, the chart, the rest
    report = shell.user_ns["r"]
    cats = report.categories.set_index("category")
    assert cats.loc["DSL", "pct"] > 10
    assert cats.loc["Framework", "pct"] > 10
    assert "dsl.py" in cats.loc["DSL", "rule"]
    assert report.categories["self_s"].sum() == pytest.approx(report.profiled_s, rel=0.01)
    assert report.result.tasks_run == 3


def test_cli_demo_writes_the_report_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--tasks", "2", "--chart", "none"]
    assert main([*args, "--calibrate-budget", "2", "--budget", "3"]) == 0
    markdown = (out / "report.md").read_text()
    assert "| DSL |" in markdown and "| Framework |" in markdown
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    captured = capsys.readouterr()
    printed = captured.out
    assert re.search(r"^demo: \d/2 ARC tasks solved", printed, re.M)
    assert str(out.resolve()) in printed
    # the whole loop: calibrated profile, routing on it, a verdict, the postmortem
    assert Router(out / "machine-profile.json").policy == "calibrated"
    assert "calibrated thresholds for sum" in printed
    assert re.search(r"<ExperimentResult (KEEP|REVERT)", printed)
    # the change tried is the one the what-if pass predicted best, with its prediction
    tried = re.search(r"--try (memoize:\S+), the change the what-if pass predicts best", printed)
    assert tried is not None
    assert re.search(r"^Predicted [\d.]+x to ([\d.]+|inf)x for memoize on ", printed, re.M)
    assert (out / "whatif.csv").exists()
    post = (out / "postmortem.md").read_text()
    assert f"`{tried.group(1)}`" in post and "Predicted against measured" in post
    assert "postmortem.md" in printed
    # One status line; a reverted candidate is stated in it, never "Completed" and "Blocked".
    (status,) = [line for line in post.splitlines() if line.startswith("**Status**")]
    assert "Report: this postmortem (postmortem.md)" in status and "Blocked" not in post
    if "<ExperimentResult REVERT" in printed:
        assert "Validate failed (revert: " in status and "records the failure" in status
    assert "**Runs of**: workbench demo" in post
    # Progress bars on stderr (tqdm's text bars): calibration and the candidate's rounds.
    assert (
        "calibrating:" in captured.err and f"candidate '{tried.group(1)}': rounds:" in captured.err
    )


def test_cli_demo_profile_only_stops_after_the_profile(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert (
        main(["demo", "--out", str(out), "--tasks", "1", "--chart", "none", "--profile-only"]) == 0
    )
    assert (out / "report.md").is_file() and not (out / "postmortem.md").exists()


def test_cli_rejects_bad_task_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--tasks", "0"]) == 2
    assert "--tasks must be at least 1" in capsys.readouterr().err
