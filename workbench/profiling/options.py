"""Options of a profiling run: given explicitly, else ``[tool.workbench]``, else the depth.

The depths are the analogue of the seeds' Fast / Balanced / Aggressive build profiles:

* ``fast``: the stack sampler only (`--mode sample`), the cheapest picture;
* ``balanced`` (default): cProfile and categories;
* ``aggressive``: adds line hot spots for the top functions, GPU timing, the call tree and
  the what-if pass (predicted wins of specific changes to the top functions).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from workbench.errors import ConfigError
from workbench.profiling.capture import Clock
from workbench.profiling.categories import Ruleset
from workbench.profiling.config import NO_PROJECT, Project, build_ruleset, read_project
from workbench.report.html import CHART_MODES, ChartMode

Mode = Literal["cprofile", "sample", "pyinstrument"]
MODES: tuple[Mode, ...] = ("cprofile", "sample", "pyinstrument")

DEPTHS: dict[str, dict[str, Any]] = {
    "fast": {"mode": "sample"},
    "balanced": {},
    "aggressive": {"lines": 5, "gpu": True, "tree": True, "whatif": True},
}
DEFAULTS: dict[str, Any] = {
    "depth": "balanced",
    "mode": "cprofile",
    "top": 5,
    "overhead": False,
    "chart": "mime",
    "lines": 0,
    "functions": [],
    "gpu": False,
    "tree": False,
    "whatif": False,
    "memory": False,
    "interval": 0.001,
    "save": None,
    "snakeviz": False,
    "rules": None,
}


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _seconds(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1


def _names(value: object) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# What each [tool.workbench] key holds, checked before anything runs: (test, expected).
def _one_of(*choices: str) -> Callable[[object], bool]:
    return lambda value: isinstance(value, str) and value in choices


def _flag(value: object) -> bool:
    return isinstance(value, bool)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


# What each [tool.workbench] key holds, checked before anything runs: (test, expected).
CONFIG_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "depth": (_one_of(*DEPTHS), 'one of "fast", "balanced" or "aggressive" (a string)'),
    "mode": (_one_of(*MODES), 'one of "cprofile", "sample" or "pyinstrument" (a string)'),
    "top": (_count, "a whole number >= 0"),
    "lines": (_count, "a whole number >= 0"),
    "overhead": (_flag, "true or false"),
    "gpu": (_flag, "true or false"),
    "memory": (_flag, "true or false"),
    "tree": (_flag, "true or false"),
    "snakeviz": (_flag, "true or false"),
    "chart": (_one_of(*CHART_MODES), 'one of "mime", "inline", "cdn" or "none" (a string)'),
    "functions": (_names, 'a list of function names, e.g. ["solve", "mod.func"]'),
    "interval": (_seconds, "a number of seconds in (0, 1]"),
    "save": (_text, "a folder path (a string)"),
    "rules": (_text, "a rules file path (a string)"),
    "store": (_text, "a run store file path (a string)"),
    "categories": (lambda v: isinstance(v, Mapping), "a table, e.g. [tool.workbench.categories]"),
}


def check_config(config: Mapping[str, Any], source: str) -> None:
    """One ConfigError naming the first key of `config` that is unknown or holds the
    wrong type (a table where a string goes, a number for a list of names, ...)."""
    unknown = sorted(set(config) - set(CONFIG_TYPES))
    if unknown:
        raise ConfigError(
            f"{source}: unknown option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(CONFIG_TYPES))}"
        )
    for key, value in config.items():
        test, expected = CONFIG_TYPES[key]
        if not test(value):
            raise ConfigError(f"{source}: {key} must be {expected}, got {value!r}")


def resolve_settings(
    given: Mapping[str, Any], config: Mapping[str, Any], *, source: str = "[tool.workbench]"
) -> dict[str, Any]:
    """Merge: a value given explicitly (not None) wins, then the config, then the depth."""
    check_config(config, source)
    depth = given.get("depth") or config.get("depth") or DEFAULTS["depth"]
    if depth not in DEPTHS:
        raise ConfigError(f"depth must be one of {', '.join(DEPTHS)}, got {depth!r}")
    merged = {**DEFAULTS, **DEPTHS[depth], "depth": depth}
    for key in DEFAULTS:
        if key in config and key != "depth":
            merged[key] = config[key]
        if given.get(key) is not None and key != "depth":
            merged[key] = given[key]
    return merged


@dataclass(frozen=True)
class Options:
    """Everything that shapes one profiling run; built by :meth:`build`, which reads the
    rules file, and only validated here (no file is read when an Options is made).
    `project` is the nearest pyproject.toml as read for this run (None: not read), kept for
    the run store's location (which it gives even with ``use_pyproject=False``)."""

    ruleset: Ruleset = field(default_factory=Ruleset)
    depth: str = "balanced"
    mode: Mode = "cprofile"
    top: int = 5
    overhead: bool = False
    chart: ChartMode = "mime"
    lines: int = 0
    functions: tuple[str, ...] = ()
    gpu: bool = False
    tree: bool = False
    whatif: bool = False
    memory: bool = False  # a tracemalloc pass: bytes by category and line (report.memory)
    interval: float = 0.001
    save: str | Path | None = None
    snakeviz: bool = False
    label: str | None = None
    timer: Clock | None = None
    call_cost_s: float | None = None
    project: Project | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        functions = [self.functions] if isinstance(self.functions, str) else self.functions
        if not isinstance(functions, Sequence) or not all(isinstance(f, str) for f in functions):
            raise ConfigError(f"functions must be a list of names, got {self.functions!r}")
        object.__setattr__(self, "functions", tuple(functions))
        for name in ("top", "lines"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a whole number >= 0, got {value!r}")
        if self.chart not in CHART_MODES:
            raise ConfigError(f"chart must be one of {', '.join(CHART_MODES)}, got {self.chart!r}")
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not isinstance(self.interval, (int, float)) or not 0 < self.interval <= 1:
            raise ConfigError(f"interval must be seconds in (0, 1], got {self.interval!r}")
        for name in ("overhead", "gpu", "tree", "whatif", "memory", "snakeviz"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.save is not None and not isinstance(self.save, (str, os.PathLike)):
            raise ConfigError(f"save must be a folder path, got {self.save!r}")
        if self.label is not None and not isinstance(self.label, str):
            raise ConfigError(f"label must be a string, got {self.label!r}")
        if self.depth not in DEPTHS:
            raise ConfigError(f"depth must be one of {', '.join(DEPTHS)}, got {self.depth!r}")

    @property
    def wants_lines(self) -> bool:
        """Whether a line pass was asked for."""
        return self.lines > 0 or bool(self.functions)

    @classmethod
    def build(
        cls,
        given: Mapping[str, Any],
        *,
        categories: Sequence[str] = (),
        project: Project | None = None,
        project_dir: str | Path | None = None,
        use_pyproject: bool = True,
        **fixed: Any,
    ) -> Options:
        """Options from explicit values (None = not given), ``[tool.workbench]`` of the
        nearest pyproject.toml (`project`, read here when not given; its settings and
        categories apply only with `use_pyproject`) and the depth; the category rules from
        `categories`, the rules file and the pyproject."""
        if project is None:
            project = read_project(project_dir)
        applied = project if use_pyproject else NO_PROJECT
        path, config = applied
        source = f"{path} [tool.workbench]" if path else "[tool.workbench]"
        settings = resolve_settings(given, config, source=source)
        rules = settings.pop("rules")
        from_config = given.get("rules") is None and config.get("rules") is not None
        if from_config and path is not None:
            rules = path.parent / str(config["rules"])  # relative to the pyproject.toml
        lines = [categories] if isinstance(categories, str) else list(categories)
        try:
            ruleset = build_ruleset(lines, rules, project=applied)
        except ConfigError as exc:
            if from_config and "rules file" in str(exc):
                raise ConfigError(f"{source}: rules = {config['rules']!r}: {exc}") from None
            raise
        return cls(ruleset=ruleset, project=project, **settings, **fixed)
