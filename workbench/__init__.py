"""workbench: profile a notebook cell by category, then optimise with evidence.

``%load_ext workbench`` registers ``%%optimize`` / ``%optimize``; ``workbench.profile``
does the same without IPython.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import ConfigError, ProfileError, WorkbenchError
from workbench.profiler import load, profile
from workbench.report.model import Report
from workbench.route import BackendSelector, Router, recommend_backend

__all__ = [
    "BackendSelector",
    "ConfigError",
    "ProfileError",
    "Report",
    "Router",
    "WorkbenchError",
    "load",
    "load_ipython_extension",
    "profile",
    "recommend_backend",
    "unload_ipython_extension",
]
__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext workbench``)."""
    from workbench.ui.magics import OptimizeMagics

    ipython.register_magics(OptimizeMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics (``%unload_ext workbench``)."""
    magics = ipython.magics_manager.magics
    magics["line"].pop("optimize", None)
    magics["cell"].pop("optimize", None)
