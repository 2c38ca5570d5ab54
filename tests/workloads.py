"""Workloads with exactly known call counts, in a real module file (path rules need one)."""

from __future__ import annotations

import json


def leaf(x: int) -> int:
    return x + 1


def mid(n: int) -> int:
    total = 0
    for i in range(n):
        total += leaf(i)
    return total


def serialise(n: int) -> int:
    return sum(len(json.dumps({"i": i})) for i in range(n))


def top() -> int:
    """Calls mid twice (each calling leaf 3 times): leaf runs 6 times."""
    return mid(3) + mid(3)
