"""A text progress bar for the command line (stderr): redrawn in place on a terminal,
one line per tenth of the work in a log file or a notebook's captured output."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30


class TextProgress:
    """Call with (done, total, label) after each point; `close()` ends the line."""

    def __init__(self, stream: TextIO | None = None, min_interval_s: float = 0.1) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval_s = min_interval_s
        self._last_draw = 0.0
        self._last_tenth = -1
        self._drawn = False

    def __call__(self, done: int, total: int, label: str) -> None:
        total = max(total, 1)
        if self.live:
            now = time.monotonic()
            if done < total and now - self._last_draw < self.min_interval_s:
                return
            self._last_draw = now
            filled = _WIDTH * done // total
            bar = "#" * filled + "-" * (_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {label[:40]:<40}")
            self._drawn = True
        else:
            tenth = 10 * done // total
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(f"calibrating: {done}/{total} points ({label})\n")
        self.stream.flush()

    def close(self) -> None:
        """Finish the bar's line."""
        if self.live and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
