"""The postmortem: markdown with the sections of seed 003, every number read from the store.

What only the user knows (what happened, what was built, the root cause, the lessons) is
passed in, or left as a marked placeholder; it is never invented. The text is git-diffable:
stable ordering, fixed number formats, and no timestamps outside the header.

Writing it is never refused: a failed or blocked phase (a reverted or broken candidate) is
what a postmortem reports, in one status line under the title. Status marks are words
(``[OK]``, ``[FAILED]``), which read the same without an emoji font. With `origin`, only
the runs of that notebook or script, their experiments and the phase changes they caused
are cited.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from workbench.atomic import write_atomic
from workbench.errors import ConfigError, SaveError
from workbench.experiment.workflow import (
    DEFAULT_WORKFLOW,
    Workflow,
    WorkflowStatus,
    current,
)
from workbench.report import postmortem_parts as parts
from workbench.report.markdown import fence, inline, table, text
from workbench.store.db import ExperimentRow, PhaseEvent, RunStore, StoredRun

OK = "**[OK]**"
FAILED = "**[FAILED]**"


@dataclass
class Story:
    """What only the user can say; anything left out becomes a marked placeholder."""

    what_happened: str | None = None
    what_was_built: str | None = None
    root_cause: str | None = None
    lessons: str | None = None
    criteria: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Facts:
    """Everything the postmortem cites, loaded from the store once."""

    runs: dict[int, StoredRun]
    experiments: list[ExperimentRow]
    where: StoredRun | None
    workflow: Workflow
    writing: str | None = None
    events: list[PhaseEvent] | None = None  # the phase changes cited (None: all of them)
    origin: str | None = None

    def phases(self) -> WorkflowStatus:
        """The workflow, with Report shown Completed when this document is being written."""
        if self.events is None:
            status = self.workflow.status()
        else:
            status = WorkflowStatus(self.workflow.name, current(self.events))
        if self.writing is not None:
            return status.reporting(f"this postmortem ({self.writing})")
        return status


def load_facts(
    store: RunStore, workflow: str, run: int | str | None, origin: str | None = None
) -> Facts:
    """The experiments, the runs they cite, and the run whose profile is shown; with
    `origin`, those of that notebook or script only."""
    experiments = store.experiments()
    listing = store.runs(origin)
    events = None
    if origin is not None:
        mine = set(int(i) for i in listing["id"])
        experiments = [r for r in experiments if r.candidate_run in mine]
        chosen = {r.id for r in experiments}
        events = [
            e for e in store.phase_events(workflow) if e.run_id in mine or e.experiment_id in chosen
        ]
    ids = {i for row in experiments for i in (row.baseline_run, row.candidate_run) if i is not None}
    if run is not None:
        where_id: int | None = store.resolve_run(run, origin)
    else:
        rejected = {r.candidate_run for r in experiments if r.verdict != "keep"}
        usable = listing[listing["complete"] & ~listing["id"].isin(rejected)]
        where_id = int(usable["id"].iloc[-1]) if len(usable) else None
    if where_id is not None:
        ids.add(where_id)
    runs = {i: store.get_run(i) for i in sorted(ids)}
    where = runs.get(where_id) if where_id is not None else None
    return Facts(runs, experiments, where, Workflow(store, workflow), events=events, origin=origin)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def status_line(status: WorkflowStatus) -> str:
    """Where the work stands, in one line: the phases by state, each failure with its
    reason, then Report. A failure never stops the postmortem: it is what it records."""
    by_state: dict[str, list[str]] = {}
    failures = []
    report = next(p for p in status.phases if p.phase == "Report")
    for phase in status.phases:
        if phase.phase == "Report":
            continue
        if phase.failed:
            failures.append(f"{phase.phase} failed ({phase.reason})")
        else:
            by_state.setdefault(phase.state, []).append(phase.phase)
    words = {"Completed": "completed", "InProgress": "in progress", "NotStarted": "not started"}
    parts_ = [f"{_and(names)} {words.get(state, state)}" for state, names in by_state.items()]
    parts_ += failures
    if report.state == "Completed" and report.reason.startswith("this postmortem"):
        closing = f"Report: {report.reason}" + (", which records the failure" if failures else "")
    else:
        closing = f"Report {words.get(report.state, report.state)}"
    return "; ".join([*parts_, closing]) + "."


def _header(title: str, facts: Facts, date: str) -> list[str]:
    states = status_line(facts.phases())
    commits: dict[str, list[int]] = {}
    for run in facts.runs.values():
        commits.setdefault((run.git_commit or "no git")[:10], []).append(run.id)
    listed = "; ".join(
        f"{c} (runs {', '.join(f'#{i}' for i in sorted(ids))})"
        for c, ids in sorted(commits.items())
    )
    scope = f"  \n**Runs of**: {facts.origin}" if facts.origin else ""
    return [
        f"# {text(title)}",
        f"**Date**: {date}  \n**Status**: {states}  \n**Commits**: {listed or 'none'}{scope}",
        "---",
    ]


def _happened(story: Story, facts: Facts, redact: bool) -> list[str]:
    out = ["## What happened", parts.user_text(story.what_happened, "what happened, in your words")]
    if facts.experiments:
        out.append(
            "Recorded in the run store:\n\n"
            + "\n".join(f"- {parts.experiment_line(r)}." for r in facts.experiments)
        )
    out.append("### What was built")
    out.append(parts.user_text(story.what_was_built, "what was built"))
    candidates = [r for r in facts.runs.values() if r.kind == "candidate"]
    for run in candidates:
        code = run.code or ""
        if redact:
            body = f"_[source redacted: {len(code.splitlines())} lines]_"
        else:
            body = fence(code, "python")
        out.append(f"Candidate '{inline(run.name or '')}' (run #{run.id}):\n\n{body}")
    return out


def _achieved(facts: Facts) -> list[str]:
    kept = [r for r in facts.experiments if r.verdict == "keep"]
    lines = [
        f"{OK} '{inline(r.name)}': {r.speedup:.3f}x faster than '{inline(r.baseline)}' ({r.confidence:.0%} CI {r.ci_low:.3f}x to {r.ci_high:.3f}x), outputs {r.correctness}"
        for r in kept
        if r.speedup is not None and r.ci_low is not None and r.ci_high is not None
    ]
    checked = [r for r in facts.experiments if r.correctness != "not compared"]
    equal = [r for r in checked if r.correctness == "equal"]
    if checked:
        lines.append(
            f"{OK} Correctness maintained in {len(equal)} of {len(checked)} checked experiments"
            if len(equal) == len(checked)
            else f"{FAILED} Correctness broken in {len(checked) - len(equal)} of {len(checked)} checked experiments"
        )
    return ["### What was achieved", "  \n".join(lines) if lines else "_Nothing validated yet._"]


def _went_wrong(facts: Facts) -> list[str]:
    lines = []
    for row in facts.experiments:
        if row.verdict != "keep":
            lines.append(f"{FAILED} '{inline(row.name)}' ({row.verdict}): {inline(row.reason)}")
        lines += [
            f"{FAILED} {inline(f['title'])} (experiment {row.id}): {inline(f['detail'])}"
            for f in row.detail.get("findings", [])
            if f["kind"] != "gpu-never-ran"
        ]
    seen: set[str] = set()
    for run in sorted(facts.runs.values(), key=lambda r: -r.id):
        for f in run.findings:
            if f["kind"] not in seen:
                seen.add(f["kind"])
                lines.append(
                    f"{FAILED} {inline(f['title'])} (run #{run.id}): {inline(f['detail'])}"
                )
    for phase in facts.phases().failed():
        lines.append(f"{FAILED} Phase {phase.phase} failed: {inline(phase.reason or '')}")
    return [
        "### What went wrong",
        "  \n".join(lines) if lines else "_Nothing recorded as going wrong._",
    ]


def _status(facts: Facts) -> list[str]:
    status = facts.phases()
    out = ["## Current optimization status", table(status.table(detail=False))]
    waiting = [
        f"{phase} (by {failed.phase})" for phase, failed in status.blocked() if phase != "Report"
    ]
    if waiting:
        out.append(text(f"Waiting on a failed phase: {'; '.join(waiting)}."))
    out += ["Validated improvements:", parts.validated_table(facts.experiments)]
    return out


def _progress(facts: Facts, target_pct: float | None) -> tuple[list[str], float | None]:
    timed = [
        r
        for r in facts.experiments
        if r.baseline_median is not None and r.candidate_median is not None
    ]
    if not timed:
        return [
            "## Overall optimization progress",
            "_No experiment stored yet: record a baseline and run a candidate._",
        ], None
    first = timed[0]
    base = float(first.baseline_median or 0.0)
    current, lines = base, []
    if target_pct is not None:
        lines.append(
            f"Target: -{target_pct:g}% from baseline ({base:.4f}s -> {base * (1 - target_pct / 100):.4f}s)"
        )
    lines.append(
        f"Baseline '{first.baseline}': {base:.4f}s per run (median, experiment {first.id})"
    )
    for row in timed:
        if row.verdict == "keep":
            current = float(row.candidate_median or current)
            lines.append(
                f"Experiment {row.id} '{row.name}': KEEP -> {current:.4f}s ({100 * (current / base - 1):+.1f}% from baseline)"
            )
        else:
            lines.append(
                f"Experiment {row.id} '{row.name}': {row.verdict.upper()} (not applied; measured {float(row.candidate_median or 0):.4f}s)"
            )
    change = 100 * (current / base - 1) if base > 0 else 0.0
    total = f"Total progress: {change:+.1f}% from baseline ({base:.4f}s -> {current:.4f}s)"
    if target_pct is not None:
        total += f", {max(-change, 0.0) / target_pct:.0%} of the -{target_pct:g}% target"
    lines.append(total)
    return ["## Overall optimization progress", fence("\n".join(lines))], change


def _criteria(
    story: Story, facts: Facts, change: float | None, target_pct: float | None
) -> list[str]:
    def box(ok: bool, text: str) -> str:
        return f"- [{'x' if ok else ' '}] {text}"

    kept = [r for r in facts.experiments if r.verdict == "keep"]
    where = facts.where
    gpu_idle = where is not None and any(f["kind"] == "gpu-never-ran" for f in where.findings)
    lines = [
        box(
            where is not None,
            f"Profile data showing where the time goes{f' (run #{where.id})' if where else ''}",
        ),
        box(
            bool(kept) and all((r.ci_low or 0) > 1 for r in kept),
            f"Every kept change is faster at its confidence level ({len(kept)} kept)",
        ),
        box(
            bool(kept) and all(r.correctness == "equal" for r in kept),
            "Correctness maintained (outputs equal in every kept experiment)",
        ),
        box(not gpu_idle, "No GPU code left unexecuted in the latest profile"),
    ]
    if target_pct is not None:
        reached = change is not None and -change >= target_pct
        now = f"now {change:+.1f}%" if change is not None else "no experiment yet"
        lines.append(box(reached, f"Target -{target_pct:g}% from baseline reached ({now})"))
    lines += [f"- [ ] {c} _(not checked by the workbench)_" for c in story.criteria]
    return ["## Success criteria", "\n".join(lines)]


def render(
    facts: Facts,
    story: Story,
    *,
    title: str = "Optimization postmortem",
    target_pct: float | None = None,
    redact: bool = False,
    date: str | None = None,
) -> str:
    """The postmortem as markdown."""
    day = date or datetime.now(timezone.utc).date().isoformat()
    body = _header(title, facts, day)
    body += _happened(story, facts, redact) + _achieved(facts) + _went_wrong(facts)
    predicted = parts.predictions_table(facts.experiments)
    if predicted is not None:
        body += ["### Predicted against measured (what-if pass, --try)", predicted]
    body += ["### Root cause", parts.user_text(story.root_cause, "root cause")]
    body += ["## Lessons learned", parts.user_text(story.lessons, "lessons learned")]
    body += _status(facts)
    if facts.where is not None:
        run = facts.where
        body += ["## Where time is actually spent", parts.time_tree(run)]
        body += [f"## Category breakdown (run #{run.id})", parts.category_breakdown(run)]
        body += ["### Top functions by category", parts.top_functions(run)]
        body += ["## Potential wins", parts.potential_wins(run)]
    progress, change = _progress(facts, target_pct)
    body += progress + _criteria(story, facts, change, target_pct)
    body += ["## Runs referenced", parts.runs_table(list(facts.runs.values()))]
    return "\n\n".join(body) + "\n"


def postmortem(
    path: str | os.PathLike[str] | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
    workflow: str = DEFAULT_WORKFLOW,
    title: str = "Optimization postmortem",
    target_pct: float | None = None,
    run: int | str | None = None,
    what_happened: str | None = None,
    what_was_built: str | None = None,
    root_cause: str | None = None,
    lessons: str | None = None,
    criteria: Sequence[str] = (),
    redact: bool = False,
    date: str | None = None,
    force: bool = False,
    origin: str | None = None,
) -> str:
    """Write the postmortem of the stored runs and experiments; returns the markdown.

    With `path` the file is written atomically (temporary file, then rename), and the
    workflow's Report phase is marked Completed. It is never refused: a failed or blocked
    phase is reported in its status line (`force` is accepted and changes nothing). `run`
    picks the profile shown (default: the latest complete run); `target_pct=60` means a
    goal of -60% from the baseline; `origin` limits it to the runs of one notebook or
    script (as the magic records them).
    """
    del force  # kept for callers of the version that refused after a failed phase
    if target_pct is not None and not 0 < target_pct < 100:
        raise ConfigError(
            f"target_pct must be between 0 and 100 (a cut of the time), got {target_pct}"
        )
    if path is not None and (not str(path).strip() or Path(path).is_dir()):
        raise ConfigError(
            f"the postmortem needs a file name, got {str(path)!r}"
            + (" (a folder)" if str(path).strip() else "")
            + ": e.g. postmortem.md"
        )
    with RunStore(store) as opened:
        flow = Workflow(opened, workflow)
        facts = replace(
            load_facts(opened, workflow, run, origin), writing=Path(path).name if path else None
        )
        story = Story(what_happened, what_was_built, root_cause, lessons, list(criteria))
        text = render(facts, story, title=title, target_pct=target_pct, redact=redact, date=date)
        if path is not None:
            target = Path(path)
            try:
                write_atomic(target, text.encode("utf-8"))
            except OSError as exc:
                raise SaveError(
                    f"cannot write the postmortem to {str(path)!r}: {exc.strerror or exc}; "
                    "nothing was written (give a file in a folder that can be written)"
                ) from None
            with opened.write() as writer:
                flow.reported(writer, target.name)
    return text
