"""The part that runs on each Dask worker: a ``WorkerPlugin`` that profiles the tasks the
worker runs, and the function that reads its statistics back as JSON text.

Imported only where ``distributed`` is (on the workers, and in the kernel once a client
is active). On setup the plugin wraps ``submit`` of the worker's task executors (an
attribute of the executor object, so Dask's own checks of its type still hold): each task
then runs under cProfile in its executor thread, one profiler per thread (per interpreter
from Python 3.12, where cProfile is one ``sys.monitoring`` tool), switched on for the
task and off after it in that same thread. Teardown takes the wrapper off; a task still
running switches its profiler off when it ends. Nothing is written to disk; the
statistics leave the worker as JSON text (never pickle).
"""

from __future__ import annotations

import _lsprof
import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from workbench.profiling.stats import merge, stats_of, to_json

SHARED = sys.version_info >= (3, 12)  # one cProfile per interpreter there
SKIPPED_EXECUTORS = frozenset({"offload"})  # Dask's own (de)serialisation, not tasks


class TaskProfiler(WorkerPlugin):
    """Profiles every task the worker runs while it is registered."""

    idempotent = False

    def __init__(self, name: str) -> None:
        self.name = name
        self._state: _State | None = None

    def __getstate__(self) -> dict[str, Any]:  # only the name travels
        return {"name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.name = str(state["name"])
        self._state = None

    def setup(self, worker: Any) -> None:
        state = self._state = _State()
        seen: set[int] = set()
        for key, executor in list(worker.executors.items()):
            if key in SKIPPED_EXECUTORS and executor is not worker.executors.get("default"):
                continue
            if id(executor) in seen or not callable(getattr(executor, "submit", None)):
                continue
            seen.add(id(executor))
            state.wrap(executor)

    def teardown(self, worker: Any) -> None:
        if self._state is not None:
            self._state.unwrap()

    def collected(self, worker: Any) -> dict[str, Any]:
        """What the worker's tasks ran so far, as JSON-ready data."""
        state = self._state
        stats = state.stats() if state is not None else {}
        return {
            "address": str(worker.address),
            "name": str(worker.name),
            "pid": os.getpid(),
            "tasks": 0 if state is None else state.done,
            "running": 0 if state is None else state.running,
            "skipped": 0 if state is None else state.skipped,
            "shared": SHARED,
            "stats": to_json(stats),
        }


class _State:
    """The wrapped executors and the profilers of the threads that ran tasks."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.profilers: dict[int, _lsprof.Profiler] = {}
        self.shared: _lsprof.Profiler | None = None
        self.users = 0  # tasks running under the shared profiler
        self.wrapped: list[tuple[Any, bool, Any]] = []
        self.done = 0
        self.running = 0
        self.skipped = 0  # tasks run where another profiler was already running

    def wrap(self, executor: Any) -> None:
        had = "submit" in vars(executor)
        previous = vars(executor).get("submit")
        original: Callable[..., Any] = executor.submit
        state = self

        def submit(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            return original(state.run, fn, *args, **kwargs)

        executor.submit = submit
        self.wrapped.append((executor, had, previous))

    def unwrap(self) -> None:
        for executor, had, previous in reversed(self.wrapped):
            if had:
                executor.submit = previous
            else:
                vars(executor).pop("submit", None)
        self.wrapped.clear()

    def run(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """In the executor thread: `fn` under this thread's profiler (or without one,
        when another profiler already runs here: a worker in the kernel's own process,
        whose threads the kernel's capture profiles; the task itself never fails)."""
        profiler = self._enter()
        try:
            return fn(*args, **kwargs)
        finally:
            self._leave(profiler)

    def _enter(self) -> _lsprof.Profiler | None:
        with self.lock:
            self.running += 1
            if SHARED:
                if self.shared is None:
                    self.shared = _lsprof.Profiler()
                if self.users == 0:
                    try:
                        self.shared.enable()
                    except ValueError:  # another tool holds sys.monitoring's profiler slot
                        self.skipped += 1
                        return None
                self.users += 1
                return self.shared
            if sys.getprofile() is not None:  # this thread is profiled already
                self.skipped += 1
                return None
            profiler = self.profilers.get(threading.get_ident())
            if profiler is None:
                profiler = self.profilers[threading.get_ident()] = _lsprof.Profiler()
        profiler.enable()
        return profiler

    def _leave(self, profiler: _lsprof.Profiler | None) -> None:
        with self.lock:
            self.running -= 1
            self.done += 1
            if profiler is None:
                return
            if SHARED:
                self.users -= 1
                if self.users == 0:
                    profiler.disable()
                return
        profiler.disable()

    def stats(self) -> dict[Any, Any]:
        with self.lock:
            profilers = list(self.profilers.values())
            if self.shared is not None:
                profilers.append(self.shared)
        return _without_self(merge(stats_of(p) for p in profilers))


def _without_self(stats: dict[Any, Any]) -> dict[Any, Any]:
    """`stats` without this module's own entries (the end of each task's wrapper)."""
    own = __file__
    return {
        key: (*value[:4], {c: e for c, e in value[4].items() if c[0] != own})
        for key, value in stats.items()
        if key[0] != own
    }


def collected(name: str, dask_worker: Any = None) -> str:
    """Run on each worker by ``Client.run``: the plugin `name`'s statistics as JSON text."""
    plugin = None if dask_worker is None else dask_worker.plugins.get(name)
    if not isinstance(plugin, TaskProfiler):
        return json.dumps({"error": f"the plugin {name} is not on this worker"})
    return json.dumps(plugin.collected(dask_worker))
