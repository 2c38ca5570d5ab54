"""A planted allocation: 32 MiB kept, in a module of its own category."""

from __future__ import annotations

KEPT: list[bytearray] = []
SIZE = 32 << 20


def allocate() -> int:
    block = bytearray(SIZE)
    KEPT.append(block)
    return len(block)
