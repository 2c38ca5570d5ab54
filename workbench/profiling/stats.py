"""pstats-form statistics as plain data: read from a live profiler, merged, and written as
JSON (never pickle or marshal), so profiles taken in other threads, processes or machines
can be added up safely.
"""

from __future__ import annotations

import _lsprof
import json
from collections.abc import Iterable, Mapping
from typing import Any

from workbench.errors import ProfileError
from workbench.profiling.capture import EdgeStats, FuncKey, FuncStats

JsonStats = list[list[Any]]  # [[file, line, name, cc, nc, tt, ct, [[file, line, name, 4 x edge]]]]


def label(code: object) -> FuncKey:
    """The pstats key of what a profiler entry points at (a code object or a C function)."""
    if isinstance(code, str):
        return ("~", 0, code)
    filename = str(getattr(code, "co_filename", "~"))
    line = int(getattr(code, "co_firstlineno", 0))
    name = str(getattr(code, "co_name", code))
    return (filename, line, name)


def stats_of(profiler: _lsprof.Profiler) -> dict[FuncKey, FuncStats]:
    """What `profiler` recorded so far, as pstats statistics (the calls that returned).

    Reads ``getstats()`` without disabling the profiler: disabling one profiler from
    another thread would switch off the profile hook of the thread that asks.
    """
    entries = profiler.getstats()
    stats: dict[FuncKey, FuncStats] = {}
    for entry in entries:
        nc = int(entry.callcount)
        cc = nc - int(entry.reccallcount)
        key = label(entry.code)
        old = stats.get(key)
        if old is not None:  # two code objects with one label: add them up
            stats[key] = (
                old[0] + cc,
                old[1] + nc,
                old[2] + entry.inlinetime,
                old[3] + entry.totaltime,
                old[4],
            )
        else:
            stats[key] = (cc, nc, float(entry.inlinetime), float(entry.totaltime), {})
    for entry in entries:
        caller = label(entry.code)
        for sub in entry.calls or ():
            callee = stats.get(label(sub.code))
            if callee is None:
                continue
            snc = int(sub.callcount)
            # pstats' caller edges are (ncalls, primitive calls, tottime, cumtime)
            edge = (snc, snc - int(sub.reccallcount), float(sub.inlinetime), float(sub.totaltime))
            callee[4][caller] = _add_edge(callee[4].get(caller), edge)
    return stats


def _add_edge(old: EdgeStats | None, new: EdgeStats) -> EdgeStats:
    if old is None:
        return new
    return (old[0] + new[0], old[1] + new[1], old[2] + new[2], old[3] + new[3])


def merge(profiles: Iterable[Mapping[FuncKey, FuncStats]]) -> dict[FuncKey, FuncStats]:
    """The sum of several profiles: calls, times and caller edges added key by key."""
    merged: dict[FuncKey, FuncStats] = {}
    for stats in profiles:
        for key, (cc, nc, tt, ct, callers) in stats.items():
            old = merged.get(key)
            if old is None:
                merged[key] = (cc, nc, tt, ct, dict(callers))
                continue
            edges = dict(old[4])
            for caller, edge in callers.items():
                edges[caller] = _add_edge(edges.get(caller), edge)
            merged[key] = (old[0] + cc, old[1] + nc, old[2] + tt, old[3] + ct, edges)
    return merged


def to_json(stats: Mapping[FuncKey, FuncStats]) -> JsonStats:
    """`stats` as JSON-ready lists (no code runs when they are read back)."""
    return [
        [*key, cc, nc, tt, ct, [[*caller, *edge] for caller, edge in callers.items()]]
        for key, (cc, nc, tt, ct, callers) in stats.items()
    ]


def from_json(data: object, origin: str = "profile") -> dict[FuncKey, FuncStats]:
    """Statistics back from :func:`to_json`'s form; ProfileError names `origin` when the
    data is not of that form."""
    try:
        stats: dict[FuncKey, FuncStats] = {}
        for row in data:  # type: ignore[attr-defined]
            file, line, name, cc, nc, tt, ct, edges = row
            callers = {
                (str(e[0]), int(e[1]), str(e[2])): (int(e[3]), int(e[4]), float(e[5]), float(e[6]))
                for e in edges
            }
            stats[(str(file), int(line), str(name))] = (
                int(cc),
                int(nc),
                float(tt),
                float(ct),
                callers,
            )
        return stats
    except (TypeError, ValueError, IndexError) as exc:
        raise ProfileError(
            f"the statistics from {origin} are not in the workbench's form: {exc}"
        ) from None


def dumps(stats: Mapping[FuncKey, FuncStats], **extra: Any) -> str:
    """One JSON document: the statistics under "stats" and `extra` beside them."""
    return json.dumps({"stats": to_json(stats), **extra})
