"""Code that runs the grid DSL in worker threads, processes and a Dask cluster."""

from __future__ import annotations

import os
import time

from coverage_work import griddsl


def solve_task(rounds: int) -> int:
    return griddsl.solve(rounds)


def pid_of(_: int) -> int:
    return os.getpid()


def slow_then_die(rounds: int) -> int:
    """Work, then kill this process (a worker that crashes mid-run)."""
    griddsl.solve(rounds)
    time.sleep(0.3)  # the periodic flush writes what was profiled
    os._exit(3)


def stuck_in_c(rounds: int) -> bytes:
    """Work, then one long C call that runs no Python until it returns (minutes)."""
    import hashlib

    griddsl.solve(rounds)
    return hashlib.pbkdf2_hmac("sha256", b"key", b"salt", 10**9)
