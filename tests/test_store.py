"""The run store: round trips, the default path, bad files, two writers, crashes, a full disk."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import workbench
from workbench import machine
from workbench.errors import StoreError
from workbench.profiling.report import Report
from workbench.store.db import RunStore, pack_frame, resolve_store_path, unpack_frame
from workbench.store.schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[1]


def small_report() -> Report:
    return workbench.profile(
        "def leaf(x):\n    return x + 1\nsum(leaf(i) for i in range(500))\n", {}, call_cost_s=1e-7
    )


def env() -> machine.Environment:
    return machine.current_environment(device="test device")


def test_a_report_round_trips_with_its_tables_exactly(isolated_cwd: Path) -> None:
    report = small_report()
    with RunStore() as store:
        run_id = store.add_run(report, env=env(), code="cell code", findings=[{"kind": "k"}])
        run = store.get_run(run_id)
    assert store.path == isolated_cwd / ".workbench" / "runs.sqlite"
    for name in ("categories", "functions", "top", "wins"):
        pd.testing.assert_frame_equal(run.tables[name], getattr(report, name))
    assert run.profiled_s == report.profiled_s
    assert run.calls == report.calls
    assert run.code == "cell code"
    assert run.device == "test device"
    assert run.findings == [{"kind": "k"}]
    assert run.overhead["method"] == "estimated"


def test_runs_lists_every_run_without_tables_and_survives_reopening(isolated_cwd: Path) -> None:
    report = small_report()
    with RunStore() as store:
        for _ in range(3):
            store.add_run(report, env=env())
    listing = workbench.runs()
    assert list(listing["id"]) == [1, 2, 3]
    assert listing["complete"].dtype == bool
    assert "functions" in listing.columns and "code" not in listing.columns


def test_runs_are_found_by_id_position_name_and_label(isolated_cwd: Path) -> None:
    report = small_report()
    with RunStore() as store:
        store.add_run(report, env=env(), kind="baseline", name="base")
        store.add_run(report, env=env())
        assert store.resolve_run(-1) == 2
        assert store.resolve_run("-2") == 1
        assert store.resolve_run("base") == 1
        assert store.resolve_run("code") == 2  # the label profile() gives source code
        with pytest.raises(StoreError, match=r"no run 'nope'.*recent runs: #2"):
            store.resolve_run("nope")


def test_missing_baseline_names_those_that_exist(isolated_cwd: Path) -> None:
    with RunStore() as store:
        with pytest.raises(StoreError, match="none is recorded yet"):
            store.baseline("base")
        run_id = store.add_run(small_report(), env=env())
        with store.write() as writer:
            writer.set_baseline("base", run_id, "x = 1", [], None, {})
        with pytest.raises(StoreError, match=r"no baseline named 'other'.*recorded: base"):
            store.baseline("other")
        assert store.baseline().name == "base"


def test_path_comes_from_argument_env_then_pyproject(
    isolated_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = isolated_cwd / "proj"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert resolve_store_path(start=project / "sub") == project / ".workbench" / "runs.sqlite"
    (project / "pyproject.toml").write_text('[tool.workbench]\nstore = "data/r.sqlite"\n')
    assert resolve_store_path(start=project / "sub") == project / "data" / "r.sqlite"
    monkeypatch.setenv("WORKBENCH_STORE", str(isolated_cwd / "env.sqlite"))
    assert resolve_store_path(start=project) == isolated_cwd / "env.sqlite"
    assert resolve_store_path("given.sqlite") == isolated_cwd / "given.sqlite"


def test_a_corrupt_file_is_a_clear_error_and_is_left_alone(isolated_cwd: Path) -> None:
    bad = isolated_cwd / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a readable workbench run store"):
        RunStore(bad)
    assert bad.read_bytes() == b"this is not sqlite at all" * 100


def test_a_newer_schema_is_refused(isolated_cwd: Path) -> None:
    path = isolated_cwd / "new.sqlite"
    RunStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
    with pytest.raises(StoreError, match="written by a newer workbench"):
        RunStore(path)


def test_another_programs_sqlite_file_is_refused(isolated_cwd: Path) -> None:
    path = isolated_cwd / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    with pytest.raises(StoreError, match="SQLite file of another program"):
        RunStore(path)


def test_a_full_disk_writes_nothing_and_keeps_earlier_runs(isolated_cwd: Path) -> None:
    report = small_report()
    with RunStore() as store:
        store.add_run(report, env=env())
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        # SQLite's own page limit gives the same SQLITE_FULL error a full disk gives.
        store.conn.execute(f"PRAGMA max_page_count = {pages}")
        full = pytest.raises(StoreError, match="is full: nothing from this write was stored")
        with full, store.write() as writer:
            writer.add_phase_event("default", "Profile", "Completed")
            for _ in range(20):
                writer.add_run(report, env=env(), code="x" * 5000)
        assert list(store.runs()["id"]) == [1]
        assert store.phase_events("default") == []
        assert store.check() == "ok"


def test_an_exception_inside_a_write_rolls_everything_back(isolated_cwd: Path) -> None:
    with RunStore() as store:
        with pytest.raises(RuntimeError), store.write() as writer:
            writer.add_run(small_report(), env=env())
            raise RuntimeError("stop")
        assert store.runs().empty


def _writer(path: str, count: int) -> None:
    report = small_report()
    with RunStore(path) as store:
        for _ in range(count):
            store.add_run(report, env=env())


def test_two_processes_writing_at_once_lose_nothing(isolated_cwd: Path) -> None:
    path = str(isolated_cwd / "shared.sqlite")
    RunStore(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, 15)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with RunStore(path) as store:
        assert len(store.runs()) == 30
        assert store.check() == "ok"


def test_a_process_killed_mid_write_leaves_the_store_consistent(isolated_cwd: Path) -> None:
    path = isolated_cwd / "crash.sqlite"
    with RunStore(path) as store:
        store.add_run(small_report(), env=env())
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(REPO)!r})
        import workbench
        from workbench import machine
        from workbench.store.db import RunStore
        report = workbench.profile("sum(range(10))", {{}}, call_cost_s=1e-7)
        store = RunStore({str(path)!r})
        with store.write() as writer:
            writer.add_run(report, env=machine.current_environment(device="d"))
            os._exit(3)  # the kernel dies before the commit
        """
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=120, check=False)
    assert done.returncode == 3
    with RunStore(path) as store:
        assert list(store.runs()["id"]) == [1]
        assert store.check() == "ok"
        assert len(store.get_run(1).functions) > 0


def test_empty_and_typed_frames_pack_losslessly() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": [0.1, 1e-300], "c": ["x", "y"], "d": [True, False]})
    pd.testing.assert_frame_equal(unpack_frame(pack_frame(frame)), frame)
    assert unpack_frame(pack_frame(pd.DataFrame())).empty


def test_git_commit_is_read_from_the_repository(isolated_cwd: Path) -> None:
    assert machine.git_commit(isolated_cwd) is None
    git = isolated_cwd / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text("abc123\n")
    assert machine.git_commit(isolated_cwd / "repo") == "abc123"
    (git / "refs" / "heads" / "main").unlink()
    (git / "packed-refs").write_text("# pack\ndef456 refs/heads/main\n")
    assert machine.git_commit(isolated_cwd / "repo") == "def456"
