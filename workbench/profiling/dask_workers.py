"""Profile the tasks the code sends to a Dask cluster, on the workers that run them.

When a ``distributed`` client is already active in this process (``Client.current()``;
none is ever started here, and ``distributed`` is not imported when the code has not
imported it), a :class:`~workbench.profiling.dask_plugin.TaskProfiler` is registered on
every worker through Dask's own plugin mechanism (``Client.register_plugin``, or
``register_worker_plugin`` on versions before it) before the capture starts. After the
capture each worker's statistics come back through ``Client.run`` as JSON text, and the
plugin is unregistered (its teardown takes the wrapper off), also when the code raised.
Every call to the cluster is bounded by a timeout: an unreachable scheduler, or workers
that cannot import the workbench, give one note and the local part is still reported.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from workbench.profiling.capture import FuncKey, FuncStats
from workbench.profiling.stats import from_json

TIMEOUT_S = 10.0
KIND = "dask-worker"


@dataclass(frozen=True)
class WorkerProfile:
    """What one Dask worker's tasks ran while the code ran."""

    address: str
    name: str
    pid: int
    tasks: int
    running: int
    stats: dict[FuncKey, FuncStats]
    skipped: int = 0  # tasks that ran where another profiler ran (the kernel's own threads)
    shared: bool = False  # Python 3.12+: one cProfile for all the worker's threads


def active_client() -> Any | None:
    """The ``distributed`` client active in this process (``Client.current()``: the one of
    an ``as_current`` block, else the default one), or None; never starts one."""
    if "distributed" not in sys.modules:
        return None
    from distributed import Client

    try:
        return Client.current()  # type: ignore[no-untyped-call]
    except ValueError:  # no client
        return None


def unseen_workers() -> list[str]:
    """The note for a sampling mode when a client is active: its workers are not seen."""
    client = active_client()
    if client is None:
        return []
    return [
        f"A Dask client is active ({_where(client)}): the tasks sent to its workers are "
        "profiled in --mode cprofile (the default) only; this profile is this process's."
    ]


@dataclass
class DaskCapture:
    """``with DaskCapture() as dask: ...`` then ``dask.collect()``."""

    timeout_s: float | None = None  # None: TIMEOUT_S
    client: Any = None
    name: str = ""
    notes: list[str] = field(default_factory=list)
    _registered: bool = False

    def __enter__(self) -> DaskCapture:
        client = active_client()
        if client is None:
            return self
        where = _where(client)
        if getattr(client, "asynchronous", False):
            self.notes.append(
                f"A Dask client ({where}) is active but asynchronous: the tasks sent to its "
                "workers were not profiled; only this process's part is reported."
            )
            return self
        status = str(getattr(client, "status", "running"))
        if status != "running":
            self.notes.append(_unreachable(where, f"the client's status is {status!r}"))
            return self
        self.client = client
        _start_offload_thread()
        self.name = f"workbench-profile-{uuid.uuid4().hex[:12]}"
        from workbench.profiling.dask_plugin import TaskProfiler

        plugin = TaskProfiler(self.name)
        self._registered = True  # a failure may have reached some workers: remove it anyway
        try:
            self._call("register_worker_plugin", plugin=plugin, name=self.name, idempotent=False)
        except Exception as exc:  # anything from the cluster becomes a note
            note = _failed(where, exc)
            left = self._remove()
            if left and not isinstance(exc, ImportError):
                note += f" {left}"
            self.notes.append(note)
            self.client = None
        return self

    def __exit__(self, *exc: object) -> None:
        left = self._remove()  # only when collect() was not reached
        if left:
            self.notes.append(left)

    def collect(self) -> tuple[list[WorkerProfile], list[str]]:
        """Every worker's statistics (those that ran tasks), and notes; the plugin is
        removed from the cluster afterwards."""
        profiles: list[WorkerProfile] = []
        client = self.client
        if client is None:
            return profiles, self.notes
        from workbench.profiling.dask_plugin import collected

        where = _where(client)
        try:
            answers = self._call("run", collected, self.name)
        except Exception as exc:  # anything from the cluster becomes a note
            self.notes.append(_failed(where, exc))
            answers = {}
        finally:
            left = self._remove()
            if left:
                self.notes.append(left)
        for address, text in sorted(dict(answers).items()):
            try:
                data = json.loads(text)
                if "error" in data:
                    raise ValueError(data["error"])
                stats = from_json(data["stats"], f"Dask worker {address}")
                profiles.append(
                    WorkerProfile(
                        str(data.get("address", address)),
                        str(data.get("name", address)),
                        int(data.get("pid", 0)),
                        int(data.get("tasks", 0)),
                        int(data.get("running", 0)),
                        stats,
                        int(data.get("skipped", 0)),
                        bool(data.get("shared", False)),
                    )
                )
            except (TypeError, ValueError, KeyError) as exc:
                self.notes.append(f"The profile of Dask worker {address} could not be read: {exc}.")
        self.notes += _summary(where, profiles)
        return [p for p in profiles if p.stats], self.notes

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>`` with the timeout (the client's own coroutine when it has
        one, so that a timeout cancels the call)."""
        client = self.client
        if method == "register_worker_plugin" and not hasattr(client, "register_plugin"):
            kwargs.pop("idempotent", None)  # an old distributed: the public call only
            return client.register_worker_plugin(*args, **kwargs)
        coroutine = getattr(client, f"_{method}", None)
        if coroutine is None:
            return getattr(client, method)(*args, **kwargs)
        timeout = TIMEOUT_S if self.timeout_s is None else self.timeout_s
        return client.sync(coroutine, *args, callback_timeout=timeout, **kwargs)

    def _remove(self) -> str:
        """Unregister the plugin; what to tell the user when that failed, or ""."""
        if not self._registered:
            return ""
        self._registered = False
        try:
            self._call("unregister_worker_plugin", name=self.name)
        except KeyError:  # workers that never got it (their import failed) say so
            return ""
        except Exception as exc:  # the cluster's own errors become the note
            return (
                f"The task profiler could not be taken off the Dask workers "
                f"({type(exc).__name__}: {exc}); if it reaches them later, remove it with "
                f"client.unregister_worker_plugin({self.name!r})."
            )
        return ""


def _start_offload_thread() -> None:
    """Start the thread the client keeps for (de)serialising results, if it has not yet
    run: started during the capture it would be taken for a pool the code left open."""
    import distributed.utils

    executor = getattr(distributed.utils, "_offload_executor", None)
    if executor is not None:
        executor.submit(int).result()


def _where(client: Any) -> str:
    scheduler = getattr(client, "scheduler", None)
    address = getattr(scheduler, "address", None)
    return f"scheduler {address}" if address else "no scheduler address"


def _unreachable(where: str, why: str) -> str:
    return (
        f"The Dask scheduler could not be reached ({where}: {why}): the tasks sent to its "
        "workers were not profiled; only this process's part is reported. Check that the "
        "scheduler runs and that Client() points at it."
    )


def _failed(where: str, exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    missing = re.search(r"No module named '[^']+'", text)
    if missing:  # the workers' ImportError comes back wrapped in a plain Exception
        text = f"ModuleNotFoundError: {missing.group(0)}"
    if isinstance(exc, ImportError) or "No module named" in text:
        return (
            f"The Dask workers ({where}) could not load the workbench's task profiler "
            f"({text}): install the workbench in the workers' environment (the version "
            "of this kernel) to see their tasks; only this process's part is reported."
        )
    if isinstance(exc, (TimeoutError, OSError)) or "Timeout" in type(exc).__name__:
        return _unreachable(where, text or type(exc).__name__)
    return (
        f"The Dask workers ({where}) could not be profiled ({text}); only this process's "
        "part is reported."
    )


def _summary(where: str, profiles: list[WorkerProfile]) -> list[str]:
    ran = [p for p in profiles if p.tasks or p.running]
    notes = []
    if ran:
        tasks = sum(p.tasks for p in ran)
        notes.append(
            f"{len(ran)} Dask worker(s) ({where}) ran {tasks} task(s) while the code ran: "
            "each task was profiled on its worker (a Dask WorkerPlugin) and merged into the "
            "categories (report.processes has one row per worker; the code's wait for them "
            "is `waiting`). Tasks other clients sent meanwhile are included."
        )
    skipped = sum(p.skipped for p in profiles)
    if skipped:
        notes.append(
            f"{skipped} Dask task(s) ran in threads that were profiled already (a cluster "
            "in this process: LocalCluster(processes=False)): this process's own capture "
            "counts them, not their worker's row."
        )
    if any(p.shared and p.tasks for p in profiles):
        notes.append(
            "Some Dask workers run Python 3.12 or later, where cProfile is one profiler for "
            "all of a worker's threads: the worker's own threads (its event loop) run into "
            "the tasks' profile, so their call counts are right but their times are mixed "
            "(rough at best): on Python 3.11 workers each thread has its own profiler."
        )
    running = sum(p.running for p in profiles)
    if running:
        notes.append(
            f"{running} Dask task(s) were still running when the code ended (futures not "
            "waited for?): only the calls they had finished are counted."
        )
    return notes
