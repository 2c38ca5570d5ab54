"""The run store and its file: another program's file stays byte-identical, a read-only store
is read, damaged rows are named, a deleted or replaced file is noticed, prune and vacuum keep
the store small, and the session's store stays put when a cell changes folder."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench import machine
from workbench.errors import StoreError
from workbench.profiling.report import Report
from workbench.store.db import RunStore, resolve_store_path
from workbench.store.maintenance import delete_runs, parse_age, prune, vacuum
from workbench.store.provenance import code_digest, review_baseline
from workbench.store.records import ExperimentRow


def small_report() -> Report:
    return workbench.profile("sum(i * i for i in range(300))\n", {}, call_cost_s=1e-7)


def env() -> machine.Environment:
    return machine.current_environment(device="test device")


def experiment(baseline_run: int, candidate_run: int) -> ExperimentRow:
    return ExperimentRow(
        name="cand", baseline="base", baseline_run=baseline_run, candidate_run=candidate_run,
        verdict="keep", reason="faster", speedup=1.5, ci_low=1.2, ci_high=1.8, confidence=0.99,
        baseline_median=0.3, candidate_median=0.2, rounds=10, correctness="equal",
    )  # fmt: skip


# --- another program's file ---------------------------------------------------------------


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_another_programs_sqlite_file_is_left_byte_identical(
    isolated_cwd: Path, journal: str
) -> None:
    path = isolated_cwd / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA journal_mode={journal}")
        conn.execute("CREATE TABLE users (id INTEGER, name TEXT)")
        conn.execute("INSERT INTO users VALUES (1, 'ada')")
    conn.close()
    before = path.read_bytes()
    listing_before = sorted(p.name for p in isolated_cwd.iterdir())
    with pytest.raises(StoreError, match=r"SQLite file of another program.*left as it is"):
        workbench.runs(path)
    with pytest.raises(StoreError, match="another program"):
        RunStore(path, read_only=True)
    assert path.read_bytes() == before  # header bytes 18-19 (the journal mode) included
    assert sorted(p.name for p in isolated_cwd.iterdir()) == listing_before


def test_a_meta_table_of_another_app_is_refused_unchanged(isolated_cwd: Path) -> None:
    path = isolated_cwd / "meta.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('app', 'something-else')")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="names 'something-else'"):
        workbench.runs(path)
    assert path.read_bytes() == before


# --- read-only stores ------------------------------------------------------------------------


def _store_with_a_run(path: Path) -> int:
    with RunStore(path) as store:
        run_id = store.add_run(small_report(), env=env(), code="cell")
        with store.write() as writer:
            writer.set_baseline("base", run_id, "cell", [], None, {})
    return run_id


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder whose files cannot be written: a read-only file system for root (which
    ignores permission bits), permission bits for everyone else. Yields the folder while
    still writable is not possible on a mount, so files are copied in by `make_read_only`."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    if os.geteuid() == 0:
        subprocess.run(["umount", str(folder)], check=False, capture_output=True)
    else:
        folder.chmod(0o755)


def make_read_only(folder: Path, store: Path) -> Path:
    if os.geteuid() == 0:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)], capture_output=True
        )
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a read-only file system here: {mounted.stderr!r}")
        shutil.copy(store, folder / store.name)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        shutil.copy(store, folder / store.name)
        (folder / store.name).chmod(0o444)
        folder.chmod(0o555)
    return folder / store.name


def test_a_store_on_a_read_only_file_system_is_read_and_refuses_writes(
    isolated_cwd: Path, read_only_folder: Path
) -> None:
    source = isolated_cwd / "runs.sqlite"
    run_id = _store_with_a_run(source)
    path = make_read_only(read_only_folder, source)
    before = path.read_bytes()
    assert list(workbench.runs(path)["id"]) == [run_id]
    with RunStore(path) as store:
        assert store.read_only
        assert len(store.get_run(run_id).functions) > 0
        assert store.baseline("base").code == "cell"
        with pytest.raises(StoreError, match=r"read-only.*nothing was written"):
            store.add_run(small_report(), env=env())
    assert path.read_bytes() == before


def test_read_only_on_request_never_writes(isolated_cwd: Path) -> None:
    path = isolated_cwd / "runs.sqlite"
    _store_with_a_run(path)
    before = path.read_bytes()
    with RunStore(path, read_only=True) as store:
        assert len(store.runs()) == 1
        with pytest.raises(StoreError, match="read-only"):
            store.add_run(small_report(), env=env())
        with pytest.raises(StoreError, match="read-only"):
            vacuum(store)
    assert path.read_bytes() == before
    with pytest.raises(StoreError, match="no run store at"):
        RunStore(isolated_cwd / "missing.sqlite", read_only=True)
    assert not (isolated_cwd / "missing.sqlite").exists()


# --- damaged rows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "params", "named"),
    [
        ("UPDATE runs SET versions = ? WHERE id = 1", ("{not json",), "its versions is not JSON"),
        ("UPDATE runs SET findings = ? WHERE id = 1", ("[1, 2]",), "findings are not a list"),
        ("UPDATE runs SET profiled_s = ? WHERE id = 1", ("fast",), "its profiled_s holds a str"),
        ("UPDATE run_tables SET data = ? WHERE run_id = 1", (b"garbage",), "Error"),
        (
            "UPDATE run_tables SET data = ? WHERE run_id = 1",
            (zlib.compress(b'{"columns": ["a"], "data": {"b": []}}'),),
            "columns do not match",
        ),
        ("UPDATE run_tables SET data = ? WHERE run_id = 1", ("text",), "table is not a blob"),
    ],
)
def test_a_damaged_run_is_a_store_error_naming_it(
    isolated_cwd: Path, sql: str, params: tuple[object, ...], named: str
) -> None:
    path = isolated_cwd / "runs.sqlite"
    with RunStore(path) as store:
        store.add_run(small_report(), env=env())
        store.add_run(small_report(), env=env())
    with sqlite3.connect(path) as conn:
        conn.execute(sql, params)
    conn.close()
    with RunStore(path) as store:
        with pytest.raises(StoreError, match=rf"run #1 in the run store .* is damaged \(.*{named}"):
            store.get_run(1)
        assert len(store.get_run(2).functions) > 0  # the rest is readable
        assert list(store.runs()["id"]) == [1, 2]


def test_a_damaged_baseline_and_experiment_are_named(isolated_cwd: Path) -> None:
    path = isolated_cwd / "runs.sqlite"
    run_id = _store_with_a_run(path)
    with RunStore(path) as store, store.write() as writer:
        writer.add_experiment(experiment(run_id, run_id))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE baselines SET checks = '{\"a\": 1}'")
        conn.execute("UPDATE experiments SET detail = 'nope'")
    conn.close()
    with RunStore(path) as store:
        with pytest.raises(
            StoreError, match=r"baseline 'base' .* damaged \(its checks holds a dict"
        ):
            store.baseline("base")
        with pytest.raises(StoreError, match=r"experiment #1 .* damaged"):
            store.experiments()


# --- the file deleted or replaced under a running kernel ------------------------------------


def test_a_store_deleted_under_the_kernel_is_noticed_and_started_anew(isolated_cwd: Path) -> None:
    path = isolated_cwd / ".workbench" / "runs.sqlite"
    store = RunStore(path)
    store.add_run(small_report(), env=env())
    shutil.rmtree(path.parent)  # what `rm -rf .workbench` does while the kernel runs
    with pytest.raises(StoreError, match="was deleted after this kernel opened it: nothing was"):
        store.add_run(small_report(), env=env())
    assert not store.closed
    run_id = store.add_run(small_report(), env=env())  # the next write starts a new store
    store.close()
    assert run_id == 1
    assert list(workbench.runs(path)["id"]) == [1]  # what another process sees


def test_a_store_replaced_under_the_kernel_is_noticed_then_read_anew(isolated_cwd: Path) -> None:
    path = isolated_cwd / "runs.sqlite"
    other = isolated_cwd / "other.sqlite"
    with RunStore(other) as store:
        for _ in range(3):
            store.add_run(small_report(), env=env())
    store = RunStore(path)
    store.add_run(small_report(), env=env())
    os.replace(other, path)
    with pytest.raises(StoreError, match="was replaced by another file"):
        store.runs()
    assert list(store.runs()["id"]) == [1, 2, 3]
    store.close()


# --- prune and vacuum ------------------------------------------------------------------------


def test_prune_keeps_the_latest_and_baselines_and_unlinks_experiments(isolated_cwd: Path) -> None:
    path = isolated_cwd / "runs.sqlite"
    report = small_report()
    with RunStore(path) as store:
        ids = [store.add_run(report, env=env(), code="x" * 20_000) for _ in range(6)]
        with store.write() as writer:
            writer.set_baseline("base", ids[0], "x", [], None, {})
            writer.add_experiment(experiment(ids[0], ids[1]))
            writer.add_phase_event("default", "Profile", "Completed", run_id=ids[2])
        result = prune(store, keep=2)
        assert result.removed == ids[1:4]
        assert list(store.runs()["id"]) == [ids[0], *ids[4:]]
        (row,) = store.experiments()
        assert (row.baseline_run, row.candidate_run, row.speedup) == (ids[0], None, 1.5)
        assert store.phase_events("default")[0].run_id is None
        assert result.bytes_after < result.bytes_before
        assert store.check() == "ok"
        with pytest.raises(StoreError, match="hold current baselines: nothing was removed"):
            delete_runs(store, [ids[0]])


def test_prune_older_than_uses_the_recorded_time(isolated_cwd: Path) -> None:
    path = isolated_cwd / "runs.sqlite"
    with RunStore(path) as store:
        for _ in range(3):
            store.add_run(small_report(), env=env())
        store.conn.execute("UPDATE runs SET created_at = '2020-01-01T00:00:00+00:00' WHERE id < 3")
        now = datetime(2020, 1, 31, tzinfo=timezone.utc)
        assert prune(store, older_than="40d", now=now).removed == []
        assert prune(store, older_than="20d", now=now).removed == [1, 2]
        assert prune(store).removed == []  # no argument: nothing goes
    assert parse_age("12h") == timedelta(hours=12)
    assert parse_age(timedelta(weeks=2)) == parse_age("2w") == parse_age(14)
    for bad in ("soon", -1, True):
        with pytest.raises(StoreError, match="older_than"):
            parse_age(bad)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="keep must be"):
        prune(path, keep=-1)


def test_a_replaced_large_baseline_is_given_back_by_prune(isolated_cwd: Path) -> None:
    path = isolated_cwd / "runs.sqlite"
    with RunStore(path) as store:
        run_id = store.add_run(small_report(), env=env())
        with store.write() as writer:
            writer.set_baseline("base", run_id, "x", [], os.urandom(4_000_000), {})
        big = os.stat(path).st_size + os.stat(f"{path}-wal").st_size
        with store.write() as writer:  # recorded again, without kept outputs
            writer.set_baseline("base", run_id, "x", [], None, {})
        after = prune(store).bytes_after
    assert big > 4_000_000 > 1_000_000 > after


# --- where the session's store lives ---------------------------------------------------------


def test_relative_paths_are_anchored_at_the_session_folder(isolated_cwd: Path) -> None:
    start = isolated_cwd
    elsewhere = isolated_cwd / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    assert resolve_store_path(start=start) == start / ".workbench" / "runs.sqlite"
    assert resolve_store_path("mine.sqlite", start=start) == start / "mine.sqlite"
    assert resolve_store_path("/abs/r.sqlite", start=start) == Path("/abs/r.sqlite")
    assert resolve_store_path() == elsewhere / ".workbench" / "runs.sqlite"  # no session


# --- baselines this kernel did not write -----------------------------------------------------


def test_a_baseline_from_another_session_is_shown_before_it_is_re_run(isolated_cwd: Path) -> None:
    path = isolated_cwd / "runs.sqlite"
    with RunStore(path) as store:
        run_id = store.add_run(small_report(), env=env(), session="111-1")
        with store.write() as writer:
            writer.set_baseline("base", run_id, "import os\nos.remove('x')\n", [], None, {})
        baseline = store.baseline("base")
    assert baseline.session == "111-1"
    assert baseline.device == "test device"
    assert review_baseline(baseline, session="111-1", store=path) is None
    review = review_baseline(baseline, session="222-2", store=path)
    assert review is not None
    assert review.digest == code_digest("import os\nos.remove('x')\n")
    text = review.text()
    assert "another kernel session (111-1)" in text and str(path) in text
    assert "    os.remove('x')" in text
    assert review_baseline(baseline, session="222-2", store=path, confirmed={review.digest}) is None


def test_os_chdir_in_a_cell_does_not_move_the_sessions_store(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    elsewhere = isolated_cwd / "elsewhere"
    elsewhere.mkdir()
    with capture_output():
        shell.run_cell("%%optimize -q\nsum(range(100))")
        shell.run_cell(f"import os\nos.chdir({str(elsewhere)!r})")
        result = shell.run_cell("%%optimize -q\nsum(range(200))")
    assert result.error_in_exec is None
    assert len(workbench.runs(isolated_cwd / ".workbench" / "runs.sqlite")) == 2
    assert not (elsewhere / ".workbench").exists()
