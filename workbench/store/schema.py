"""The run store's schema and where its file lives.

The path, in order of precedence: the argument (``--store PATH``), the environment
variable ``WORKBENCH_STORE``, ``[tool.workbench] store = "..."`` in the nearest
pyproject.toml (relative to that file's folder), else ``.workbench/runs.sqlite`` in the
folder of the nearest pyproject.toml, else in the working folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.profiling.config import pyproject_settings

APP_ID = "workbench-runs"
SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA_VERSION = 2
ENV_VAR = "WORKBENCH_STORE"
DEFAULT_RELATIVE = Path(".workbench") / "runs.sqlite"
TABLE_NAMES = ("categories", "functions", "top", "wins")
RUN_LIST_COLUMNS = (
    "id",
    "created_at",
    "kind",
    "name",
    "label",
    "profiled_s",
    "wall_s",
    "calls",
    "functions",
    "complete",
    "git_commit",
    "device",
    "python",
    "origin",
)

SCHEMA_SQL = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        name TEXT,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL,
        code TEXT,
        git_commit TEXT,
        python TEXT NOT NULL,
        versions TEXT NOT NULL,
        device TEXT NOT NULL,
        session TEXT,
        profiled_s REAL NOT NULL,
        wall_s REAL NOT NULL,
        calls INTEGER NOT NULL,
        functions INTEGER NOT NULL,
        complete INTEGER NOT NULL,
        error TEXT,
        overhead TEXT NOT NULL,
        rules TEXT NOT NULL,
        top_n INTEGER NOT NULL,
        findings TEXT NOT NULL,
        origin TEXT
    )""",
    "CREATE INDEX runs_name ON runs(name)",
    "CREATE INDEX runs_label ON runs(label)",
    """CREATE TABLE run_tables (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (run_id, name)
    )""",
    """CREATE TABLE baselines (
        name TEXT PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        code TEXT NOT NULL,
        checks TEXT NOT NULL,
        outputs BLOB,
        fingerprints TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE experiments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        baseline TEXT NOT NULL,
        baseline_run INTEGER REFERENCES runs(id),
        candidate_run INTEGER REFERENCES runs(id),
        created_at TEXT NOT NULL,
        verdict TEXT NOT NULL,
        reason TEXT NOT NULL,
        speedup REAL,
        ci_low REAL,
        ci_high REAL,
        confidence REAL NOT NULL,
        baseline_median REAL,
        candidate_median REAL,
        rounds INTEGER NOT NULL,
        correctness TEXT NOT NULL,
        detail TEXT NOT NULL
    )""",
    """CREATE TABLE phase_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workflow TEXT NOT NULL,
        phase TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id),
        experiment_id INTEGER REFERENCES experiments(id),
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX phase_events_workflow ON phase_events(workflow, id)",
)
# What brings a store of each older schema version to the next, run in one transaction
# when a writable store is opened. 1 -> 2: `origin`, the notebook or script of each run.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE runs ADD COLUMN origin TEXT",),
}


def resolve_path(
    path: str | os.PathLike[str] | None = None,
    *,
    start: str | os.PathLike[str] | None = None,
    project: tuple[Path | None, dict[str, Any]] | None = None,
) -> Path:
    """Where the run store lives (see the module docstring for the order).

    A relative path (given, or from ``WORKBENCH_STORE``) and the search for pyproject.toml
    start from `start`, else the working folder. A session that passes the folder it began
    in keeps its store when a cell later changes the working folder (``os.chdir``).
    `project` is the nearest pyproject.toml and its [tool.workbench] table when the caller
    read them already.
    """
    base = Path(start if start is not None else Path.cwd()).resolve()
    if path is not None and str(path).strip():
        return (base / Path(path).expanduser()).resolve()
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return (base / Path(from_env).expanduser()).resolve()
    pyproject, settings = project if project is not None else pyproject_settings(base)
    if pyproject is None:
        return base / DEFAULT_RELATIVE
    configured = settings.get("store")
    if configured is None:
        return pyproject.parent / DEFAULT_RELATIVE
    if not isinstance(configured, str) or not configured.strip():
        raise ConfigError(f"{pyproject}: [tool.workbench] store must be a file path string")
    target = Path(configured).expanduser()
    return (target if target.is_absolute() else pyproject.parent / target).resolve()
