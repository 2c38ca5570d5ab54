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
        "<built-in method posix.wait>",
        "<built-in method posix.waitid>",
        "<built-in method _winapi.WaitForMultipleObjects>",
        "<built-in method _winapi.WaitForSingleObject>",
        "<built-in method _thread.lock.acquire>",
    }
)


def is_waiting_name(name: str) -> bool:
    """True for the cProfile name of a C function that blocks until something else is done."""
    return name in _BLOCKING


def is_waiting(key: FuncKey) -> bool:
    """True for the pstats key of a blocking C function (file ``~``)."""
    return key[0] == "~" and key[2] in _BLOCKING
