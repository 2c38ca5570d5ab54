"""The optimisation workflow with stop-the-line: Profile -> Analyze -> Optimize -> Validate -> Report.

Each phase is NotStarted, InProgress, Completed or Failed. The states are events in the
run store (appended in the same transaction as the run or experiment that caused them),
so they survive a kernel restart and two kernels see the same workflow. A Failed phase
blocks every later phase until it completes again, or the user marks it resolved with a
note (which the postmortem quotes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench.errors import ConfigError, WorkflowBlockedError
from workbench.store.db import PhaseEvent, RunStore

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
        if status.state == "Failed":
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


@dataclass
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

    def to_markdown(self) -> str:
        """The phase table as markdown."""
        from workbench.report import verdict

        return verdict.workflow_markdown(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from workbench.report import verdict

        return verdict.workflow_bundle(self)


class Workflow:
    """One named workflow kept in a run store."""

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
        failed = blocker(self.status().phases, phase)
        if failed is not None:
            raise WorkflowBlockedError(blocked_message(phase, failed))

    def start(self, phase: str, reason: str = "") -> None:
        """Check that `phase` may start, then mark it InProgress (its own transaction)."""
        self.require(phase)
        with self.store.write() as writer:
            writer.add_phase_event(self.name, phase, "InProgress", reason)

    def resolve(self, phase: str, note: str) -> None:
        """Mark a Failed phase resolved (Completed), keeping the note as the reason."""
        phase = check_phase(phase)
        status = {p.phase: p for p in self.status().phases}[phase]
        if status.state != "Failed":
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
