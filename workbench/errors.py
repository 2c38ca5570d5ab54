"""The one exception family of the workbench.

Every message says what was wrong and what to do about it.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class for every error the workbench raises on purpose."""


class ConfigError(WorkbenchError):
    """Bad options, rules or configuration files: nothing was run."""


class ProfileError(WorkbenchError):
    """A profile could not be captured or loaded."""


class RouteError(WorkbenchError, ValueError):
    """The backend router was given something it cannot route: an unknown op, a bad size,
    NumPy and CuPy inputs mixed in one call, or a profile file it cannot read."""


class SaveError(WorkbenchError):
    """Report files could not be written; the folder was left as it was. `report` holds
    the report that was not saved, where there is one."""

    report: object = None


class StoreError(WorkbenchError):
    """The run store cannot be opened, read or written; nothing was half-written."""


class ExperimentError(WorkbenchError):
    """A baseline/candidate experiment cannot run or its outputs cannot be compared."""


class WorkflowBlockedError(WorkbenchError):
    """A workflow phase cannot start because an earlier phase failed."""
