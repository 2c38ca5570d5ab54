"""Profile every thread the code starts, each with its own cProfile, for the time it runs.

``threading.setprofile`` makes each new thread call a hook of ours first; the hook starts a
cProfile profiler in that thread (profiles are per thread before Python 3.12) and keeps
it. When the capture ends, the profilers of threads still alive (a pool left open) are
switched off in their own thread state, then read; nothing keeps running after the cell.

From Python 3.12 cProfile runs on ``sys.monitoring``, which is one tool for the whole
interpreter: the capture's own profiler already sees every thread (their calls merged
into one profile), a second profiler cannot start, and no per-thread row is made.
"""

from __future__ import annotations

import _lsprof
import ctypes
import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Any

from workbench.profiling.capture import FuncKey, FuncStats
from workbench.profiling.stats import stats_of

PER_THREAD = sys.version_info < (3, 12)


@dataclass
class _Started:
    name: str
    ident: int
    profiler: _lsprof.Profiler
    tstate: int | None
    thread: threading.Thread


@dataclass(frozen=True)
class ThreadProfile:
    """What one thread other than the capture's ran, as pstats statistics."""

    name: str
    ident: int
    stats: dict[FuncKey, FuncStats]
    alive: bool  # still running when the capture ended (a pool left open)


@dataclass
class ThreadCapture:
    """Started around a capture: each thread started meanwhile is profiled on its own.

    ``with ThreadCapture(timer) as threads: ...`` then ``threads.collect()``."""

    timer: Any = None
    _started: list[_Started] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _previous: Any = None
    _active: bool = False

    def __enter__(self) -> ThreadCapture:
        if PER_THREAD:
            self._previous = getattr(threading, "_profile_hook", None)
            threading.setprofile(self._start)
            self._active = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            threading.setprofile(self._previous)
            self._active = False

    def _start(self, frame: types.FrameType, event: str, arg: object) -> None:
        """The new thread's first profile event: start its own profiler, which replaces
        this hook in that thread."""
        sys.setprofile(None)
        if not self._active:
            return
        profiler = _lsprof.Profiler(self.timer) if self.timer is not None else _lsprof.Profiler()
        thread = threading.current_thread()
        started = _Started(thread.name, threading.get_ident(), profiler, _tstate(), thread)
        with self._lock:
            self._started.append(started)
        profiler.enable()

    def collect(self) -> list[ThreadProfile]:
        """Stop what is still running and read every thread's statistics."""
        self.__exit__()
        with self._lock:
            started = list(self._started)
            self._started.clear()
        alive = [item.thread.is_alive() for item in started]
        for item, running in zip(started, alive, strict=True):
            if running:
                _stop_in(item)
        _disable_elsewhere([item.profiler for item in started])
        profiles = []
        for item, running in zip(started, alive, strict=True):
            stats = stats_of(item.profiler)
            if stats:
                profiles.append(ThreadProfile(item.name, item.ident, stats, running))
        return profiles


def _disable_elsewhere(profilers: list[_lsprof.Profiler]) -> None:
    """Mark each profiler disabled, from a thread of its own.

    ``disable()`` also clears the profile hook of the thread that calls it (and a profiler
    left marked enabled clears it when freed), so it is called where no hook is lost; it
    records the calls still on the profiled thread's stack up to now.
    """
    if not profilers:
        return

    def disable() -> None:
        for profiler in profilers:
            profiler.disable()

    helper = threading.Thread(target=disable, name="workbench-profile-stop", daemon=True)
    helper.start()
    helper.join()


def _tstate() -> int | None:
    try:
        get = ctypes.pythonapi.PyThreadState_Get
    except AttributeError:  # an interpreter without the C API
        return None
    get.restype = ctypes.c_void_p
    value = get()
    return int(value) if value else None


def _stop_in(item: _Started) -> None:
    """Switch off the profile hook of the thread `item` started in (still alive).

    The GIL is held throughout (``ctypes.pythonapi`` keeps it), and the switch interval is
    raised meanwhile so that the thread cannot finish between the check and the call.
    """
    if item.tstate is None:
        return
    setter = ctypes.pythonapi._PyEval_SetProfile
    setter.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    setter.restype = ctypes.c_int
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        if item.ident in sys._current_frames():
            setter(item.tstate, None, None)
    finally:
        sys.setswitchinterval(interval)
