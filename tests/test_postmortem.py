"""The postmortem: seed 003's sections, every number from the store, diffable, redactable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench import machine
from workbench.errors import ConfigError
from workbench.report import format as fmt
from workbench.report.markdown import inline
from workbench.store.db import ExperimentRow, RunStore

SECTIONS = [
    "## What happened",
    "### What was built",
    "### What was achieved",
    "### What went wrong",
    "### Root cause",
    "## Lessons learned",
    "## Current optimization status",
    "## Where time is actually spent",
    "## Category breakdown",
    "### Top functions by category",
    "## Potential wins",
    "## Overall optimization progress",
    "## Success criteria",
    "## Runs referenced",
]


def row(
    name: str, verdict: str, base_run: int, cand_run: int, base_s: float, cand_s: float
) -> ExperimentRow:
    speed = base_s / cand_s
    return ExperimentRow(
        name=name,
        baseline="base",
        baseline_run=base_run,
        candidate_run=cand_run,
        verdict=verdict,
        reason="faster: ..." if verdict == "keep" else "slower: ...",
        speedup=speed,
        ci_low=speed * 0.98,
        ci_high=speed * 1.02,
        confidence=0.99,
        baseline_median=base_s,
        candidate_median=cand_s,
        rounds=20,
        correctness="equal",
    )


@pytest.fixture
def filled(isolated_cwd: Path) -> Path:
    """A store with a baseline, a kept candidate (25% faster) and a reverted one."""
    env = machine.current_environment(device="test device")
    code = "def leaf(x):\n    return x + 1\nsum(leaf(i) for i in range(2000))\n"
    report = workbench.profile(code, {}, category=["Leaf=func:^leaf$"], call_cost_s=1e-7)
    with RunStore() as store, store.write() as writer:
        base = writer.add_run(report, env=env, kind="baseline", name="base", code=code)
        writer.set_baseline("base", base, code, [], None, {})
        good = writer.add_run(report, env=env, kind="candidate", name="good", code="good(1)\n")
        bad = writer.add_run(report, env=env, kind="candidate", name="bad", code="bad(1)\n")
        writer.add_experiment(row("good", "keep", base, good, 0.400, 0.300))
        writer.add_experiment(row("bad", "revert", base, bad, 0.400, 0.420))
        for phase in ("Profile", "Analyze", "Optimize", "Validate"):
            writer.add_phase_event("default", phase, "Completed", "ok")
    return isolated_cwd


def test_all_sections_in_order_with_placeholders_for_user_text(filled: Path) -> None:
    text = workbench.postmortem(date="2025-10-17")
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    for what in ("what happened, in your words", "what was built", "root cause", "lessons learned"):
        assert f"_[TO BE WRITTEN: {what}. The workbench does not invent it.]_" in text


def test_user_text_is_used_verbatim(filled: Path) -> None:
    text = workbench.postmortem(
        root_cause="GPU ops were never on the hot path.", lessons="Measure first."
    )
    assert "### Root cause\n\nGPU ops were never on the hot path." in text
    assert "## Lessons learned\n\nMeasure first." in text
    assert "TO BE WRITTEN: root cause" not in text


def test_numbers_come_from_the_stored_runs_and_experiments(filled: Path) -> None:
    text = workbench.postmortem(target_pct=60)
    with RunStore() as store:
        run = store.get_run(1)
    for rec in fmt.records(run.categories):
        expected = f"| {inline(rec['category'])} | {fmt.pct(rec['corrected_pct'])} | {fmt.pct(rec['corrected_native_pct'])} | {fmt.pct(rec['pct'])} | {fmt.fixed(rec['self_s'])} | {fmt.fixed(rec['inclusive_s'])} | {fmt.count(int(rec['calls']))} |"
        assert expected in text
    assert "**[OK]** 'good': 1.333x faster than 'base' (99% CI 1.307x to 1.360x)" in text
    assert "**[FAILED]** 'bad' (revert): slower: ..." in text
    assert not re.search("[\u2600-\u27bf\U0001f300-\U0001faff]", text)  # no emoji
    assert "Target: -60% from baseline (0.4000s -> 0.1600s)" in text
    assert "Experiment 1 'good': KEEP -> 0.3000s (-25.0% from baseline)" in text
    assert "Experiment 2 'bad': REVERT (not applied; measured 0.4200s)" in text
    assert (
        "Total progress: -25.0% from baseline (0.4000s -> 0.3000s), 42% of the -60% target" in text
    )
    assert "- [ ] Target -60% from baseline reached (now -25.0%)" in text
    assert "- [x] Correctness maintained" in text


def test_the_profile_shown_skips_reverted_candidates(filled: Path) -> None:
    text = workbench.postmortem()
    assert "Total: " in text and "(run #2, " in text  # the kept candidate, not #3


def test_same_store_same_text_and_no_timestamps_in_the_body(filled: Path) -> None:
    first = workbench.postmortem(date="2025-10-17")
    assert first == workbench.postmortem(date="2025-10-17")
    body = first.split("---", 1)[1]
    assert not re.search(r"\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d", body)


def test_redact_leaves_source_code_out(filled: Path) -> None:
    assert "good(1)" in workbench.postmortem()
    text = workbench.postmortem(redact=True)
    assert "good(1)" not in text and "_[source redacted: 1 lines]_" in text


def test_written_atomically_and_marks_report_completed(filled: Path) -> None:
    target = filled / "docs" / "postmortem.md"
    text = workbench.postmortem(target, date="2025-10-17")
    assert target.read_text() == text
    assert "| Report | Completed | this postmortem (postmortem.md) |" in text
    assert list((filled / "docs").iterdir()) == [target]  # no temporary file left
    assert workbench.workflow().frame().set_index("phase").loc["Report", "state"] == "Completed"
    # writing again gives the same file: the header date is the only date
    assert workbench.postmortem(target, date="2025-10-17") == text


def test_a_failed_phase_is_written_up_with_one_consistent_status_line(filled: Path) -> None:
    with RunStore() as store, store.write() as writer:
        writer.add_phase_event("default", "Validate", "Failed", "broken: outputs differ")
    text = workbench.postmortem(filled / "pm.md", date="2025-10-17")
    assert (filled / "pm.md").read_text() == text  # never refused
    status = next(line for line in text.splitlines() if line.startswith("**Status**"))
    assert status == (
        "**Status**: Profile, Analyze and Optimize completed; Validate failed (broken: "
        "outputs differ); Report: this postmortem (pm.md), which records the failure.  "
    )
    assert "Blocked" not in text and "Phase Validate failed: broken: outputs differ" in text
    # force= is still accepted and changes nothing
    assert workbench.postmortem(force=True, date="2025-10-17").count("Validate failed") == 2


def test_with_an_origin_only_that_notebooks_runs_and_experiments_are_cited(
    isolated_cwd: Path,
) -> None:
    env = machine.current_environment(device="test device")
    code = "sum(range(1000))\n"
    report = workbench.profile(code, {}, call_cost_s=1e-7)
    with RunStore() as store, store.write() as writer:
        ids = {}
        for origin, name in (("a.ipynb", "fast-a"), ("b.ipynb", "fast-b")):
            base = writer.add_run(report, env=env, kind="baseline", name="base", origin=origin)
            cand = writer.add_run(report, env=env, kind="candidate", name=name, origin=origin)
            writer.add_experiment(row(name, "revert", base, cand, 0.4, 0.42))
            writer.add_phase_event("default", "Validate", "Failed", f"revert {name}", run_id=cand)
            ids[origin] = (base, cand)
    only_a = workbench.postmortem(origin="a.ipynb")
    assert "'fast-a'" in only_a and "'fast-b'" not in only_a
    assert "Validate failed (revert fast-a)" in only_a and "revert fast-b" not in only_a
    assert "**Runs of**: a.ipynb" in only_a
    every = workbench.postmortem()
    assert "'fast-a'" in every and "'fast-b'" in every
    with RunStore() as store:
        assert store.resolve_run(-1, "a.ipynb") == ids["a.ipynb"][1]
        assert store.resolve_run("base", "a.ipynb") == ids["a.ipynb"][0]
        assert store.resolve_run("base") == ids["b.ipynb"][0]
        assert list(store.runs("b.ipynb")["id"]) == list(ids["b.ipynb"])


def test_bad_target_is_refused(filled: Path) -> None:
    with pytest.raises(ConfigError, match="target_pct must be between 0 and 100"):
        workbench.postmortem(target_pct=150)


def test_magic_end_to_end_tables_match_the_store(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    shell.run_cell(
        "def work(n):\n    return sum(i * i for i in range(n))\n"
        "def fast(n):\n    return (n - 1) * n * (2 * n - 1) // 6\n"
    )
    with capture_output():
        shell.run_cell("%%optimize -q --baseline base\nwork(20000)\n")
        shell.run_cell("%%optimize -q --candidate closed --budget 1\nfast(20000)\n")
        result = shell.run_cell("%optimize --postmortem pm.md --target 60 --title 'Phase 4'")
    assert result.error_in_exec is None
    text = (isolated_cwd / "pm.md").read_text()
    assert text.startswith("# Phase 4\n")
    with workbench.RunStore() as store:
        (exp,) = store.experiments()
    assert f"KEEP, {exp.speedup:.3f}x" in text
    assert f"{exp.baseline_median:.4f}s -> {exp.candidate_median:.4f}s per run" in text


DEMO_SETUP = """\
from workbench.demo import load_tasks, run_demo
from workbench.demo.gpu_batch import numpy_batch
from workbench.demo.search import Solver


class CpuBatch:
    # the batch path of the demo, on the CPU: seed 003's batch pre-computation
    def transform(self, grids, ops):
        return numpy_batch(grids, ops)


def solve_batched(n):
    solver = Solver(CpuBatch())
    return [solver.solve(task) for task in load_tasks(n, "train", seed=0)]
"""


def test_demo_profile_baseline_candidate_verdict_and_postmortem(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    from workbench.cli import demo_rules

    shell.run_cell(DEMO_SETUP)
    rules = demo_rules()
    with capture_output():
        shell.run_cell(f"%%optimize -q --rules {rules}\nrun_demo(n_tasks=1)\n")
        shell.run_cell(
            f"%%optimize -q --rules {rules} --baseline cpu --check solved\n"
            "solved = sorted(run_demo(n_tasks=1).solved_ids)\n"
        )
        result = shell.run_cell(
            f"%%optimize -q --rules {rules} --candidate batched --check solved --budget 2 -o e\n"
            "solved = sorted(r.task_id for r in solve_batched(1) if r.solved)\n"
        )
    assert result.error_in_exec is None
    exp = shell.user_ns["e"]
    assert exp.correctness == "equal"
    assert exp.verdict in ("keep", "revert")
    assert exp.speedup.low <= exp.speedup.point <= exp.speedup.high
    with capture_output():
        if exp.verdict == "revert":
            shell.run_cell("%optimize --resolve Validate --note 'batch path reverted'")
        result = shell.run_cell("%optimize --postmortem pm.md --target 60")
    assert result.error_in_exec is None
    text = (isolated_cwd / "pm.md").read_text()
    with RunStore() as store:
        shown = int(re.search(r"## Category breakdown \(run #(\d+)\)", text).group(1))  # type: ignore[union-attr]
        run = store.get_run(shown)
    small = [rec for rec in fmt.records(run.categories) if rec["pct"] < 0.5]
    for rec in fmt.records(run.categories):
        if rec["pct"] >= 0.5 or len(small) < 2:
            assert f"| {fmt.pct(rec['pct'])} | {fmt.fixed(rec['self_s'])} |" in text
            name = inline(rec["category"])  # as markdown shows it: library:\_pytest
            assert f"| {name} | {fmt.pct(rec['corrected_pct'])} |" in text
    if len(small) >= 2:  # one "other" row holds the categories under 0.5%
        other = sum(rec["self_s"] for rec in small)
        share = fmt.pct(sum(r["corrected_pct"] for r in small))
        assert f"| other | {share} |" in text
        assert f"| {fmt.pct(sum(r['pct'] for r in small))} | {fmt.fixed(other)} |" in text
    assert "GPU code never executed" in text and "GpuBatch.transform" in text
    assert f"{exp.verdict.upper()}, {exp.speedup.point:.3f}x" in text
