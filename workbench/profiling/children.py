"""Profile the child processes the code starts with ``multiprocessing`` (fork, spawn and
forkserver; ``Pool`` and ``ProcessPoolExecutor`` workers are such processes).

While the capture runs, ``multiprocessing.process.BaseProcess.start`` is wrapped: each
process started meanwhile gets as its target :func:`profiled_target`, a picklable partial
(so it reaches spawned and forkserver children too) that runs the real target under
cProfile in the child and writes its statistics as JSON into a folder of the capture's,
every 0.25 s while it runs (a worker killed mid-run keeps what it had) and once more at the
end. A ``SIGTERM`` (``Pool.terminate``, the exit of ``with Pool()``) ends the child
through that last write. The parent reads only JSON back (never pickle or marshal); the
wrapper is taken off and the folder removed after the capture, also on error.
"""

from __future__ import annotations

import contextlib
import cProfile
import functools
import json
import multiprocessing
import multiprocessing.process
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.profiling.capture import FuncKey, FuncStats
from workbench.profiling.stats import from_json, to_json

FLUSH_S = 0.25


@dataclass(frozen=True)
class ChildProfile:
    """What one child process ran, read back from its JSON."""

    name: str
    pid: int
    kind: str
    stats: dict[FuncKey, FuncStats]
    complete: bool
    note: str = ""


def _write(folder: str, profiler: cProfile.Profile, info: dict[str, Any]) -> None:
    from workbench.profiling.stats import stats_of

    path = Path(folder) / f"{os.getpid()}.json"
    part = path.with_suffix(f".{threading.get_ident()}.tmp")
    part.write_text(json.dumps({**info, "stats": to_json(stats_of(profiler))}), encoding="utf-8")
    os.replace(part, path)


def profiled_target(
    target: Callable[..., object], folder: str, kind: str, *args: Any, **kwargs: Any
) -> object:
    """Run in the child: `target(*args, **kwargs)` under cProfile, its statistics written
    to `folder` as it goes and at the end."""
    process = multiprocessing.current_process()
    info: dict[str, Any] = {"pid": os.getpid(), "name": process.name, "kind": kind}
    profiler = cProfile.Profile()
    lock = threading.Lock()
    watch = _Watch(folder, profiler, info, lock)
    watch.start()
    error = None
    profiler.enable()
    try:
        return target(*args, **kwargs)
    except BaseException as exc:
        if not info.get("terminated"):
            error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        profiler.disable()
        watch.stop()
        with lock:
            if not info.get("final"):
                info["final"] = True
                with contextlib.suppress(OSError):
                    _write(folder, profiler, {**info, "complete": True, "error": error})
        watch.restore()


class _Watch:
    """The child's writer thread: the statistics every :data:`FLUSH_S`, and the ending
    ``SIGTERM`` (``Pool.terminate``).

    Where the platform can (``signal.sigtimedwait``) and nothing of the code's own handles
    SIGTERM, the signal is blocked in the child's threads and taken by this thread, which
    writes the last statistics and then ends the process as SIGTERM does: a handler in the
    main thread would run only once that thread runs Python again, and a pool worker
    blocked on its queue's lock can miss the wake-up and wait for ever (seen: a test run
    that hung in ``Pool.__exit__``). Elsewhere a handler in the main thread ends the child
    through the final write."""

    def __init__(
        self, folder: str, profiler: cProfile.Profile, info: dict[str, Any], lock: threading.Lock
    ) -> None:
        self.folder, self.profiler, self.info, self.lock = folder, profiler, info, lock
        self.done = threading.Event()
        self.main = threading.current_thread() is threading.main_thread()
        self.blocked: set[int | signal.Signals] | None = None
        self.thread = threading.Thread(target=self._run, name="workbench-child-flush", daemon=True)

    def start(self) -> None:
        if self.main and hasattr(signal, "sigtimedwait"):
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                # blocked before the thread starts, so every thread inherits it
                self.blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        elif self.main:
            signal.signal(signal.SIGTERM, self._terminated)
        self.thread.start()

    def stop(self) -> None:
        if self.main and self.blocked is None:
            # a SIGTERM now must not cut the last write short
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self.done.set()  # the thread writes no more (it is not waited for)

    def restore(self) -> None:
        """The child's own signal mask again (a SIGTERM that came meanwhile ends it now)."""
        if self.blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.blocked)

    def _run(self) -> None:
        if self.blocked is None:
            # SIGTERM must reach the main thread's handler, not this thread
            with contextlib.suppress(AttributeError, OSError, ValueError):
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        while not self.done.is_set():
            if self.blocked is not None:
                if signal.sigtimedwait({signal.SIGTERM}, FLUSH_S) is not None:
                    self._end()
                    return
            elif self.done.wait(FLUSH_S):
                return
            with self.lock, contextlib.suppress(OSError):
                if not self.done.is_set():
                    _write(self.folder, self.profiler, {**self.info, "complete": False})

    def _end(self) -> None:
        """SIGTERM came: the last write, then the end SIGTERM gives (exit code -15)."""
        with self.lock:
            if not self.info.get("final"):
                self.info.update(terminated=True, final=True)
                with contextlib.suppress(OSError):
                    _write(self.folder, self.profiler, {**self.info, "complete": True})
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            signal.raise_signal(signal.SIGTERM)

    def _terminated(self, signum: int, frame: object) -> None:
        # once: a second SIGTERM must not cut the last write short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self.info["terminated"] = True
        raise SystemExit(-signum)


def _kind(process: multiprocessing.process.BaseProcess) -> str:
    method = getattr(type(process), "_start_method", None)
    return str(method or multiprocessing.get_start_method(allow_none=True) or "fork")


class ChildCapture:
    """``with ChildCapture() as children: ...`` then ``children.collect()``."""

    def __init__(self) -> None:
        self.folder = ""
        self.started: list[multiprocessing.process.BaseProcess] = []
        self._original: Any = None

    def __enter__(self) -> ChildCapture:
        self.folder = tempfile.mkdtemp(prefix="workbench-children-")
        base = multiprocessing.process.BaseProcess
        original = self._original = base.start
        capture = self

        def start(process: multiprocessing.process.BaseProcess) -> None:
            target = getattr(process, "_target", None)
            if target is not None and getattr(target, "func", None) is not profiled_target:
                process._target = functools.partial(  # type: ignore[attr-defined]
                    profiled_target, target, capture.folder, _kind(process)
                )
                capture.started.append(process)
            original(process)

        base.start = start  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = ""

    def _restore(self) -> None:
        if self._original is not None:
            multiprocessing.process.BaseProcess.start = self._original  # type: ignore[method-assign]
            self._original = None

    def collect(self, settle_s: float = 0.5) -> tuple[list[ChildProfile], list[str]]:
        """Every child's statistics, and notes on those that failed or still run."""
        self._restore()
        notes: list[str] = []
        deadline = time.monotonic() + settle_s
        running = []
        for process in self.started:
            # a child that has exited has written its last file; wait briefly for exits
            while process.exitcode is None and time.monotonic() < deadline:
                process.join(0.05)
            if process.exitcode is None:
                running.append(process.name)
        profiles = []
        by_pid = {p.pid: p for p in self.started}
        for path in sorted(Path(self.folder).glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                stats = from_json(data["stats"], f"child {path.stem}")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                notes.append(f"The profile of child process {path.stem} could not be read: {exc}.")
                continue
            pid = int(data.get("pid", 0))
            found = by_pid.get(pid)
            complete = bool(data.get("complete"))
            note = ""
            code = None if found is None else found.exitcode
            if not complete:
                note = (
                    "still running at the end: profiled up to its last write"
                    if code is None
                    else f"ended abruptly (exit code {code}): partial profile"
                )
            elif data.get("error"):
                note = f"raised {data['error']}"
            profiles.append(
                ChildProfile(
                    str(data.get("name", pid)), pid, str(data["kind"]), stats, complete, note
                )
            )
        seen = {p.pid for p in profiles}
        missing = [p for p in self.started if p.pid not in seen]
        if profiles:
            kinds = ", ".join(sorted({p.kind for p in profiles}))
            notes.append(
                f"{len(profiles)} child process(es) ({kinds}) ran while the code ran: each was "
                "profiled in the child and merged into the categories (report.processes)."
            )
        broken = [p for p in profiles if not p.complete]
        if broken:
            notes.append(
                f"{len(broken)} child process(es) did not finish cleanly "
                f"({', '.join(f'{p.name}: {p.note}' for p in broken[:4])}); what they ran "
                "up to their last write is kept."
            )
        if running:
            notes.append(
                f"{len(running)} child process(es) were still running when the code ended "
                f"({', '.join(running[:4])}; a pool left open?): only what they wrote by "
                "then is counted."
            )
        if missing:
            notes.append(
                f"{len(missing)} child process(es) left no profile "
                f"({', '.join(str(p.name) for p in missing[:4])}): killed before their first "
                "write, or the workbench could not be imported there."
            )
        return profiles, notes
