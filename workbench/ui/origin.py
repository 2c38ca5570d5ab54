"""Which notebook a kernel runs: the `origin` each run is recorded with.

JupyterLab and Notebook 7 start a kernel with ``JPY_SESSION_NAME`` set to the notebook's
path, and ipykernel copies it into the namespace as ``__session__``; VS Code sets
``__vsc_ipynb_file__``. A kernel started otherwise (nbclient, papermill, a console) names
no notebook: its runs are those of its kernel session.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def notebook_origin(
    namespace: Mapping[str, object], session_id: str, env: Mapping[str, str] | None = None
) -> str:
    """The notebook's path, or ``kernel session ID`` when the kernel names none."""
    env = os.environ if env is None else env
    for name in ("__vsc_ipynb_file__", "__session__"):
        value = namespace.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    named = env.get("JPY_SESSION_NAME", "").strip()
    if named:
        return named
    return f"kernel session {session_id}"
