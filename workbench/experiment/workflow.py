"""The optimisation workflow with stop-the-line: Profile -> Analyze -> Optimize -> Validate -> Report.

Each phase is NotStarted, InProgress, Completed or Failed. The states are events in the
run store (appended in the same transaction as the run or experiment that caused them),
so they survive a kernel restart and two kernels see the same workflow. A Failed phase
blocks every later phase until it completes again, or the user marks it resolved with a
note (which the postmortem quotes).

The transitions are the methods of :class:`Workflow` (`profiled`, `optimizing`,
`optimized`, `validation_failed`, `validated`, `resolved`, `reported`): phase names and
the events they write live in this file only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.errors import ConfigError, WorkflowBlockedError
from workbench.report.bundle import bundle
from workbench.report.tables import Block, Column, Document, Paragraph, Table
from workbench.store.db import PhaseEvent, RunStore, Writer

if TYPE_CHECKING:
    from workbench.experiment.result import ExperimentResult

PHASES = ("Profile", "Analyze", "Optimize", "Validate", "Report")
STATES = ("NotStarted", "InProgress", "Completed", "Failed")
DEFAULT_WORKFLOW = "default"

_HOW_TO_RESOLVE = {
    "Profile": "fix the code and profile it again (%%optimize)",
    "Analyze": "profile again (%%optimize)",
    "Optimize": "fix the candidate and run it again (%%optimize --candidate NAME)",
    "Validate": (
        "run a changed candidate (%%optimize --candidate NAME), or revert the change and say "
        "so with %optimize --resolve Validate --note 'reverted: ...'"
    ),
    "Report": "write the postmortem again (%optimize --postmortem FILE)",
}


def check_phase(phase: str) -> str:
    """The canonical phase name for `phase` (any case), or a ConfigError naming the phases."""
    for known in PHASES:
        if phase.strip().lower() == known.lower():
            return known
    raise ConfigError(f"no workflow phase {phase!r}: use one of {', '.join(PHASES)}")


@dataclass(frozen=True)
class PhaseStatus:
    """Where one phase stands: its latest state and why."""

    phase: str
    state: str
    reason: str
    run_id: int | None
    experiment_id: int | None
    since: str | None

    @property
    def failed(self) -> bool:
        """True when the phase stopped the line."""
        return self.state == "Failed"


def current(events: list[PhaseEvent]) -> list[PhaseStatus]:
    """The latest state of each phase, in phase order."""
    latest: dict[str, PhaseEvent] = {}
    for event in events:
        latest[event.phase] = event
    out = []
    for phase in PHASES:
        found = latest.get(phase)
        if found is None:
            out.append(PhaseStatus(phase, "NotStarted", "", None, None, None))
        else:
            out.append(
                PhaseStatus(
                    phase,
                    found.state,
                    found.reason,
                    found.run_id,
                    found.experiment_id,
                    found.created_at,
                )
            )
    return out


def blocker(statuses: list[PhaseStatus], phase: str) -> PhaseStatus | None:
    """The first phase before `phase` that failed, if any."""
    index = PHASES.index(phase)
    for status in statuses[:index]:
        if status.failed:
            return status
    return None


def blocked_message(phase: str, failed: PhaseStatus) -> str:
    """Which phase blocks `phase`, why, and how to resolve it."""
    where = []
    if failed.run_id is not None:
        where.append(f"run #{failed.run_id}")
    if failed.experiment_id is not None:
        where.append(f"experiment {failed.experiment_id}")
    at = f" ({', '.join(where)})" if where else ""
    return (
        f"workflow stopped: {phase} is blocked because {failed.phase} failed{at}: "
        f"{failed.reason}. To go on, {_HOW_TO_RESOLVE[failed.phase]}."
    )


PHASE_COLUMNS = (
    Column("Phase", "name"),
    Column("State"),
    Column("Why"),
    Column("Run"),
    Column("Experiment"),
)


@dataclass(frozen=True)
class WorkflowStatus:
    """The phases of one workflow; renders as a table."""

    name: str
    phases: list[PhaseStatus]

    def frame(self) -> pd.DataFrame:
        """One row per phase: phase, state, reason, run_id, experiment_id, since."""
        return pd.DataFrame(
            [(p.phase, p.state, p.reason, p.run_id, p.experiment_id, p.since) for p in self.phases],
            columns=["phase", "state", "reason", "run_id", "experiment_id", "since"],
        )

    def blocked(self) -> list[tuple[str, PhaseStatus]]:
        """Each phase that cannot start now, with the failed phase that blocks it."""
        out = []
        for phase in PHASES:
            failed = blocker(self.phases, phase)
            if failed is not None:
                out.append((phase, failed))
        return out

    def failed(self) -> list[PhaseStatus]:
        """The phases that failed."""
        return [p for p in self.phases if p.failed]

    def reporting(self, reason: str) -> WorkflowStatus:
        """This status with Report shown Completed (while the postmortem is being written)."""
        phases = [
            PhaseStatus(p.phase, "Completed", reason, None, None, None)
            if p.phase == "Report"
            else p
            for p in self.phases
        ]
        return replace(self, phases=phases)

    def blocked_line(self) -> str | None:
        """ "Blocked: Validate (by Optimize); ..." or None."""
        blocked = self.blocked()
        if not blocked:
            return None
        return "Blocked: " + "; ".join(f"{phase} (by {f.phase})" for phase, f in blocked) + "."

    def table(self, *, detail: bool = True) -> Table:
        """One row per phase; with `detail`, the run and experiment that set it."""
        rows = tuple(
            (
                p.phase,
                p.state,
                p.reason,
                "" if p.run_id is None else f"#{p.run_id}",
                "" if p.experiment_id is None else str(p.experiment_id),
            )
            for p in self.phases
        )
        if detail:
            return Table("", PHASE_COLUMNS, rows)
        return Table("", PHASE_COLUMNS[:3], tuple(r[:3] for r in rows))

    @property
    def document(self) -> Document:
        """The phase table and what is blocked."""
        line = self.blocked_line()
        blocks: tuple[Block, ...] = (self.table(), *([Paragraph(line)] if line else []))
        return Document(f"Workflow '{self.name}'", blocks, level=3)

    def to_markdown(self) -> str:
        """The phase table as markdown."""
        from workbench.report import markdown

        return markdown.render(self.document)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return bundle(self.document)


class Workflow:
    """One named workflow kept in a run store; its transitions are its methods."""

    def __init__(self, store: RunStore, name: str = DEFAULT_WORKFLOW) -> None:
        if not name.strip():
            raise ConfigError("a workflow needs a non-empty name")
        self.store = store
        self.name = name

    def status(self) -> WorkflowStatus:
        """The current state of every phase."""
        return WorkflowStatus(self.name, current(self.store.phase_events(self.name)))

    def require(self, phase: str) -> None:
        """Raise WorkflowBlockedError if an earlier phase failed."""
        failed = blocker(self.status().phases, check_phase(phase))
        if failed is not None:
            raise WorkflowBlockedError(blocked_message(phase, failed))

    def start(self, phase: str, reason: str = "") -> None:
        """Check that `phase` may start, then mark it InProgress (its own transaction)."""
        phase = check_phase(phase)
        self.require(phase)
        with self.store.write() as writer:
            writer.add_phase_event(self.name, phase, "InProgress", reason)

    # --- transitions, each written inside the caller's transaction (`writer`) -----------

    def profiled(
        self,
        writer: Writer,
        *,
        label: str,
        complete: bool,
        error: str | None,
        run_id: int,
        findings: int,
    ) -> None:
        """A profile was recorded: Profile and Analyze completed, or Profile failed."""
        if complete:
            writer.add_phase_event(
                self.name, "Profile", "Completed", f"profiled {label!r}", run_id=run_id
            )
            writer.add_phase_event(
                self.name, "Analyze", "Completed", f"{findings} finding(s)", run_id=run_id
            )
        else:
            writer.add_phase_event(
                self.name, "Profile", "Failed", f"the code raised {error}", run_id=run_id
            )

    def optimizing(self, name: str) -> None:
        """A candidate is about to run: Optimize must not be blocked; it is InProgress."""
        self.start("Optimize", f"candidate {name!r}")

    def optimize_failed(self, reason: str) -> None:
        """The candidate could not even be profiled (its own transaction)."""
        with self.store.write() as writer:
            writer.add_phase_event(self.name, "Optimize", "Failed", reason)

    def optimized(self, writer: Writer, *, name: str, run_id: int, error: str | None) -> None:
        """The candidate ran once under the profiler: Optimize completed and Validate in
        progress, or Optimize failed when the candidate raised."""
        if error is None:
            writer.add_phase_event(
                self.name, "Optimize", "Completed", f"candidate {name!r} ran", run_id=run_id
            )
            writer.add_phase_event(
                self.name, "Validate", "InProgress", f"measuring {name!r}", run_id=run_id
            )
        else:
            writer.add_phase_event(
                self.name, "Optimize", "Failed", f"candidate {name!r} raised {error}", run_id=run_id
            )

    def validation_failed(self, *, name: str, error: BaseException, run_id: int | None) -> None:
        """The candidate could not be measured against its baseline (its own transaction)."""
        with self.store.write() as writer:
            writer.add_phase_event(
                self.name,
                "Validate",
                "Failed",
                f"candidate {name!r} could not be measured: {type(error).__name__}: {error}",
                run_id=run_id,
            )

    def validated(self, writer: Writer, result: ExperimentResult) -> None:
        """An experiment was recorded: Validate completes on keep, fails otherwise."""
        state = "Completed" if result.verdict == "keep" else "Failed"
        writer.add_phase_event(
            self.name,
            "Validate",
            state,
            f"{result.verdict}: {result.reason}",
            run_id=result.candidate_run,
            experiment_id=result.experiment_id,
        )

    def may_report(self) -> None:
        """Raise WorkflowBlockedError when a failed phase blocks the postmortem."""
        self.require("Report")

    def reported(self, writer: Writer, filename: str) -> None:
        """The postmortem was written."""
        writer.add_phase_event(
            self.name, "Report", "Completed", f"postmortem written to {filename}"
        )

    def resolved(self, phase: str, note: str) -> None:
        """Mark a Failed phase resolved (Completed), keeping the note as the reason."""
        phase = check_phase(phase)
        status = {p.phase: p for p in self.status().phases}[phase]
        if not status.failed:
            raise ConfigError(f"{phase} is {status.state}, not Failed: there is nothing to resolve")
        if not note.strip():
            raise ConfigError(
                f"say how {phase} was resolved: --note 'reverted the change' (the postmortem quotes it)"
            )
        with self.store.write() as writer:
            writer.add_phase_event(
                self.name,
                phase,
                "Completed",
                f"resolved: {note.strip()} (was: {status.reason})",
                run_id=status.run_id,
                experiment_id=status.experiment_id,
            )

    def reset(self) -> None:
        """Every phase back to NotStarted (history stays in the store)."""
        with self.store.write() as writer:
            for phase in PHASES:
                writer.add_phase_event(self.name, phase, "NotStarted", "reset")
