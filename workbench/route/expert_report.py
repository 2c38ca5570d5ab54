"""What a gated function chose and why: explain(), table() and thresholds, as plain data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.route.buckets import Bucket
from workbench.route.cost import fmt_seconds
from workbench.route.features import bucket_label, bucket_of, bucket_range
from workbench.route.learner import Learner
from workbench.route.neighbours import interpolated

if TYPE_CHECKING:
    import pandas as pd

TABLE_COLUMNS = [
    "where",
    "bucket",
    "low",
    "high",
    "expert",
    "kind",
    "calls",
    "samples",
    "median_s",
    "q1_s",
    "q3_s",
    "chosen",
    "status",
]


@dataclass(frozen=True)
class ExpertRow:
    """One expert in the bucket a call falls in."""

    name: str
    kind: str
    median_s: float | None
    q1_s: float | None
    q3_s: float | None
    samples: int
    calls: int
    failures: int
    note: str


def _calls(b: Bucket, name: str) -> int:
    s = b.stats.get(name)
    used = b.plan.used if b.plan is not None and b.plan.expert == name else 0
    return (s.calls if s is not None else 0) + used


def _note(learner: Learner, b: Bucket, name: str) -> str:
    e = learner.experts[name]
    s = b.stats.get(name)
    if e.unavailable:
        return f"cannot run here: {e.unavailable}"
    if s is None:
        return "not run in this bucket yet"
    parts = []
    if s.disabled:
        parts.append(f"disabled here: {s.disabled}")
    if s.skipped:
        parts.append(s.skipped)
    if s.checked:
        parts.append(f"result {s.checked}" if s.checked.startswith("matched") else s.checked)
    elif e.reference:
        parts.append("the reference")
    return "; ".join(parts)


def _rows(learner: Learner, b: Bucket) -> list[ExpertRow]:
    rows = []
    for name in learner.order:
        s = b.stats.get(name)
        quartiles = s.quartiles() if s is not None else None
        rows.append(
            ExpertRow(
                name,
                learner.experts[name].kind,
                s.median if s is not None else None,
                quartiles[0] if quartiles else None,
                quartiles[1] if quartiles else None,
                len(s.samples) if s is not None else 0,
                _calls(b, name),
                s.failures if s is not None else 0,
                _note(learner, b, name),
            )
        )
    return rows


@dataclass(frozen=True)
class ExpertExplanation:
    """Why a call of a gated function runs the expert it runs."""

    function: str
    size: float
    where: str
    bucket: str
    chosen: str | None
    tie: str | None
    source: str
    note: str
    next_step: str
    rows: list[ExpertRow]
    first_calls: dict[str, float]
    status: list[str] = field(default_factory=list)
    copies: str = ""
    check: str = ""
    placement: str = ""

    def lines(self) -> list[str]:
        out = [
            f"{self.function}: size {self.size:,.0f} (bucket {self.bucket}), inputs on the {self.where}"
        ]
        if self.chosen is None:
            out.append(f"not decided yet: {self.next_step}")
        else:
            why = self.source + (f", {self.note}" if self.note else "")
            medians = {r.name: r.median_s for r in self.rows if r.median_s is not None}
            mine = medians.get(self.chosen)
            faster = [
                f"{other / mine:.3g}x faster than {name}"
                for name, other in sorted(medians.items(), key=lambda kv: kv[1])
                if name != self.chosen and mine
            ]
            head = (
                f"either {self.chosen} or {self.tie} (within 20%: a tie)"
                if self.tie
                else self.chosen
            )
            out.append(f"chosen: {head} ({why})" + (f"; {', '.join(faster)}" if faster else ""))
        out.append(
            "  expert      kind     median     quartiles             samples  calls  failures  note"
        )
        for r in self.rows:
            q = f"{fmt_seconds(r.q1_s)} .. {fmt_seconds(r.q3_s)}" if r.q1_s is not None else "-"
            out.append(
                f"  {r.name:11s} {r.kind:8s} {fmt_seconds(r.median_s):>9s}  {q:20s} {r.samples:7d} "
                f"{r.calls:6d} {r.failures:9d}  {r.note}"
            )
        if self.first_calls:
            firsts = ", ".join(f"{n} {fmt_seconds(s)}" for n, s in self.first_calls.items())
            out.append(f"  first calls (imports, compilation; kept apart, not samples): {firsts}")
        if self.check:
            out.append(f"  check: {self.check}")
        if self.copies:
            out.append(f"  copies: {self.copies}")
        if self.placement:
            out.append(f"  placement: {self.placement}")
        out.extend(f"  {line}" for line in self.status)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(str(self))  # type: ignore[attr-defined]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([r.__dict__ for r in self.rows])


def _next_step(learner: Learner, b: Bucket) -> str:
    if not any(s.samples for s in b.stats.values()):
        tier = learner.tuned.get(b.where)
        if tier is not None:
            return f"the next call takes {learner.for_tier(tier, b.index)} (thresholds set in the tuner)"
        found = interpolated(learner.buckets.values(), b, learner.candidates(b), learner.per_decade)
        if found is not None:
            return f"the next call takes {found[0]} ({found[1]})"
    cands = learner.candidates(b)
    timed = {n: len(b.stat(n).samples) for n in cands}
    waiting = [n for n in cands if timed[n] < learner.samples]
    if not waiting:
        return "every candidate is timed; the next call chooses"
    return (
        f"timing {', '.join(waiting)} on the next calls "
        f"({', '.join(f'{n}: {k} of {learner.samples} samples' for n, k in timed.items())})"
    )


def _copies(learner: Learner) -> str:
    if not any(e.kind == "cupy" and not e.unavailable for e in learner.experts.values()):
        return ""
    mover = learner.placer.mover
    if mover is None:
        return "host<->device copies are plain cupy.asarray / cupy.asnumpy"
    return (
        f"host<->device copies of {mover.above / 2**20:.0f} MiB and more are staged through "
        "pinned buffers (the profile measured staging faster here); smaller ones are plain"
    )


def _placement(learner: Learner, b: Bucket) -> str:
    """Whether the inputs would be better kept on the GPU, from this size bucket measured
    with the inputs on each side (only for gates with a CuPy expert that can run)."""
    if not any(e.kind == "cupy" and not e.unavailable for e in learner.experts.values()):
        return ""
    other = learner.buckets.get(("device" if b.where == "host" else "host", b.index))
    mine = b.stat(b.choice).median if b.choice else None
    theirs = other.stat(other.choice).median if other is not None and other.choice else None
    if mine is None or theirs is None or other is None:
        side = "GPU" if b.where == "host" else "host"
        return (
            f"not measured yet with the inputs on the {side} (workbench.place decides from the ops)"
        )
    if b.where == "host" and theirs < mine:
        return (
            f"with the inputs already on the GPU this size runs in {fmt_seconds(theirs)} "
            f"({other.choice}) against {fmt_seconds(mine)} here: keep the working set there "
            "(move it once: workbench.place)"
        )
    if b.where == "device" and theirs < mine:
        return (
            f"with the inputs on the host this size runs in {fmt_seconds(theirs)} ({other.choice})"
        )
    return f"the inputs are best where they are ({fmt_seconds(mine)} against {fmt_seconds(theirs)})"


def explain(
    qualname: str, status: list[str], learner: Learner, size: float, where: str
) -> ExpertExplanation:
    index = bucket_of(size, learner.per_decade)
    b = learner.buckets.get((where, index)) or Bucket(index, where)
    return ExpertExplanation(
        function=qualname,
        size=size,
        where=where,
        bucket=bucket_label(index, learner.per_decade),
        chosen=b.choice,
        tie=b.tie,
        source=b.source,
        note=b.note,
        next_step=_next_step(learner, b) if b.choice is None else "",
        rows=_rows(learner, b),
        first_calls={n: e.first_s for n, e in learner.experts.items() if e.first_s is not None},
        status=list(status),
        copies=_copies(learner),
        check=b.check_note,
        placement=_placement(learner, b),
    )


def table(learner: Learner) -> pd.DataFrame:
    """One row per (where, bucket, expert), buckets in size order."""
    import pandas as pd

    rows = []
    for b in sorted(learner.buckets.values(), key=lambda b: (b.where, b.index)):
        low, high = bucket_range(b.index, learner.per_decade)
        for r in _rows(learner, b):
            chosen = r.name == b.choice or r.name == b.tie
            status = ("either" if b.tie else "chosen") if chosen else ""
            rows.append(
                [
                    b.where,
                    bucket_label(b.index, learner.per_decade),
                    low,
                    high,
                    r.name,
                    r.kind,
                    r.calls,
                    r.samples,
                    r.median_s,
                    r.q1_s,
                    r.q3_s,
                    chosen,
                    "; ".join(x for x in (status, b.source if chosen else "", r.note) if x),
                ]
            )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


@dataclass(frozen=True)
class Segment:
    """Sizes from `low` to `high` where `choice` runs ('either (a/b)' for a tie)."""

    where: str
    low: float
    high: float
    choice: str


@dataclass(frozen=True)
class Crossover:
    """Where the choice changes from `below` to `above`, somewhere in [low, high]."""

    where: str
    size: float
    low: float
    high: float
    below: str
    above: str


@dataclass(frozen=True)
class Crossovers:
    """A gated function's thresholds: the segments of sizes each choice covers and the
    crossovers between them, per place the inputs live."""

    segments: tuple[Segment, ...]
    crossings: tuple[Crossover, ...]

    def __iter__(self) -> Iterator[Crossover]:
        return iter(self.crossings)

    def __len__(self) -> int:
        return len(self.crossings)

    def __getitem__(self, i: int) -> Crossover:
        return self.crossings[i]

    def __str__(self) -> str:
        if not self.segments:
            return "no bucket decided yet"
        out = []
        for where in dict.fromkeys(s.where for s in self.segments):
            parts = [
                f"{s.choice} {_span(s.low, s.high)}" for s in self.segments if s.where == where
            ]
            out.append(f"inputs on the {where}: " + "; ".join(parts))
        return "\n".join(out)

    def __repr__(self) -> str:
        return f"<Crossovers\n{self}>"


def _span(low: float, high: float) -> str:
    return f"from {low:,.0f} to {high:,.0f}" if low >= 1 else f"up to {high:,.0f}"


def crossovers(learner: Learner) -> Crossovers:
    segments: list[Segment] = []
    crossings: list[Crossover] = []
    decided = sorted(
        (b for b in learner.buckets.values() if b.choice), key=lambda b: (b.where, b.index)
    )
    for b in decided:
        low, high = bucket_range(b.index, learner.per_decade)
        label = f"either ({b.choice}/{b.tie})" if b.tie else str(b.choice)
        last = segments[-1] if segments else None
        if last is not None and last.where == b.where and last.choice == label:
            segments[-1] = Segment(b.where, last.low, high, label)
            continue
        if last is not None and last.where == b.where:
            crossings.append(Crossover(b.where, low, last.high, low, last.choice, label))
        segments.append(Segment(b.where, low, high, label))
    return Crossovers(tuple(segments), tuple(crossings))
