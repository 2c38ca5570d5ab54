"""What the run store holds, as plain objects (runs, baselines, experiments, phase
events), how report tables are packed into blobs (zlib-compressed JSON columns), and the
:class:`Writer` that inserts them inside one transaction."""

from __future__ import annotations

import json
import math
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


MAX_TABLE_BYTES = 256 * 1024 * 1024  # a 10,000-function run packs to a few MB


class DamagedRow(ValueError):
    """A stored row whose field does not hold what the store writes; db.py names the run."""


def unpack_frame(blob: bytes) -> pd.DataFrame:
    """The DataFrame :func:`pack_frame` stored; DamagedRow when the blob is not one."""
    try:
        inflate = zlib.decompressobj()
        text = inflate.decompress(bytes(blob), MAX_TABLE_BYTES)
        if inflate.unconsumed_tail:
            raise DamagedRow(f"a table unpacks to more than {MAX_TABLE_BYTES >> 20} MiB")
        payload = json.loads(text)
        columns, data = payload["columns"], payload["data"]
        if not (isinstance(columns, list) and isinstance(data, dict)):
            raise DamagedRow("a table blob is not a columns/data pair")
        if set(columns) != set(data) or not all(isinstance(v, list) for v in data.values()):
            raise DamagedRow("a table blob's columns do not match its data")
        return pd.DataFrame(data, columns=columns)
    except DamagedRow:
        raise
    except (zlib.error, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise DamagedRow(f"a table blob cannot be read ({type(exc).__name__}: {exc})") from None


def _field(
    row: Mapping[str, Any], name: str, kind: type | tuple[type, ...], *, null: bool = False
) -> Any:
    if name not in row:
        raise DamagedRow(f"it has no {name} column")
    value = row[name]
    if value is None and null:
        return None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise DamagedRow(f"its {name} holds a {type(value).__name__}")
    return value


def _number(row: Mapping[str, Any], name: str) -> float:
    value = _field(row, name, (int, float))
    if not math.isfinite(value):
        raise DamagedRow(f"its {name} is {value!r}")
    return float(value)


def _json(row: Mapping[str, Any], name: str, kind: type) -> Any:
    text = _field(row, name, str)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DamagedRow(f"its {name} is not JSON ({exc})") from None
    if not isinstance(value, kind):
        raise DamagedRow(f"its {name} holds a {type(value).__name__}, not a {kind.__name__}")
    return value


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
    origin: str | None = None

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
    """A named baseline: the run that recorded it, its code and its reference outputs.

    `session`, `git_commit`, `device` and `python` come from the run that recorded it: the
    session tells whether this kernel wrote it (see ``workbench.store.provenance``).
    """

    name: str
    run_id: int
    code: str
    checks: list[str]
    outputs: bytes | None
    fingerprints: dict[str, str]
    created_at: str
    session: str | None = None
    git_commit: str | None = None
    device: str = ""
    python: str = ""


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
        origin: str | None = None,
    ) -> int:
        """Insert a report (its summary row and its four tables); returns the run id.
        `origin` names the notebook or script the run came from."""
        cursor = self.conn.execute(
            "INSERT INTO runs(kind, name, label, created_at, code, git_commit, python, versions,"
            " device, session, profiled_s, wall_s, calls, functions, complete, error, overhead,"
            " rules, top_n, findings, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                origin,
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


def run_from_row(row: Mapping[str, Any]) -> StoredRun:
    """A runs row as a StoredRun, every field checked; DamagedRow names the first bad one."""
    findings = _json(row, "findings", list)
    if not all(isinstance(item, dict) for item in findings):
        raise DamagedRow("its findings are not a list of tables")
    versions = _json(row, "versions", dict)
    return StoredRun(
        id=_field(row, "id", int),
        kind=_field(row, "kind", str),
        name=_field(row, "name", str, null=True),
        label=_field(row, "label", str),
        created_at=_field(row, "created_at", str),
        code=_field(row, "code", str, null=True),
        git_commit=_field(row, "git_commit", str, null=True),
        python=_field(row, "python", str),
        versions={str(k): str(v) for k, v in versions.items()},
        device=_field(row, "device", str),
        profiled_s=_number(row, "profiled_s"),
        wall_s=_number(row, "wall_s"),
        calls=_field(row, "calls", int),
        complete=bool(_field(row, "complete", int)),
        error=_field(row, "error", str, null=True),
        overhead=_json(row, "overhead", dict),
        rules=[str(rule) for rule in _json(row, "rules", list)],
        top_n=_field(row, "top_n", int),
        findings=findings,
        origin=_field(row, "origin", str, null=True) if "origin" in row else None,
    )


def baseline_from_row(row: Mapping[str, Any]) -> StoredBaseline:
    """A baselines row (joined with its run's provenance) as a StoredBaseline, checked."""
    checks = _json(row, "checks", list)
    fingerprints = _json(row, "fingerprints", dict)
    if not all(isinstance(c, str) for c in checks):
        raise DamagedRow("its checks are not variable names")
    if not all(isinstance(v, str) for v in fingerprints.values()):
        raise DamagedRow("its fingerprints are not text")
    return StoredBaseline(
        name=_field(row, "name", str),
        run_id=_field(row, "run_id", int),
        code=_field(row, "code", str),
        checks=checks,
        outputs=_field(row, "outputs", bytes, null=True),
        fingerprints=fingerprints,
        created_at=_field(row, "created_at", str),
        session=_field(row, "session", str, null=True),
        git_commit=_field(row, "git_commit", str, null=True),
        device=_field(row, "device", str, null=True) or "",
        python=_field(row, "python", str, null=True) or "",
    )
