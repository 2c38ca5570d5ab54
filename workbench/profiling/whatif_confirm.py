"""Advice with a measurement behind it: the scanner's findings that a hot spot confirms.

The AST scanner (:mod:`workbench.route.scanner`) finds compute patterns in the cell's
source, whether or not they cost anything. A finding is kept for the report only where
the function holding it (the cell's module level for top-level code) is a measured hot
spot: its own time plus that of the C functions it called holds at least `HOT_SHARE` of
the profiled time. The rest had nothing measured behind them and are left out, with a
note saying how many.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from workbench.profiling.capture import FuncKey, FuncStats

HOT_SHARE = 0.05  # a hot spot holds at least this share of the profiled time


def hot_time(key: FuncKey, stats: Mapping[FuncKey, FuncStats]) -> float:
    """Seconds of `key`'s own time and of the C functions it called."""
    own = stats[key][2] if key in stats else 0.0
    native = sum(
        callers[key][2]
        for callee, (_cc, _nc, _tt, _ct, callers) in stats.items()
        if callee[0] == "~" and key in callers
    )
    return float(own + native)


def _keys_of(function: str, filename: str, stats: Mapping[FuncKey, FuncStats]) -> list[FuncKey]:
    name = "<module>" if function == "<module>" else function.rpartition(".")[2]
    return [key for key in stats if key[0] == filename and key[2] == name]


def confirmed(
    frame: pd.DataFrame,
    filename: str,
    stats: Mapping[FuncKey, FuncStats],
    profiled_s: float,
) -> tuple[pd.DataFrame, str | None]:
    """The findings inside a measured hot spot, and a note on those left out (or None)."""
    if frame.empty:
        return frame, None
    keep = []
    for function, runs in zip(frame["function"], frame["runs"], strict=True):
        ran = not (pd.notna(runs) and int(runs) == 0)
        hot = sum(hot_time(key, stats) for key in _keys_of(str(function), filename, stats))
        keep.append(ran and profiled_s > 0 and hot >= HOT_SHARE * profiled_s)
    kept = frame[keep].reset_index(drop=True)
    dropped = len(frame) - len(kept)
    if not dropped:
        return kept, None
    note = (
        f"Backend recommendations: {len(kept)} of {len(frame)} patterns the scanner found are "
        f"shown, those inside a function holding at least {HOT_SHARE:.0%} of the profiled time "
        "(its own time and the C functions it calls); the other "
        f"{dropped} had no measured hot spot behind them."
    )
    return kept, note
