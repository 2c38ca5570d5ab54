"""Whether a stored baseline's code may be re-run as it is, or shown and confirmed first.

`%%optimize --candidate` re-runs the baseline's code from the run store. Code this kernel
session recorded is the user's own; code from any other session (an earlier kernel, a
colleague's store, a downloaded project) came from a file, so it is shown with where it came
from and re-run only once the user confirms that exact code (its digest).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from workbench.store.records import StoredBaseline


def code_digest(code: str) -> str:
    """The SHA-256 of the code, the form a confirmation is remembered under."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class BaselineReview:
    """What to show before re-running a baseline this session did not record."""

    name: str
    code: str
    digest: str
    origin: str

    def text(self) -> str:
        """The message: where the code came from, the code itself, what confirming does."""
        lines = self.code.rstrip("\n").splitlines() or [""]
        body = "\n".join(f"    {line}" for line in lines)
        return (
            f"Baseline {self.name!r} will be re-run from the run store, and this kernel did not "
            f"record it: {self.origin}.\nIts code ({len(lines)} line(s), sha256 "
            f"{self.digest[:12]}):\n{body}\nRe-run it only if you trust this code; confirming "
            "covers exactly this code for the rest of the session."
        )


def review_baseline(
    baseline: StoredBaseline,
    *,
    session: str,
    store: Path,
    confirmed: Collection[str] = (),
) -> BaselineReview | None:
    """None when the baseline may be re-run as it is (this `session` recorded it, or its
    code's digest is among those `confirmed` in this session); else what to show first."""
    digest = code_digest(baseline.code)
    if (baseline.session is not None and baseline.session == session) or digest in confirmed:
        return None
    who = (
        f"another kernel session ({baseline.session})"
        if baseline.session
        else "an unknown session (no session was recorded with it)"
    )
    facts = [f"recorded {baseline.created_at} by {who}"]
    if baseline.device:
        facts.append(f"on {baseline.device}")
    if baseline.python:
        facts.append(f"Python {baseline.python}")
    if baseline.git_commit:
        facts.append(f"git commit {baseline.git_commit[:12]}")
    facts.append(f"in {store}")
    return BaselineReview(baseline.name, baseline.code, digest, ", ".join(facts))
