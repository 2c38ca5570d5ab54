"""Writing a calibration's profile: a sweep cut short never replaces a complete one.

What gated functions learned in a profile already at the target is kept in the new one.
A calibration interrupted with Ctrl-C (or cut by an error) has only the points measured
so far. Its profile is written beside the target, as ``NAME.partial.json``, and the
target is left as it was, so a complete profile is never written over by a partial one.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from workbench.errors import RouteError
from workbench.route.machine_profile import MachineProfile


def partial_path(target: str | os.PathLike[str]) -> Path:
    """Where a partial profile for `target` goes: 'hw.json' -> 'hw.partial.json'."""
    path = Path(target)
    return path.with_name(f"{path.stem}.partial{path.suffix or '.json'}")


def _functions_there(path: Path) -> dict[str, dict[str, Any]]:
    """The gated functions' records in the profile at `path` (none if it is unreadable)."""
    if not path.is_file():
        return {}
    try:
        return dict(MachineProfile.load(path).functions)
    except RouteError:
        return {}


def save_profile(
    profile: MachineProfile, target: str | os.PathLike[str], *, interrupted: bool
) -> tuple[Path, str]:
    """Write `profile` to `target`, or beside it when the sweep was `interrupted`;
    returns the file written and a sentence saying where, and why there."""
    learned = _functions_there(Path(target))
    if learned:  # what gated functions learned in this profile stays in it
        profile = replace(profile, functions={**learned, **profile.functions})
    if not interrupted:
        written = profile.save(target)
        return (
            written,
            f"Profile written to {written.resolve()}: use it with Router({str(written)!r})",
        )
    written = profile.save(partial_path(target))
    kept = Path(target)
    where = f"{kept} was not written over: it is as it was" if kept.exists() else f"not to {kept}"
    return written, (
        f"interrupted: the partial profile (what was measured before Ctrl-C) was written to "
        f"{written}; {where}. Rename it to use it, or run the calibration again"
    )
