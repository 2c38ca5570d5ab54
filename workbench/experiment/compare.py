"""Diff two stored runs by category and by function, self and inclusive time.

A change counts only when it is bigger than the noise: twice the robust relative spread
(1.4826 x MAD / median) of repeated timings of the same code, taken from the experiments
that timed these runs' code, or from earlier runs of the identical code; where neither
exists, a default of 5% (labelled as such).

What the words claim follows what was measured:

* "faster" / "slower" only for the whole run, and only where the noise came from
  repeated timings (an interval around no change that the difference leaves); with the
  default noise the totals say "less time" / "more time";
* one profiled run per side gives no interval per category or function, so their rows say
  "less time" / "more time" beyond the noise, "within noise" inside it, "new", "gone";
* two runs profiled differently (cProfile against a sampler: different overheads, calls
  against samples) are compared by share of the run only, and the comparison says so.

No table holds inf or NaN: a change from nothing is "new", its relative change empty.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.report import sections
from workbench.report.bundle import bundle
from workbench.report.tables import Document, Paragraph
from workbench.store.db import RunStore, StoredRun

if TYPE_CHECKING:
    from workbench.profiling.round_shares import CategoryChange

DEFAULT_NOISE_PCT = 5.0
MIN_ABS_S = 0.0005
_CELL_FILE = re.compile(r"^<ipython-input-|^<workbench-cell-|[/\\](ipykernel|xpython)_\d+[/\\]")

SHARE_COLUMNS = ["category", "share_a", "share_b", "share_delta", "status"]
FUNCTION_SHARE_COLUMNS = ["name", "file", "category", "share_a", "share_b", "share_delta", "status"]
# Below this many points, two shares from runs profiled differently are taken as equal.
SHARE_NOISE_POINTS = 1.0
CATEGORY_COLUMNS = [
    "category",
    "self_a",
    "self_b",
    "self_delta_s",
    "self_change_pct",
    "inclusive_a",
    "inclusive_b",
    "inclusive_delta_s",
    "calls_a",
    "calls_b",
    "status",
]
FUNCTION_COLUMNS = [
    "name",
    "file",
    "category",
    "self_a",
    "self_b",
    "self_delta_s",
    "self_change_pct",
    "cum_a",
    "cum_b",
    "cum_delta_s",
    "calls_a",
    "calls_b",
    "status",
]


@dataclass(frozen=True)
class Noise:
    """The relative change below which a difference counts as noise, and where it came from."""

    pct: float
    source: str


def robust_spread_pct(times: list[float]) -> float | None:
    """1.4826 x MAD / median, in percent; None with fewer than 3 times."""
    if len(times) < 3:
        return None
    values = np.asarray(times, dtype=float)
    median = float(np.median(values))
    if median <= 0:
        return None
    return 100.0 * 1.4826 * float(np.median(np.abs(values - median))) / median


def estimate_noise(store: RunStore, runs: list[StoredRun]) -> Noise:
    """Noise for comparing `runs`, from repeated timings where the store has them."""
    ids = {run.id for run in runs}
    spreads: list[float] = []
    sources: list[str] = []
    for row in store.experiments():
        pairs = ((row.baseline_run, "baseline_times"), (row.candidate_run, "candidate_times"))
        for run_id, key in pairs:
            spread = robust_spread_pct(list(row.detail.get(key, [])))
            if run_id in ids and spread is not None:
                spreads.append(spread)
                sources.append(f"experiment {row.id} ({len(row.detail[key])} timed runs)")
    if not spreads:
        for run in runs:
            same = store.times_of_code(run.code) if run.code else []
            spread = robust_spread_pct(same)
            if spread is not None:
                spreads.append(spread)
                sources.append(f"{len(same)} stored runs of run #{run.id}'s code")
    if not spreads:
        return Noise(DEFAULT_NOISE_PCT, "default: no repeated runs of this code are stored")
    unique = list(dict.fromkeys(sources))
    return Noise(max(2.0 * max(spreads), 0.5), "2 x robust spread of " + "; ".join(unique))


def function_key(file: str, name: str) -> tuple[str, str]:
    """How a function is matched across runs: cell code by name, files without line numbers."""
    if _CELL_FILE.search(file):
        return ("<cell>", name)
    return (file, name)


def measured_noise(noise: Noise) -> bool:
    """Whether the noise came from repeated timings (an interval), not the default."""
    return not noise.source.startswith("default")


def _status(a: float, b: float, noise: Noise, *, interval: bool = False) -> str:
    """A row's status; "faster"/"slower" only with `interval` (repeated timings of the
    whole run), "less time"/"more time" otherwise."""
    delta = b - a
    if a == 0 and b > 0:
        return "new"
    if b == 0 and a > 0:
        return "gone"
    if abs(delta) <= max(noise.pct / 100.0 * max(a, b), MIN_ABS_S):
        return "within noise"
    if interval:
        return "slower" if delta > 0 else "faster"
    return "more time" if delta > 0 else "less time"


def _pct(a: float, b: float) -> float | None:
    """The relative change in percent; None from nothing (the row says "new")."""
    if a > 0:
        return 100.0 * (b - a) / a
    return 0.0 if b == 0 else None


def mode_of(run: StoredRun) -> str:
    """How a stored run was profiled: "sampling" (counts are samples) or "cprofile"."""
    return "sampling" if run.overhead.get("method") == "sampled" else "cprofile"


def _share_status(a: float, b: float) -> str:
    if a == 0 and b > 0:
        return "new"
    if b == 0 and a > 0:
        return "gone"
    if abs(b - a) <= SHARE_NOISE_POINTS:
        return "about the same share"
    return "larger share" if b > a else "smaller share"


def _shares(frame: pd.DataFrame) -> pd.Series:
    column = "corrected_pct" if "corrected_pct" in frame.columns else "pct"
    return frame.set_index("category")[column].astype(float)


def compare_shares(a: StoredRun, b: StoredRun) -> pd.DataFrame:
    """Per category, the share of each run (corrected where stored) and the difference in
    points: what two differently profiled runs can be compared by."""
    left, right = _shares(a.categories), _shares(b.categories)
    names = sorted(set(left.index) | set(right.index))
    rows = []
    for name in names:
        sa, sb = float(left.get(name, 0.0)), float(right.get(name, 0.0))
        rows.append((name, sa, sb, sb - sa, _share_status(sa, sb)))
    frame = pd.DataFrame(rows, columns=SHARE_COLUMNS)
    order = frame["share_delta"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def compare_function_shares(a: StoredRun, b: StoredRun) -> pd.DataFrame:
    """Per function, its share of each run's self time and the difference in points."""
    joined = (
        _function_sums(a).add_suffix("_a").join(_function_sums(b).add_suffix("_b"), how="outer")
    ).reset_index()
    ta = float(a.functions["tottime"].sum()) or 1.0
    tb = float(b.functions["tottime"].sum()) or 1.0
    sa = 100.0 * joined["tottime_a"].fillna(0.0).astype(float) / ta
    sb = 100.0 * joined["tottime_b"].fillna(0.0).astype(float) / tb
    frame = pd.DataFrame(
        {
            "name": joined["name"],
            "file": joined["file"],
            "category": joined["category_b"]
            .astype(object)
            .fillna(joined["category_a"].astype(object)),
            "share_a": sa,
            "share_b": sb,
            "share_delta": sb - sa,
            "status": [_share_status(x, y) for x, y in zip(sa, sb, strict=True)],
        },
        columns=FUNCTION_SHARE_COLUMNS,
    )
    order = frame["share_delta"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def compare_categories(a: StoredRun, b: StoredRun, noise: Noise) -> pd.DataFrame:
    """Per category: self and inclusive seconds in each run, the change, and its status."""
    left = a.categories.set_index("category")
    right = b.categories.set_index("category")
    names = sorted(set(left.index) | set(right.index))
    rows = []
    for name in names:
        sa = float(left["self_s"].get(name, 0.0))
        sb = float(right["self_s"].get(name, 0.0))
        ia = float(left["inclusive_s"].get(name, 0.0))
        ib = float(right["inclusive_s"].get(name, 0.0))
        ca = int(left["calls"].get(name, 0))
        cb = int(right["calls"].get(name, 0))
        rows.append(
            (name, sa, sb, sb - sa, _pct(sa, sb), ia, ib, ib - ia, ca, cb, _status(sa, sb, noise))
        )
    frame = pd.DataFrame(rows, columns=CATEGORY_COLUMNS)
    frame["self_change_pct"] = pd.Series([row[4] for row in rows], dtype=object)
    order = frame["self_delta_s"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _function_sums(run: StoredRun) -> pd.DataFrame:
    frame = run.functions
    keys = [function_key(f, n) for f, n in zip(frame["file"], frame["name"], strict=True)]
    grouped = pd.DataFrame(
        {
            "file": [k[0] for k in keys],
            "name": [k[1] for k in keys],
            "category": frame["category"],
            "tottime": frame["tottime"],
            "cumtime": frame["cumtime"],
            "ncalls": frame["ncalls"],
        }
    )
    return grouped.groupby(["file", "name"], sort=True).agg(
        category=("category", "first"),
        tottime=("tottime", "sum"),
        cumtime=("cumtime", "max"),
        ncalls=("ncalls", "sum"),
    )


def compare_functions(a: StoredRun, b: StoredRun, noise: Noise) -> pd.DataFrame:
    """Per function (matched by file and name), biggest absolute self-time change first."""
    joined = (
        _function_sums(a).add_suffix("_a").join(_function_sums(b).add_suffix("_b"), how="outer")
    )
    joined = joined.reset_index()
    sa = joined["tottime_a"].fillna(0.0).astype(float)
    sb = joined["tottime_b"].fillna(0.0).astype(float)
    ca = joined["cumtime_a"].fillna(0.0).astype(float)
    cb = joined["cumtime_b"].fillna(0.0).astype(float)
    frame = pd.DataFrame(
        {
            "name": joined["name"],
            "file": joined["file"],
            "category": joined["category_b"]
            .astype(object)
            .fillna(joined["category_a"].astype(object)),
            "self_a": sa,
            "self_b": sb,
            "self_delta_s": sb - sa,
            "self_change_pct": pd.Series(
                [_pct(x, y) for x, y in zip(sa, sb, strict=True)], dtype=object
            ),
            "cum_a": ca,
            "cum_b": cb,
            "cum_delta_s": cb - ca,
            "calls_a": joined["ncalls_a"].fillna(0).astype(int),
            "calls_b": joined["ncalls_b"].fillna(0).astype(int),
            "status": [_status(x, y, noise) for x, y in zip(sa, sb, strict=True)],
        },
        columns=FUNCTION_COLUMNS,
    )
    order = frame["self_delta_s"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class CompareResult:
    """Two runs side by side: `categories` and `functions` DataFrames, and the noise used.

    When the runs were profiled differently (`same_mode` false) the tables hold shares
    only (:data:`SHARE_COLUMNS`)."""

    a: StoredRun
    b: StoredRun
    categories: pd.DataFrame
    functions: pd.DataFrame
    noise: Noise
    same_mode: bool = True
    rounds: int = 0  # interleaved rounds behind the categories' intervals (0: none)

    @property
    def change_pct(self) -> float | None:
        """Change of the total profiled time from run a to run b, in percent (None when the
        runs were profiled differently, or run a recorded nothing)."""
        return _pct(self.a.profiled_s, self.b.profiled_s) if self.same_mode else None

    def headline(self) -> str:
        """One line: the totals and whether the change is beyond the noise."""
        if not self.same_mode:
            return (
                f"Run {self.b.title()} ({mode_of(self.b)}) vs run {self.a.title()} "
                f"({mode_of(self.a)}): profiled differently, so their times and counts are "
                "not comparable (each profiler adds its own cost; sample counts are not "
                "calls). Only shares of each run are compared below."
            )
        interval = measured_noise(self.noise)
        status = _status(self.a.profiled_s, self.b.profiled_s, self.noise, interval=interval)
        change = self.change_pct
        shown = f"{change:+.1f}%, " if change is not None else ""
        return (
            f"Run {self.b.title()} vs run {self.a.title()}: {self.b.profiled_s:.3f} s vs "
            f"{self.a.profiled_s:.3f} s profiled ({shown}{status}; noise "
            f"threshold {self.noise.pct:.1f}%: {self.noise.source})."
        )

    def document(self, top: int = 15) -> Document:
        """The headline, the categories and the `top` functions that changed most."""
        if self.same_mode:
            tables = (
                sections.compared_categories(self.categories),
                sections.compared_functions(self.functions, top),
            )
            note = (
                "One profiled run per side: rows beyond the noise say more or less time, "
                "not faster or slower (there is no interval per category or function)."
            )
            if self.rounds:
                note = (
                    f"Categories: each of the {self.rounds} interleaved rounds was sampled; "
                    "'per run' is the median change of a run and its interval, and only an "
                    "interval that leaves out zero says faster or slower. Functions: one "
                    "profiled run per side, so more or less time beyond the noise."
                )
        else:
            tables = (
                sections.compared_shares(self.categories),
                sections.compared_function_shares(self.functions, top),
            )
            note = f"Shares within {SHARE_NOISE_POINTS:g} point are taken as the same."
        blocks = (Paragraph(self.headline()), *tables, Paragraph(note, "note"))
        return Document(f"Compare: A = {self.a.title()}, B = {self.b.title()}", blocks, level=3)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return bundle(self.document())

    def to_markdown(self, top: int = 15) -> str:
        """The comparison as markdown."""
        from workbench.report import markdown

        return markdown.render(self.document(top))


def with_changes(result: CompareResult, changes: Mapping[str, CategoryChange]) -> CompareResult:
    """The comparison with each category's change over an experiment's interleaved rounds
    (`round_change_s`, `round_low_s`, `round_high_s`: seconds per run, candidate less
    baseline) beside the single profiled runs'; where a category has an interval its
    status is that interval's: faster, slower, or no clear change."""
    if not changes or not result.same_mode:
        return result
    frame = result.categories.copy()
    found = [changes.get(str(name)) for name in frame["category"]]
    frame["round_change_s"] = pd.Series([c.median_s if c else None for c in found], dtype=object)
    frame["round_low_s"] = pd.Series([c.low_s if c else None for c in found], dtype=object)
    frame["round_high_s"] = pd.Series([c.high_s if c else None for c in found], dtype=object)
    frame["status"] = [c.status if c else s for c, s in zip(found, frame["status"], strict=True)]
    return replace(result, categories=frame, rounds=max(c.rounds for c in changes.values()))


def compare_stored(store: RunStore, a: int | str, b: int | str) -> CompareResult:
    """Compare two runs of an open store (ids, -1 for the latest, names or labels)."""
    run_a, run_b = store.get_run(a), store.get_run(b)
    noise = estimate_noise(store, [run_a, run_b])
    if mode_of(run_a) != mode_of(run_b):
        return CompareResult(
            run_a,
            run_b,
            compare_shares(run_a, run_b),
            compare_function_shares(run_a, run_b),
            noise,
            same_mode=False,
        )
    return CompareResult(
        run_a,
        run_b,
        compare_categories(run_a, run_b, noise),
        compare_functions(run_a, run_b, noise),
        noise,
    )


def compare(
    a: int | str, b: int | str, *, store: str | os.PathLike[str] | None = None
) -> CompareResult:
    """Diff run `a` (before) and run `b` (after) of the run store by category and function."""
    with RunStore(store) as opened:
        return compare_stored(opened, a, b)
