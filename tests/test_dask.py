"""Tasks sent to a real Dask LocalCluster (two worker processes) are profiled on the
workers through a WorkerPlugin, read back as JSON and merged: the DSL they run shows as
the DSL, one row per worker; the plugin is gone afterwards, also on error; a scheduler
that cannot be reached or workers without the workbench give one note."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from coverage_work import griddsl, tasks

import workbench

distributed = pytest.importorskip("distributed")

DSL = ["DSL=*/coverage_work/griddsl.py"]
ROUNDS = [2500] * 6


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(2)
        yield client


def plugins_left(client: Any) -> tuple[list[str], list[str], list[bool]]:
    """The workbench plugins on the workers and the scheduler, and whether an executor
    still carries a wrapped submit."""

    def on_worker(dask_worker: Any) -> tuple[list[str], bool]:
        names = [n for n in dask_worker.plugins if n.startswith("workbench")]
        wrapped = any("submit" in vars(e) for e in dask_worker.executors.values())
        return names, wrapped

    def on_scheduler(dask_scheduler: Any) -> list[str]:
        return [n for n in dask_scheduler.worker_plugins if n.startswith("workbench")]

    answers = client.run(on_worker).values()
    names = [n for found, _ in answers for n in found]
    return names, client.run_on_scheduler(on_scheduler), [w for _, w in answers]


def dsl_cell(client: Any) -> Any:
    def cell() -> list[int]:
        return list(client.gather(client.map(tasks.solve_task, ROUNDS, pure=False)))

    return cell


def test_tasks_on_two_workers_show_the_dsl_with_a_row_per_worker(client: Any) -> None:
    report = workbench.profile(dsl_cell(client), category=DSL, use_pyproject=False)
    assert report.result == [griddsl.solve(2500)] * len(ROUNDS)
    cats = report.categories.set_index("category")
    assert report.wins.iloc[0]["category"] == "DSL", report.categories
    assert cats.loc["DSL", "corrected_pct"] > 60, report.categories
    # the kernel's own part is the wait for the workers: waiting, never a win
    assert "waiting" not in set(report.wins["category"])
    procs = report.processes
    assert procs is not None and len(procs) == 2, procs
    assert set(procs["kind"]) == {"dask-worker"}
    workers = set(client.scheduler_info()["workers"])
    assert {p.rsplit("(", 1)[-1].rstrip(")") for p in procs["process"]} == workers
    assert (procs["pid"] > 0).all() and procs["complete"].all()
    assert (procs["largest_category"] == "DSL").all(), procs
    tasks_run = sum(int(note.split()[0]) for note in procs["note"])
    assert tasks_run == len(ROUNDS)
    # the workers' DSL time is in the merged profile
    dsl = report.functions[report.functions["category"] == "DSL"]["tottime"].sum()
    assert dsl == pytest.approx(cats.loc["DSL", "self_s"])
    assert any("Dask worker(s)" in r for r in report.remarks)
    assert plugins_left(client) == ([], [], [False, False])


def test_the_magic_on_a_cell_that_maps_over_the_cluster(shell: Any, client: Any) -> None:
    from IPython.utils.capture import capture_output

    shell.user_ns["client"] = client
    shell.run_cell("from coverage_work import tasks")
    with capture_output():
        shown = shell.run_cell(
            "%%optimize -c DSL=*/coverage_work/griddsl.py -o r\n"
            "futures = client.map(tasks.solve_task, [2500] * 4, pure=False)\n"
            "total = sum(client.gather(futures))\n"
        )
    assert shown.success, shown.error_in_exec or shown.error_before_exec
    assert shell.user_ns["total"] == 4 * griddsl.solve(2500)
    report = shell.user_ns["r"]
    assert report.wins.iloc[0]["category"] == "DSL", report.categories
    procs = report.processes
    assert procs is not None and set(procs["kind"]) == {"dask-worker"}
    assert 1 <= len(procs) <= 2 and (procs["largest_category"] == "DSL").all()
    assert plugins_left(client) == ([], [], [False, False])


def test_a_sampling_mode_says_the_workers_are_not_seen(client: Any) -> None:
    report = workbench.profile(dsl_cell(client), mode="sample", use_pyproject=False)
    assert report.result == [griddsl.solve(2500)] * len(ROUNDS)
    notes = [r for r in report.remarks if "Dask client is active" in r]
    assert len(notes) == 1 and "--mode cprofile" in notes[0], report.remarks
    assert plugins_left(client) == ([], [], [False, False])


def test_the_code_own_error_comes_back_and_the_plugin_is_removed(client: Any) -> None:
    def cell() -> None:
        client.gather(client.map(tasks.solve_task, [200, 200], pure=False))
        raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        workbench.profile(cell, use_pyproject=False)
    assert plugins_left(client) == ([], [], [False, False])


def _hide_workbench(dask_worker: Any) -> None:
    """On a worker: make `workbench` not importable (as if it were not installed)."""
    import importlib.abc

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, *args: object) -> None:
            if name == "workbench" or name.startswith("workbench."):
                raise ModuleNotFoundError(f"No module named {name!r}")

    hidden = {n: m for n, m in sys.modules.items() if n.split(".")[0] == "workbench"}
    for name in hidden:
        del sys.modules[name]
    dask_worker._workbench_hidden = (hidden, Refuse())
    sys.meta_path.insert(0, dask_worker._workbench_hidden[1])


def _show_workbench(dask_worker: Any) -> None:
    hidden, finder = dask_worker._workbench_hidden
    sys.meta_path.remove(finder)
    sys.modules.update(hidden)


def test_workers_without_the_workbench_give_one_note_and_the_local_part(client: Any) -> None:
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    client.run(_hide_workbench)
    try:
        report = workbench.profile(dsl_cell(client), category=DSL, use_pyproject=False)
    finally:
        client.run(_show_workbench)
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert report.result == [griddsl.solve(2500)] * len(ROUNDS)
    notes = [r for r in report.remarks if "Dask" in r]
    assert len(notes) == 1, notes
    assert "could not load the workbench" in notes[0] and "install the workbench" in notes[0]
    assert report.processes is None or len(report.processes) == 0
    assert not report.categories.empty  # the kernel's part is still there
    assert plugins_left(client) == ([], [], [False, False])


def start_scheduler() -> tuple[subprocess.Popen[bytes], Any]:
    """A scheduler in a process of its own (no workers), and a client of it."""
    scheduler = subprocess.Popen(
        [
            *(sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0"),
            *("--no-dashboard", "--scheduler-file", "scheduler.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lonely = distributed.Client(scheduler_file="scheduler.json", timeout=30)
    except BaseException:
        scheduler.kill()
        raise
    return scheduler, lonely


def test_an_unreachable_scheduler_gives_one_note_and_the_local_part() -> None:
    scheduler, lonely = start_scheduler()
    try:
        scheduler.kill()
        scheduler.wait()
        with lonely.as_current():  # the fixture's client is the default one
            report = workbench.profile(
                lambda: griddsl.solve(300), category=DSL, use_pyproject=False
            )
    finally:
        lonely.close(timeout=5)
    assert report.result == griddsl.solve(300)
    notes = [r for r in report.remarks if "Dask" in r]
    assert len(notes) == 1, notes
    assert "could not be reached" in notes[0], notes
    assert report.categories.set_index("category").loc["DSL", "self_s"] > 0


def test_a_scheduler_that_does_not_answer_times_out_into_one_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import signal

    from workbench.profiling import dask_workers

    monkeypatch.setattr(dask_workers, "TIMEOUT_S", 1.0)
    scheduler, hung = start_scheduler()
    try:
        scheduler.send_signal(signal.SIGSTOP)  # connected, but it answers nothing
        with hung.as_current():
            report = workbench.profile(
                lambda: griddsl.solve(300), category=DSL, use_pyproject=False
            )
    finally:
        scheduler.kill()
        scheduler.wait()
        hung.close(timeout=5)
    assert report.result == griddsl.solve(300)
    notes = [r for r in report.remarks if "Dask" in r]
    assert len(notes) == 1, notes
    assert "could not be reached" in notes[0] and "Timeout" in notes[0], notes
    assert report.categories.set_index("category").loc["DSL", "self_s"] > 0


def test_a_cluster_in_this_process_counts_each_task_once() -> None:
    with (
        distributed.LocalCluster(
            n_workers=1, processes=False, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as inproc,
        inproc.as_current(),
    ):

        def cell() -> list[int]:
            return list(inproc.gather(inproc.map(tasks.solve_task, [1500] * 2, pure=False)))

        # first cell: the worker's thread starts in it, so the thread capture profiles it
        first = workbench.profile(cell, category=DSL, use_pyproject=False)
        # second cell: the thread ran before, so the worker's plugin profiles the tasks
        second = workbench.profile(cell, category=DSL, use_pyproject=False)
    for report in (first, second):
        assert report.result == [griddsl.solve(1500)] * 2
        assert report.wins.iloc[0]["category"] == "DSL", report.categories
        dsl = report.functions[report.functions["category"] == "DSL"]
        # each task's solve counted once: two calls of the DSL's entry point
        assert dsl.set_index("name").loc["solve", "ncalls"] == 2, dsl
    assert any("profiled already" in r for r in first.remarks)
    assert first.processes is None or len(first.processes) == 0
    if sys.version_info >= (3, 12):  # the capture's cProfile sees every thread: as before
        assert any("profiled already" in r for r in second.remarks)
        assert second.processes is None or len(second.processes) == 0
        return
    assert second.processes is not None and len(second.processes) == 1
    assert second.processes.iloc[0]["largest_category"] == "DSL"
