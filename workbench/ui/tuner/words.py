"""The tuner's plain words: what each lane state, threshold mode and number means.

A calibration (and a function sweep) keeps, for every point it did not time, the reason:
`dominated`, `too-slow`, `settled` and the rest. The tuner shows those counts with each
state explained in a tooltip and in a legend beneath, so a first-time reader never meets
a bare word; the regret readout gets the same treatment. Plain strings only: no widgets.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path

from workbench.route.expert import Expert
from workbench.route.learned import default_profile_path
from workbench.ui.tuner.state import ALWAYS, AT, NEVER, TunerState

KINDS = {"python": "pure Python", "numpy": "NumPy", "cupy": "CuPy"}
# Every state a point of calibrate() or calibrate(f, ...) can have, in plain words.
STATES = {
    "ok": "timed: the point is on the chart",
    "dominated": (
        "not timed: this lane (backend or expert) was far slower than the best one at two "
        "sizes in a row, so the sweep stopped timing it at larger sizes"
    ),
    "too-slow": (
        "not timed: one call was predicted to take longer than the per-call cap, so the "
        "sweep skipped it to stay within its budget"
    ),
    "settled": (
        "not timed: no other lane was left to compare with at this size, so there was no "
        "choice to make"
    ),
    "budget": "not timed: the time budget ran out (or the sweep was interrupted) first",
    "memory": "not timed: the operands would not fit in the memory free",
    "oom": "not timed: it ran out of memory (host or GPU); the sweep went on",
    "failed": "not timed: the backend or expert raised an error",
    "mismatch": ("not timed: its result differed from the reference's, so it is not trusted here"),
    "unavailable": "not timed: the expert cannot run on this machine (e.g. no GPU or no CuPy)",
}

REGRET_HELP = (
    "<details class='wb-regret-help'><summary>What these numbers mean</summary>"
    "<ul>"
    "<li><b>regret</b> at one size: the time per call of the backend these thresholds pick, "
    "divided by the fastest time measured at that size. <b>1.000x</b> means the fastest is "
    "always picked; 2x means calls take twice as long as they could.</li>"
    "<li><b>geo-mean</b>: the geometric mean of that ratio over the measured sizes (each size "
    "counts once); <b>worst</b>: the largest ratio; <b>lost</b>: the time lost over one call "
    "at each size.</li>"
    "<li><b>fitted</b>: the thresholds fitted to these measurements; <b>seed table</b>: the "
    "built-in thresholds the router starts from; <b>reference only</b>: your function's "
    "original code at every size, as before it had experts.</li>"
    "<li>Below 1.000x: the fastest is idiomatic code timed by an independent harness "
    "(a comprehension, built-in <code>sum</code>, array methods), and the router's kernels "
    "can beat it.</li>"
    "<li>Moving a slider re-scores the stored measurements at once; only "
    "<b>Run benchmark</b> measures again.</li>"
    "</ul></details>"
)


def counts(statuses: Iterable[str]) -> dict[str, int]:
    """How many points have each state, 'ok' first, then by name."""
    out: dict[str, int] = {}
    for status in statuses:
        out[status] = out.get(status, 0) + 1
    return dict(sorted(out.items(), key=lambda item: (item[0] != "ok", item[0])))


def state_words(status: str) -> str:
    return STATES.get(status, "not timed (no explanation known for this state)")


def points_html(found: dict[str, int], seconds: float) -> str:
    """'N points in S s: 40 timed, 7 dominated, ...' with each state's meaning as a
    tooltip, then a legend of the states that occur."""
    total = sum(found.values())
    parts = ", ".join(
        f"<span class='wb-state' title='{html.escape(state_words(s), quote=True)}'>"
        f"{n} {html.escape(s)}</span>"
        for s, n in found.items()
    )
    legend = "".join(
        f"<li><b>{html.escape(s)}</b>: {html.escape(state_words(s))}</li>" for s in found
    )
    return (
        f"{total} points in {seconds:.1f} s: {parts}"
        f"<details class='wb-states'><summary>What the point states mean</summary>"
        f"<ul>{legend}</ul></details>"
    )


def expert_words(expert: Expert) -> str:
    """'numpy (NumPy)', 'python (pure Python, the reference)', 'cupy (CuPy: cannot run
    here: no GPU ...)'."""
    notes = [KINDS.get(expert.kind, expert.kind)]
    if expert.reference:
        notes.append("the reference")
    text = f"{expert.name} ({', '.join(notes)})"
    if expert.unavailable:
        text = f"{text[:-1]}: cannot run here, {expert.unavailable})"
    return text


def python_state(mode: str, size: float) -> str:
    """The pure-Python threshold's state in words (beside its slider)."""
    return {
        NEVER: "never: NumPy (or CuPy) at every size; the slider is off",
        AT: f"pure Python for calls of up to {size:,.0f} elements, NumPy above",
        ALWAYS: "always: pure Python at every size; the slider is off",
    }[mode]


def cupy_state(mode: str, size: float) -> str:
    """The CuPy threshold's state in words (beside its slider)."""
    return {
        NEVER: "never: the CPU at every size; the slider is off",
        AT: f"CuPy for calls of more than {size:,.0f} elements",
        ALWAYS: "always: CuPy at every size; the slider is off",
    }[mode]


def saved_html(target: Path, state: TunerState) -> str:
    """Where Save wrote, what the file holds and who reads it."""
    ops = sum(1 for k in state.tiers if not state.is_function(k))
    functions = sorted({k[0] for k in state.functions})
    held = [f"thresholds for {ops} op groups"] if state.fit is not None else []
    if functions:
        held.append(f"what {len(functions)} gated functions learned, with your edits")
    readers = "<code>Router(path)</code> routes with it"
    if functions:
        readers += (
            "; your gated functions read it at their next kernel start"
            if target == default_profile_path().resolve()
            else "; gated functions read it when given <code>profile=path</code> "
            f"(their default is <code>{html.escape(str(default_profile_path()))}</code>)"
        )
    return (
        f"Saved profile to <code>{html.escape(str(target))}</code>: {', '.join(held)}. {readers}."
    )
