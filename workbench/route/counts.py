"""Tally: decisions, executions and fallbacks per op and backend, kept on a Router."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.route.kinds import Backend

if TYPE_CHECKING:
    import pandas as pd


class Tally:
    """Counters of one Router. A cell is [decisions, executions] of one (op, backend);
    the Router's cached plans hold their cell, so counting costs one list increment."""

    def __init__(self) -> None:
        self._cells: dict[tuple[str, Backend], list[int]] = {}
        self._fallbacks: dict[tuple[str, Backend, Backend, str], int] = {}

    def cell(self, op: str, backend: Backend) -> list[int]:
        """The [decisions, executions] list of (op, backend), made on first use."""
        key = (op, backend)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = [0, 0]
        return cell

    def fallback(self, op: str, failed: Backend, to: Backend, reason: str) -> None:
        """Count one call that `failed` could not run and `to` ran instead."""
        key = (op, failed, to, reason)
        self._fallbacks[key] = self._fallbacks.get(key, 0) + 1

    def counts(self) -> pd.DataFrame:
        """op, backend, decisions, executions, fallbacks_from: every backend of every op seen."""
        ops = sorted({op for (op, _), cell in self._cells.items() if any(cell)})
        rows = []
        for op in ops:
            for b in Backend:
                decided, ran = self._cells.get((op, b), (0, 0))
                failed = sum(n for (o, f, _, _), n in self._fallbacks.items() if o == op and f is b)
                rows.append((op, b.value, decided, ran, failed))
        import pandas as pd

        return pd.DataFrame.from_records(
            rows, columns=["op", "backend", "decisions", "executions", "fallbacks_from"]
        )

    def fallbacks(self) -> pd.DataFrame:
        """op, from, to, reason, count: one row per distinct fallback."""
        rows = [
            (op, f.value, t.value, reason, n) for (op, f, t, reason), n in self._fallbacks.items()
        ]
        import pandas as pd

        return pd.DataFrame.from_records(rows, columns=["op", "from", "to", "reason", "count"])

    def never_ran(self, *, gpu_available: bool) -> list[str]:
        """Backends chosen but never executed, or never executed while available."""
        notes = []
        for backend in Backend:
            decided = sum(c[0] for (_, b), c in self._cells.items() if b is backend)
            ran = sum(c[1] for (_, b), c in self._cells.items() if b is backend)
            if decided and not ran:
                notes.append(f"{backend.label}: chosen {decided} time(s) but never executed")
            elif not ran and (backend is not Backend.CUPY or gpu_available):
                notes.append(f"{backend.label}: never executed")
        return notes

    def reset(self) -> None:
        """Zero every counter (cells stay, so cached plans keep counting)."""
        for cell in self._cells.values():
            cell[0] = cell[1] = 0
        self._fallbacks.clear()
