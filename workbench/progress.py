"""Progress bars for long work, through ``tqdm.auto``: a widget bar in a notebook, a text
bar on stderr elsewhere. tqdm is imported when the first bar is drawn, never before.

One plain API for every pass that runs long (a candidate's rounds, the line pass, the GPU
pass, calibration, the what-if pass)::

    bar = Bar("candidate 'memo': rounds", total=20)   # drawn at once, at 0 of 20
    bar.update(3)                                      # 3 done (a new total: update(3, total=24))
    bar.close()                                        # also: with Bar(...) as bar: ...

    with stage("line pass"):                           # one step: shown while it runs
        ...
    hook = rounds("candidate 'memo'")   # an on_round(done, planned) hook; hook.close() at the end
    hook = steps("calibrating")         # a progress(done, total, label) hook, as calibrate() takes

``enabled=False`` makes every one of them do nothing (``-q``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["Bar", "Rounds", "Steps", "rounds", "stage", "steps"]


class Bar:
    """One progress bar: `label`, done so far out of `total` (None: unknown). A text bar
    goes to `file` (stderr as it is when the bar is made)."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        enabled: bool = True,
        file: TextIO | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total, desc=label, leave=True, dynamic_ncols=True, file=file or sys.stderr
            )

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        """`done` steps finished so far (not a step count to add); a new `total` when the
        plan changed; `note` is shown after the bar."""
        bar = self._bar
        if total is not None and total != self.total:
            self.total = total
            if bar is not None:
                bar.reset(total=total)
                bar.update(self.done)
        step = done - self.done
        self.done = done
        if bar is None:
            return
        if note:
            bar.set_postfix_str(note, refresh=False)
        bar.update(step)

    def close(self) -> None:
        """Finish the bar (idempotent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def stage(label: str, *, enabled: bool = True) -> Iterator[Bar]:
    """One step of work: a bar at 0 of 1 while it runs, 1 of 1 once it is done (left at
    0 of 1 when it raised)."""
    bar = Bar(label, 1, enabled=enabled)
    try:
        yield bar
        bar.update(1)
    finally:
        bar.close()


class Rounds:
    """An ``on_round(done, planned)`` hook (:class:`workbench.experiment.session.Session`):
    the bar appears at the first round and closes after the last, or at :meth:`close`.
    A text bar goes to stderr as it is when the hook is made (the rounds run with their
    own output silenced)."""

    def __init__(self, label: str, *, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled
        self.file = sys.stderr
        self.bar: Bar | None = None
        self.calls = 0

    def __call__(self, done: int, planned: int) -> None:
        self.calls += 1
        if self.bar is None:
            self.bar = Bar(self.label, planned, enabled=self.enabled, file=self.file)
        self.bar.update(done, planned)
        if done >= planned:
            self.close()

    def close(self) -> None:
        """Finish the bar if one is open."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Steps:
    """A ``progress(done, total, label)`` hook (``workbench.calibrate.calibrate``'s): each
    call's label is shown after the bar."""

    def __init__(self, label: str, *, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled
        self.file = sys.stderr
        self.bar: Bar | None = None

    def __call__(self, done: int, total: int, label: str = "") -> None:
        if self.bar is None:
            self.bar = Bar(self.label, total, enabled=self.enabled, file=self.file)
        self.bar.update(done, total, label)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Finish the bar if one is open."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def rounds(label: str, *, enabled: bool = True) -> Rounds:
    """An ``on_round(done, planned)`` hook drawing a bar (see :class:`Rounds`)."""
    return Rounds(label, enabled=enabled)


def steps(label: str, *, enabled: bool = True) -> Steps:
    """A ``progress(done, total, label)`` hook drawing a bar (see :class:`Steps`)."""
    return Steps(label, enabled=enabled)
