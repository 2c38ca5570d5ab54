"""What the run store holds, as plain objects (runs, baselines, experiments, phase
events), how report tables are packed into blobs (zlib-compressed JSON columns), and the
:class:`Writer` that inserts them inside one transaction."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.store.schema import TABLE_NAMES

if TYPE_CHECKING:
    from workbench.machine import Environment
    from workbench.profiling.report import Report


def utc_now() -> str:
    """The current time as UTC ISO 8601, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def pack_frame(frame: pd.DataFrame) -> bytes:
    """A DataFrame as zlib-compressed JSON columns; floats round-trip exactly."""
    data = {"columns": [str(c) for c in frame.columns]}
    payload = {**data, "data": {str(c): frame[c].tolist() for c in frame.columns}}
    return zlib.compress(json.dumps(payload, separators=(",", ":")).encode("utf-8"), 1)


def unpack_frame(blob: bytes) -> pd.DataFrame:
    """The DataFrame :func:`pack_frame` stored."""
    payload = json.loads(zlib.decompress(blob))
    return pd.DataFrame(payload["data"], columns=payload["columns"])


@dataclass
class StoredRun:
    """One run as the store keeps it; `tables` holds categories, functions, top and wins."""

    id: int
    kind: str
    name: str | None
    label: str
    created_at: str
    code: str | None
    git_commit: str | None
    python: str
    versions: dict[str, str]
    device: str
    profiled_s: float
    wall_s: float
    calls: int
    complete: bool
    error: str | None
    overhead: dict[str, Any]
    rules: list[str]
    top_n: int
    findings: list[dict[str, Any]]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def categories(self) -> pd.DataFrame:
        """The stored category table."""
        return self.tables["categories"]

    @property
    def functions(self) -> pd.DataFrame:
        """The stored functions table."""
        return self.tables["functions"]

    @property
    def top(self) -> pd.DataFrame:
        """The stored top-functions table."""
        return self.tables["top"]

    @property
    def wins(self) -> pd.DataFrame:
        """The stored Amdahl wins table."""
        return self.tables["wins"]

    def title(self) -> str:
        """How tables refer to the run: ``#12 'cell'``."""
        named = f" {self.kind} '{self.name}'" if self.name else ""
        return f"#{self.id}{named} ({self.label})"


@dataclass(frozen=True)
class StoredBaseline:
    """A named baseline: the run that recorded it, its code and its reference outputs."""

    name: str
    run_id: int
    code: str
    checks: list[str]
    outputs: bytes | None
    fingerprints: dict[str, str]
    created_at: str


@dataclass
class ExperimentRow:
    """One baseline-versus-candidate experiment as stored."""

    name: str
    baseline: str
    baseline_run: int | None
    candidate_run: int | None
    verdict: str
    reason: str
    speedup: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    baseline_median: float | None
    candidate_median: float | None
    rounds: int
    correctness: str
    detail: dict[str, Any] = field(default_factory=dict)
    id: int = 0
    created_at: str = ""


@dataclass(frozen=True)
class PhaseEvent:
    """One change of state of a workflow phase."""

    id: int
    workflow: str
    phase: str
    state: str
    reason: str
    run_id: int | None
    experiment_id: int | None
    created_at: str


class Writer:
    """What can be written inside one :meth:`RunStore.write` transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add_run(
        self,
        report: Report,
        *,
        env: Environment,
        kind: str = "profile",
        name: str | None = None,
        code: str | None = None,
        session: str | None = None,
        findings: Sequence[Mapping[str, Any]] = (),
    ) -> int:
        """Insert a report (its summary row and its four tables); returns the run id."""
        cursor = self.conn.execute(
            "INSERT INTO runs(kind, name, label, created_at, code, git_commit, python, versions,"
            " device, session, profiled_s, wall_s, calls, functions, complete, error, overhead,"
            " rules, top_n, findings) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                kind,
                name,
                report.label,
                utc_now(),
                code if code is not None else report.source,
                env.git_commit,
                env.python,
                json.dumps(env.versions, sort_keys=True),
                env.device,
                session,
                float(report.profiled_s),
                float(report.wall_s),
                int(report.calls),
                len(report.functions),
                int(report.complete),
                report.error,
                json.dumps(asdict(report.overhead), sort_keys=True),
                json.dumps(report.rules),
                report.top_n,
                json.dumps(list(findings), sort_keys=True),
            ),
        )
        run_id = int(cursor.lastrowid or 0)
        self.conn.executemany(
            "INSERT INTO run_tables(run_id, name, data) VALUES (?, ?, ?)",
            [(run_id, name, pack_frame(getattr(report, name))) for name in TABLE_NAMES],
        )
        return run_id

    def set_baseline(
        self,
        name: str,
        run_id: int,
        code: str,
        checks: Sequence[str],
        outputs: bytes | None,
        fingerprints: Mapping[str, str],
    ) -> None:
        """Record (or replace) the baseline called `name`."""
        self.conn.execute(
            "INSERT OR REPLACE INTO baselines(name, run_id, code, checks, outputs, fingerprints,"
            " created_at) VALUES (?,?,?,?,?,?,?)",
            (
                name,
                run_id,
                code,
                json.dumps(list(checks)),
                outputs,
                json.dumps(dict(fingerprints), sort_keys=True),
                utc_now(),
            ),
        )

    def add_experiment(self, row: ExperimentRow) -> int:
        """Insert an experiment; returns its id."""
        values = asdict(row)
        values.pop("id")
        values["created_at"] = utc_now()
        values["detail"] = json.dumps(row.detail, sort_keys=True)
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cursor = self.conn.execute(
            f"INSERT INTO experiments({columns}) VALUES ({marks})", tuple(values.values())
        )
        return int(cursor.lastrowid or 0)

    def add_phase_event(
        self,
        workflow: str,
        phase: str,
        state: str,
        reason: str = "",
        *,
        run_id: int | None = None,
        experiment_id: int | None = None,
    ) -> None:
        """Append one state change of a workflow phase."""
        self.conn.execute(
            "INSERT INTO phase_events(workflow, phase, state, reason, run_id, experiment_id,"
            " created_at) VALUES (?,?,?,?,?,?,?)",
            (workflow, phase, state, reason, run_id, experiment_id, utc_now()),
        )
