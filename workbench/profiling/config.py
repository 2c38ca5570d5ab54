"""Where category rules and settings come from: the magic line, a rules file, and the
nearest pyproject.toml, which is read once per run (:func:`read_project`) and handed to
everything that needs it (the options, the rules, the run store's location)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.profiling.categories import Rule, Ruleset, parse_rule, rules_from_mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# The nearest pyproject.toml (None when there is none) and its [tool.workbench] table.
Project = tuple[Path | None, dict[str, Any]]
NO_PROJECT: Project = (None, {})


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into one ConfigError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read rules file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"rules file {str(path)!r} is not valid TOML: {exc}") from None


def nested(data: Mapping[str, Any], keys: tuple[str, ...], source: str) -> dict[str, Any]:
    """The table at ``data[keys[0]][keys[1]]...`` (empty where missing); ConfigError naming
    the key when one of them is not a table (``tool = 5``)."""
    table: Any = data
    for depth, key in enumerate(keys, 1):
        table = table.get(key, {})
        if not isinstance(table, dict):
            name = ".".join(keys[:depth])
            raise ConfigError(f"{source}: {name} must be a table ([{name}]), got {table!r}")
    return dict(table)


def rules_from_file(path: Path) -> list[Rule]:
    """Rules from a TOML file with a ``[categories]`` table (or ``[tool.workbench.categories]``)."""
    data = read_toml(path)
    table = data.get("categories")
    if table is None:
        table = nested(data, ("tool", "workbench"), f"rules file {str(path)!r}").get("categories")
    if not isinstance(table, Mapping):
        raise ConfigError(
            f"rules file {str(path)!r} has no [categories] table: "
            'add one, e.g. [categories] then DSL = "*/dsl.py"'
        )
    try:
        return rules_from_mapping(table, source=path.name)
    except ConfigError as exc:
        raise ConfigError(f"rules file {str(path)!r}: {exc}") from None


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml in `start` or a folder above it."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def pyproject_settings(start: Path) -> Project:
    """The ``[tool.workbench]`` table of the nearest pyproject.toml, or an empty one."""
    path = find_pyproject(start)
    if path is None:
        return None, {}
    return path, nested(read_toml(path), ("tool", "workbench"), str(path))


def read_project(project_dir: str | Path | None = None) -> Project:
    """The nearest pyproject.toml in or above `project_dir` (default: the working folder)
    and its ``[tool.workbench]`` table."""
    return pyproject_settings(Path(project_dir or Path.cwd()).resolve())


def build_ruleset(
    line_rules: Iterable[str] = (),
    rules_file: str | Path | None = None,
    *,
    project: Project = NO_PROJECT,
) -> Ruleset:
    """Collect rules in priority order: magic line, then rules file, then pyproject.toml."""
    rules = [parse_rule(text) for text in line_rules]
    if rules_file is not None:
        rules.extend(rules_from_file(Path(rules_file).expanduser()))
    path, settings = project
    table = settings.get("categories")
    if path is not None and table is not None:
        if not isinstance(table, Mapping):
            raise ConfigError(f"{path}: [tool.workbench.categories] must be a table")
        try:
            rules.extend(rules_from_mapping(table, source="pyproject.toml"))
        except ConfigError as exc:
            raise ConfigError(f"{path} [tool.workbench.categories]: {exc}") from None
    return Ruleset(rules)
