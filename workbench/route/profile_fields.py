"""Checked readers for the fields of a machine profile read from JSON.

A profile is a file: it may come from another machine, an older workbench or a hand
edit. Every value is checked where it is read, and anything wrong is one RouteError
that names the field (``transfer.h2d_bytes_per_s``) and what it must be, so a bad file
never turns into ZeroDivisionError, AttributeError or OverflowError on the first routed
call, and never silently changes where code runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import RouteError

_MISSING = object()


def bad(field: str, what: str, value: Any) -> RouteError:
    """The error for one field: what it must be and what it was."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return RouteError(f"not a valid machine profile: field {field!r} must be {what}, got {shown}")


def missing(field: str) -> RouteError:
    return RouteError(f"not a valid machine profile: field {field!r} is missing")


def get(data: Mapping[str, Any], name: str, field: str, default: Any = _MISSING) -> Any:
    """data[name], or `default`; a missing field without a default is an error."""
    value = data.get(name, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise missing(field)
        return default
    return value


def mapping(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (an empty one for null)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad(field, "an object", value)
    for key in value:
        if not isinstance(key, str):
            raise bad(field, "an object with text keys", value)
    return value


def text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise bad(field, "text", value)
    return value


def texts(value: Any, field: str) -> dict[str, str]:
    """An object of text values (provenance, the machine key)."""
    out = mapping(value, field)
    for key, item in out.items():
        text(item, f"{field}.{key}")
    return dict(out)


def number(value: Any, field: str, *, positive: bool = False) -> float:
    """A finite number >= 0 (> 0 when `positive`): no text, no bool, no NaN or inf."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad(field, "a number", value)
    try:
        as_float = float(value)
    except OverflowError:
        raise bad(field, "a finite number", value) from None
    if not math.isfinite(as_float):
        raise bad(field, "a finite number", value)
    if positive and not as_float > 0:
        raise bad(field, "a number > 0", value)
    if as_float < 0:
        raise bad(field, "a number >= 0", value)
    return as_float


def whole(value: Any, field: str, *, minimum: int = 0) -> int:
    """A whole number >= `minimum` (2.0 reads as 2; 2.5, inf and 1e400 do not)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(field, f"a whole number >= {minimum}", value)
    if value < minimum:
        raise bad(field, f"a whole number >= {minimum}", value)
    return value


def size_or_none(value: Any, field: str) -> float | None:
    """A threshold: a size >= 0, or null for 'never'."""
    if value is None:
        return None
    return number(value, field)


def choice(value: Any, field: str, options: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in options:
        raise bad(field, f"one of {', '.join(options)}", value)
    return value


def only(data: Mapping[str, Any], field: str, names: Sequence[str]) -> None:
    """No keys other than `names` (a typo in a hand-edited file is named, not ignored)."""
    extra = sorted(set(data) - set(names))
    if extra:
        raise RouteError(
            f"not a valid machine profile: field {field!r} has unknown key {extra[0]!r} "
            f"(known: {', '.join(names)})"
        )
