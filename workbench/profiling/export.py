"""Files other tools open: pstats dumps (snakeviz, tuna) and speedscope JSON.

Every file is written to a temporary name in the target folder and renamed, so a
reader never sees half a file. `load_pstats` reads a pstats dump back, ours or one
written by cProfile, ``%prun -D`` or pstats, and says plainly what to do when it cannot.
"""

from __future__ import annotations

import json
import marshal
import math
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workbench.atomic import write_atomic
from workbench.errors import ProfileError
from workbench.profiling.capture import EdgeStats, FuncKey, FuncStats
from workbench.profiling.tree import Stack, TreeNode, children_of, tree_from_stats

SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json"
# Finer than the call tree a chart shows: the exported file may be explored deeper.
EXPORT_MIN_SHARE = 0.0005
EXPORT_MAX_NODES = 50_000


def prof_bytes(stats: Mapping[FuncKey, FuncStats]) -> bytes:
    """Statistics as a pstats dump (what ``cProfile.Profile.dump_stats`` writes)."""
    return marshal.dumps(dict(stats))


def write_prof(path: str | os.PathLike[str], stats: Mapping[FuncKey, FuncStats]) -> Path:
    """Write statistics as a pstats dump (what ``cProfile.Profile.dump_stats`` writes)."""
    return write_atomic(path, prof_bytes(stats))


def stacks_from_tree(nodes: list[TreeNode]) -> list[tuple[Stack, float]]:
    """One weighted stack per tree node: its path and the time no shown child holds.

    The weights add up to the root's value, because a node's weight is its value less
    its children's (its own time plus that of children too small to keep).
    """
    kids = children_of(nodes)
    paths: dict[str, Stack] = {nodes[0].id: ()} if nodes else {}
    stacks: list[tuple[Stack, float]] = []
    for node in nodes[1:]:
        if node.key is None:
            continue
        path = (*paths[node.parent], node.key)
        paths[node.id] = path
        rest = node.value - sum(child.value for child in kids.get(node.id, []))
        if rest > 0:
            stacks.append((path, rest))
    return stacks


def speedscope_document(
    stacks: Iterable[tuple[Stack, float]], *, name: str, exporter: str | None = None
) -> dict[str, Any]:
    """A speedscope file (one sampled profile, seconds) from weighted stacks."""
    frame_index: dict[FuncKey, int] = {}
    frames: list[dict[str, Any]] = []
    samples: list[list[int]] = []
    weights: list[float] = []
    for stack, seconds in stacks:
        if not stack or seconds <= 0:
            continue
        sample = []
        for key in stack:
            index = frame_index.get(key)
            if index is None:
                index = frame_index[key] = len(frames)
                frames.append(_frame(key))
            sample.append(index)
        samples.append(sample)
        weights.append(float(seconds))
    if exporter is None:
        from workbench.machine import library_versions

        exporter = f"workbench {library_versions().get('workbench', 'unknown')}"
    profile = {
        "type": "sampled",
        "name": name,
        "unit": "seconds",
        "startValue": 0.0,
        "endValue": float(sum(weights)),
        "samples": samples,
        "weights": weights,
    }
    return {
        "$schema": SPEEDSCOPE_SCHEMA,
        "shared": {"frames": frames},
        "profiles": [profile],
        "name": name,
        "activeProfileIndex": 0,
        "exporter": exporter,
    }


def _frame(key: FuncKey) -> dict[str, Any]:
    path, line, name = key
    if path == "~":
        return {"name": name}
    return {"name": name, "file": path, "line": line}


def write_speedscope(
    path: str | os.PathLike[str],
    *,
    stacks: Iterable[tuple[Stack, float]] | None = None,
    stats: Mapping[FuncKey, FuncStats] | None = None,
    name: str = "workbench profile",
) -> Path:
    """Write a speedscope JSON file (open it at https://www.speedscope.app); see
    :func:`speedscope_bytes`."""
    return write_atomic(path, speedscope_bytes(stacks=stacks, stats=stats, name=name))


def speedscope_bytes(
    *,
    stacks: Iterable[tuple[Stack, float]] | None = None,
    stats: Mapping[FuncKey, FuncStats] | None = None,
    name: str = "workbench profile",
) -> bytes:
    """A speedscope JSON file's bytes.

    From sampled `stacks` the file is exact. From cProfile `stats` the stacks are
    rebuilt from caller edges (see `workbench.profiling.tree`), and the profile's name says so.
    """
    if stats is not None and stacks is None:
        category_of = {key: "" for key in stats}
        nodes = tree_from_stats(
            stats, category_of, min_share=EXPORT_MIN_SHARE, max_nodes=EXPORT_MAX_NODES
        )
        document = speedscope_document(
            stacks_from_tree(nodes),
            name=f"{name} (call stacks reconstructed from cProfile caller edges)",
        )
    elif stacks is not None and stats is None:
        document = speedscope_document(stacks, name=name)
    else:
        raise ProfileError("write_speedscope needs stacks= (sample mode) or stats=, not both")
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _redo() -> str:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (
        f"re-create the profile with this Python ({version}): run the code again with "
        "%%optimize --save DIR, %prun -D FILE or cProfile's dump_stats"
    )


def load_pstats(path: str | os.PathLike[str]) -> dict[FuncKey, FuncStats]:
    """Read a pstats dump (``.prof``) into pstats-form statistics.

    Raises ProfileError, with what to do, for a missing, corrupt or foreign file and
    for a dump that this Python's marshal cannot read.
    """
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ProfileError(f"cannot read profile {where!r}: {exc.strerror or exc}") from None
    try:
        loaded = marshal.loads(data)
    except (ValueError, EOFError, TypeError) as exc:
        raise ProfileError(
            f"{where!r} is not a readable pstats dump ({exc}): the file is corrupt or "
            f"truncated, is not a profile, or was written by a Python version whose format "
            f"this one cannot read; {_redo()}"
        ) from None
    return _checked(loaded, where)


def _checked(loaded: object, where: str) -> dict[FuncKey, FuncStats]:
    """Validate the shape and values of loaded statistics and normalise their number types."""
    if not isinstance(loaded, dict):
        problem = f"it holds a {type(loaded).__name__}, not a table of functions"
        raise ProfileError(f"{where!r} is not a pstats dump: {problem}; {_redo()}")
    stats: dict[FuncKey, FuncStats] = {}
    for key, value in loaded.items():
        func = _key(key)
        shaped = _shaped(value)
        if func is None or shaped is None:
            raise ProfileError(
                f"{where!r} is not a pstats dump: the entry {_short(key)} is not shaped like "
                f"pstats data; {_redo()}"
            )
        numbers, callers = shaped
        bad = _bad_value(numbers) or next(
            (
                f"{found} in the call from {caller[2]!r}"
                for caller, edge in callers.items()
                if (found := _bad_value(edge))
            ),
            None,
        )
        if bad is not None:
            raise ProfileError(
                f"{where!r} holds an impossible value for {func[2]!r} ({func[0]}:{func[1]}): "
                f"{bad}; counts are whole numbers >= 0 and times finite and >= 0, so the file "
                f"was edited or damaged: {_redo()}"
            )
        stats[func] = (*_converted(numbers), {c: _converted(e) for c, e in callers.items()})
    return stats


Numbers = tuple[float, float, float, float]
STAT_FIELDS = ("primitive calls", "calls", "self time", "cumulative time")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _key(key: object) -> FuncKey | None:
    if (
        isinstance(key, tuple)
        and len(key) == 3
        and isinstance(key[0], str)
        and isinstance(key[1], int)
        and not isinstance(key[1], bool)
        and isinstance(key[2], str)
    ):
        return (key[0], key[1], key[2])
    return None


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shaped(value: object) -> tuple[Numbers, dict[FuncKey, Numbers]] | None:
    """A pstats entry's four numbers and its callers' edges, or None when it is not one."""
    if not (isinstance(value, tuple) and len(value) == 5 and isinstance(value[4], dict)):
        return None
    if not all(_number(v) for v in value[:4]):
        return None
    callers: dict[FuncKey, Numbers] = {}
    for caller, edge in value[4].items():
        func = _key(caller)
        if func is None:
            return None
        if _number(edge):  # the pure-Python `profile` module stores a plain call count
            callers[func] = (edge, edge, 0.0, 0.0)
        elif isinstance(edge, tuple) and len(edge) == 4 and all(_number(v) for v in edge):
            callers[func] = (edge[0], edge[1], edge[2], edge[3])
        else:
            return None
    return (value[0], value[1], value[2], value[3]), callers


def _bad_value(numbers: Numbers) -> str | None:
    """The first count or time no profiler writes (NaN, infinite, negative, fractional count)."""
    for index, (name, number) in enumerate(zip(STAT_FIELDS, numbers, strict=True)):
        try:
            as_float = float(number)
        except OverflowError:
            return f"{name} = {_short(number)} (too large)"
        if not (math.isfinite(as_float) and as_float >= 0):
            return f"{name} = {number!r}"
        if index < 2 and number != int(number):
            return f"{name} = {number!r} (not a whole number)"
    return None


def _converted(numbers: Numbers) -> EdgeStats:
    return (int(numbers[0]), int(numbers[1]), float(numbers[2]), float(numbers[3]))
