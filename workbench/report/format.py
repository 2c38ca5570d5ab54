"""Number formatting shared by every renderer (no pandas, no plotly)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def seconds(value: float) -> str:
    """Seconds with a unit that keeps three significant figures readable."""
    if value >= 100:
        return f"{value:.0f} s"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    if value > 0:
        return f"{value * 1e6:.0f} us"
    return "0 s"


def fixed(value: float, digits: int = 3) -> str:
    """A plain decimal, the way the tables show seconds."""
    return f"{value:.{digits}f}"


def pct(value: float) -> str:
    """A percentage with one decimal."""
    return f"{value:.1f}%"


def factor(value: float) -> str:
    """A speedup factor; infinity is shown as such."""
    if math.isinf(value):
        return "inf"
    return f"{value:.2f}x"


def change(value: float) -> str:
    """A signed relative change in percent; infinity is shown as such."""
    return "inf" if math.isinf(value) else f"{value:+.1f}%"


def count(value: int) -> str:
    """An integer with thousands separators."""
    return f"{int(value):,}"


def where(path: str, line: int) -> str:
    """A short `file:line` for a function: the last two path parts."""
    if path == "~":
        return "C"
    parts = path.replace("\\", "/").rsplit("/", 2)
    short = "/".join(parts[-2:]) if len(parts) > 1 else path
    return f"{short}:{line}"


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as dicts, for renderers."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
