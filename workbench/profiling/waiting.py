"""Time a thread spends waiting: blocked on a lock, an event, a queue, a sleep, a select.

With threads and processes the thread that started them mostly waits for them
(``Future.result``, ``Pool.map``, ``Thread.join`` all end in ``lock.acquire``). That time
is not work to optimise: it gets the category ``waiting``, is left out of the shares
the Amdahl wins are computed from, and never has a win of its own.
"""

from __future__ import annotations

from workbench.profiling.capture import FuncKey

WAITING = "waiting"
WAITING_RULE = (
    "waiting = built-in: a C function that blocks until something else is done "
    "(lock.acquire, time.sleep, queue get, select/poll, waitpid): shown, never a win"
)
# cProfile's names of the C functions that block the calling thread.
_BLOCKING = frozenset(
    {
        "<method 'acquire' of '_thread.lock' objects>",
        "<method 'acquire' of '_thread.RLock' objects>",
        "<method 'acquire_lock' of '_thread.lock' objects>",
        "<method 'acquire' of '_multiprocessing.SemLock' objects>",
        "<method 'get' of '_queue.SimpleQueue' objects>",
        "<built-in method time.sleep>",
        "<built-in method select.select>",
        "<method 'poll' of 'select.poll' objects>",
        "<method 'poll' of 'select.epoll' objects>",
        "<method 'control' of 'select.kqueue' objects>",
        "<method 'select' of 'select.devpoll' objects>",
        "<built-in method posix.waitpid>",
        # os.read on a pipe: multiprocessing's connections wait for the other end here
        "<built-in method posix.read>",
        "<method '__enter__' of '_multiprocessing.SemLock' objects>",
        "<built-in method posix.wait>",
        "<built-in method posix.waitid>",
        "<built-in method _winapi.WaitForMultipleObjects>",
        "<built-in method _winapi.WaitForSingleObject>",
        "<built-in method _thread.lock.acquire>",
    }
)


# Python functions whose self time is a blocking call cProfile cannot see (a C function
# called from C: ``iter(queue.get, None)``): multiprocessing.Pool's task feeder thread.
_BLOCKING_PYTHON = frozenset({(("multiprocessing", "pool.py"), "_handle_tasks")})


def is_waiting_site(path: str, name: str, native: bool) -> bool:
    """True for a function (its file, name) whose self time is spent blocked."""
    if native:
        return name in _BLOCKING
    parts = tuple(path.replace("\\", "/").rsplit("/", 2)[-2:])
    return (parts, name) in _BLOCKING_PYTHON


def is_waiting_name(name: str) -> bool:
    """True for the cProfile name of a C function that blocks until something else is done."""
    return name in _BLOCKING


def is_waiting(key: FuncKey) -> bool:
    """True for the pstats key of a function whose self time is spent blocked."""
    return is_waiting_site(key[0], key[2], key[0] == "~")
