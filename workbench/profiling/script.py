"""Run a script the way ``python SCRIPT.py ARGS`` runs it, for ``workbench profile``.

The script's code runs in the namespace of a fresh module named ``__main__`` that is
``sys.modules["__main__"]`` while it runs, so ``if __name__ == "__main__":`` blocks run,
``import __main__`` finds the script, pickle finds the script's own classes and functions
(``__main__.work``), and multiprocessing can start workers by fork or spawn (a spawned
worker re-imports the script from ``__main__.__file__`` as ``__mp_main__``). ``sys.argv`` is
the script and its arguments and ``sys.path[0]`` the script's folder. All three are put back
afterwards.
"""

from __future__ import annotations

import builtins
import os
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def as_main(script: str | os.PathLike[str], argv: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """Within the block, the interpreter looks as it does under ``python SCRIPT ARGS``;
    yields the namespace to run the script's code in (the ``__main__`` module's)."""
    path = Path(script).resolve()
    module = types.ModuleType("__main__")
    module.__file__ = str(path)
    module.__dict__.update(__builtins__=builtins, __spec__=None, __cached__=None)
    saved_main = sys.modules.get("__main__")
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.modules["__main__"] = module
    sys.argv = [str(script), *argv]
    sys.path.insert(0, str(path.parent))
    try:
        yield module.__dict__
    finally:
        sys.argv[:] = saved_argv
        sys.path[:] = saved_path
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
        else:
            sys.modules.pop("__main__", None)
