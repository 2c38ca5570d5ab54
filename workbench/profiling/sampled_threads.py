"""What the stack sampler needs to sample every thread the code starts: which threads
are the code's, and which sampled stacks stand blocked.

A thread is the code's when it was not running when the sampling began (its ident was not
there, or its ``threading.Thread`` object is another one: idents are reused). The sampler
sees no C functions, so a thread blocked in ``lock.acquire`` stands in the Python function
that called it; a stack whose top is one of the standard library's blocking places
(``Condition.wait``, ``Thread.join``'s wait, a thread pool worker's queue get, a selector's
poll, a pipe read, ``waitpid``) gets a leaf of the C function it blocks in, so that its
time is the category ``waiting``, as in cProfile's per-thread profiles.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import threading
import types

from workbench.profiling.capture import FuncKey

ACQUIRE: FuncKey = ("~", 0, "<method 'acquire' of '_thread.lock' objects>")
SELECT: FuncKey = ("~", 0, "<method 'poll' of 'select.epoll' objects>")
READ: FuncKey = ("~", 0, "<built-in method posix.read>")
WAITPID: FuncKey = ("~", 0, "<built-in method posix.waitpid>")
SIMPLE_GET: FuncKey = ("~", 0, "<method 'get' of '_queue.SimpleQueue' objects>")

# (a file under the standard library, the function) -> the C function it blocks in
_BLOCKING: dict[tuple[str, str], FuncKey] = {
    ("threading.py", "wait"): ACQUIRE,
    ("threading.py", "_wait_for_tstate_lock"): ACQUIRE,
    ("concurrent/futures/thread.py", "_worker"): SIMPLE_GET,
    ("selectors.py", "select"): SELECT,
    ("multiprocessing/connection.py", "_recv"): READ,
    ("multiprocessing/popen_fork.py", "poll"): WAITPID,
    ("subprocess.py", "_try_wait"): WAITPID,
}


def _stdlib() -> str:
    return os.path.normcase(os.path.realpath(sysconfig.get_paths()["stdlib"])) + os.sep


class BlockingSites:
    """Tells the code objects of the standard library's blocking places (cached by code
    object identity; each code object is kept, so an identity is never reused)."""

    def __init__(self) -> None:
        self.stdlib = _stdlib()
        self._known: dict[int, tuple[types.CodeType, FuncKey | None]] = {}

    def leaf(self, code: types.CodeType) -> FuncKey | None:
        """The C function `code` blocks in when it is the top of a stack, or None."""
        found = self._known.get(id(code))
        if found is None:
            found = self._known[id(code)] = (code, self._leaf(code))
        return found[1]

    def _leaf(self, code: types.CodeType) -> FuncKey | None:
        path = os.path.normcase(os.path.realpath(code.co_filename))
        if not path.startswith(self.stdlib):
            return None
        relative = path[len(self.stdlib) :].replace(os.sep, "/")
        return _BLOCKING.get((relative, code.co_name))


class CodeThreads:
    """The threads that started after it was made (besides those it is told to skip)."""

    def __init__(self, skip: set[int]) -> None:
        self.skip = set(skip)
        self.before = {ident: _thread_of(ident) for ident in sys._current_frames()}
        self.names: dict[int, str] = {}

    def frames(self, current: dict[int, types.FrameType]) -> dict[int, types.FrameType]:
        """Of `current` (``sys._current_frames()``), the top frames of the code's threads."""
        found = {}
        for ident, frame in current.items():
            if ident in self.skip:
                continue
            thread = _thread_of(ident)
            if ident in self.before and self.before[ident] is thread:
                continue
            found[ident] = frame
            if ident not in self.names:
                self.names[ident] = thread.name if thread is not None else f"thread {ident}"
        return found


def _thread_of(ident: int) -> threading.Thread | None:
    active: dict[int, threading.Thread] = getattr(threading, "_active", {})
    return active.get(ident)
