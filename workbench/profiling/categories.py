"""Rules that give every profiled function exactly one category.

User rules come first, in the order given; the first that matches wins. A rule is
``LABEL=PATTERN`` where the pattern is one of

* a file path glob (``*/dsl.py``; the default when it has ``/``, ``*``, ``?`` or ends in ``.py``),
* a module-name prefix (``module:mypkg.search``; the default for a dotted name),
* a function-name regex (``func:^solve_``).

Functions no user rule claims get a built-in category: ``GPU`` (CuPy and friends),
``user:<module>`` (the user's own code, split by its top-level module or package:
``user:dsl``, ``user:solvers``; code typed in notebook cells is ``user:<cell>``),
``stdlib``, ``library:<package>``, ``tooling`` (packaging machinery such as editable-install
finders) and ``native`` (C functions that cProfile records, such as ``{built-in method ...}``).

:func:`unmatched_rules` names the user rules that matched no function, with the paths,
modules or names they might have meant.
"""

from __future__ import annotations

import fnmatch
import os
import re
import site
import sys
import sysconfig
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from workbench.errors import ConfigError
from workbench.profiling.waiting import WAITING, WAITING_RULE, is_waiting_site

RuleKind = Literal["path", "module", "function"]

_PREFIXES: dict[str, RuleKind] = {
    "path:": "path",
    "glob:": "path",
    "module:": "module",
    "mod:": "module",
    "func:": "function",
    "re:": "function",
}
_EXAMPLES: dict[RuleKind, str] = {
    "path": "path:*/dsl.py",
    "module": "module:numpy",
    "function": "func:^solve_",
}
_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*\.?$")

# Top-level packages (or package prefixes) whose code drives a GPU.
GPU_PACKAGES = (
    "cupy",
    "cupyx",
    "cupy_backends",
    "pycuda",
    "numba.cuda",
    "torch.cuda",
    "triton",
    "rmm",
    "cudf",
    "cuda",
)

# Packaging machinery that runs inside imports (editable-install finders, setuptools'
# distutils shim, virtualenv's hook): one "tooling" category, not a library each.
TOOLING_PACKAGES = ("__editable__*", "_distutils_hack", "_virtualenv")
CELL_CATEGORY = "user:<cell>"
USER_PREFIX = "user:"

# File names that interactive shells give to code typed into a cell.
_CELL_FILE = re.compile(
    r"^<ipython-input-\d+-[0-9a-f]+>$"
    r"|[/\\]ipykernel_\d+[/\\]\d+\.py$"
    r"|[/\\]xpython_\d+[/\\]\d+\.py$"
    r"|^<workbench-cell-[0-9a-f]+>$"
    r"|^<(stdin|cell)>$"
)
_BUILTIN_METHOD = re.compile(r"^<built-in method (?P<qual>[\w.]+)>$")
_METHOD_OF = re.compile(r"^<method '(?P<meth>[^']+)' of '(?P<type>[\w.]+)' objects>$")


@dataclass(frozen=True)
class Rule:
    """One user rule: functions matching `pattern` belong to category `label`."""

    label: str
    kind: RuleKind
    pattern: str
    source: str = "-c"
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, fn: FunctionSite) -> bool:
        """Whether this rule claims the function."""
        if self.kind == "path":
            return not fn.native and fnmatch.fnmatchcase(fn.path, self.pattern)
        if self.kind == "module":
            prefix = self.pattern.rstrip(".")
            return fn.module == prefix or fn.module.startswith(prefix + ".")
        regex = self._regex if self._regex is not None else re.compile(self.pattern)
        return regex.search(fn.name) is not None

    def describe(self) -> str:
        """The rule as the report shows it, e.g. ``DSL = path '*/dsl.py' (-c)``."""
        return f"{self.label} = {self.kind} '{self.pattern}' ({self.source})"


def make_rule(label: str, pattern: str, source: str) -> Rule:
    """Build a rule, inferring its kind from the pattern unless a prefix names it."""
    label = label.strip()
    pattern = pattern.strip()
    if not label:
        raise ConfigError(f"category rule {pattern!r} has no label: write LABEL=PATTERN")
    if not pattern:
        raise ConfigError(f"category rule for {label!r} has an empty pattern")
    kind: RuleKind | None = None
    for prefix, prefix_kind in _PREFIXES.items():
        if pattern.startswith(prefix):
            kind, pattern = prefix_kind, pattern[len(prefix) :].strip()
            if not pattern:
                raise ConfigError(
                    f"category rule for {label!r} has nothing after {prefix!r}: write "
                    f"{prefix}PATTERN, e.g. {_EXAMPLES[prefix_kind]}"
                )
            break
    if kind is None:
        if any(ch in pattern for ch in "/\\*?[") or pattern.endswith(".py"):
            kind = "path"
        elif _DOTTED.match(pattern):
            kind = "module"
        else:
            raise ConfigError(
                f"cannot tell what kind of pattern {pattern!r} is (category {label!r}): "
                f"write path:{pattern}, module:{pattern} or func:{pattern}"
            )
    regex = None
    if kind == "function":
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"category {label!r}: {pattern!r} is not a valid regex ({exc})"
            ) from None
    return Rule(label, kind, pattern, source, regex)


def parse_rule(text: str, source: str = "-c") -> Rule:
    """Parse ``LABEL=PATTERN`` as written on the magic line."""
    label, sep, pattern = text.partition("=")
    if not sep:
        raise ConfigError(
            f"category rule {text!r} has no '=': write LABEL=PATTERN, e.g. DSL='*/dsl.py'"
        )
    return make_rule(label, pattern.strip().strip("'\""), source)


def rules_from_mapping(mapping: Mapping[str, object], source: str) -> list[Rule]:
    """Rules from a ``{label: pattern or [patterns]}`` table, in table order."""
    rules: list[Rule] = []
    for label, value in mapping.items():
        patterns = [value] if isinstance(value, str) else value
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ConfigError(
                f"{source}: category {label!r} must be a pattern string or a list of them"
            )
        rules.extend(make_rule(label, p, source) for p in patterns)
    return rules


@dataclass(frozen=True)
class FunctionSite:
    """Where a profiled function lives, as the rules see it."""

    path: str
    line: int
    name: str
    module: str
    native: bool
    owner: str


@dataclass(frozen=True)
class Assignment:
    """A function's category and the rule that gave it."""

    category: str
    rule: str


@dataclass
class Ruleset:
    """User rules, then the built-ins. `classify` is the only entry point."""

    rules: list[Rule] = field(default_factory=list)
    _paths: _PathKinds = field(default_factory=lambda: _PathKinds.here(), repr=False)

    def classify(self, fn: FunctionSite) -> Assignment:
        """The category of one function: the first user rule that matches, else a built-in."""
        return self.user_rule(fn) or self.builtin(fn)

    def user_rule(self, fn: FunctionSite) -> Assignment | None:
        """The first user rule that claims the function, or None."""
        for rule in self.rules:
            if rule.matches(fn):
                return Assignment(rule.label, rule.describe())
        return None

    def builtin(self, fn: FunctionSite) -> Assignment:
        """The built-in category of a function no user rule claims (it depends on the
        function's file, module, owner and whether it is native, not on its name, except
        for the blocking C functions, which are `waiting`)."""
        return self._paths.builtin(fn)

    def describe(self) -> list[str]:
        """Every rule in the order it is tried, built-ins last."""
        return [r.describe() for r in self.rules] + list(BUILTIN_RULES)


GENERATED_RULE = (
    "built-in: code generated at run time, such as dataclass methods in <string>, "
    "takes the category of the caller that spends most time in it"
)
BUILTIN_RULES = (
    "GPU = built-in: a GPU package (" + ", ".join(GPU_PACKAGES) + ")",
    "user:<module> = built-in: your own code (a file outside stdlib and site-packages), by its "
    "top-level module or package; code typed in a notebook cell is user:<cell>",
    "stdlib = built-in: the standard library",
    "library:<package> = built-in: a package installed in site-packages",
    "native = built-in: a C function or method recorded by cProfile",
    "(caller's) = " + GENERATED_RULE,
    "tooling = built-in: packaging machinery in site-packages ("
    + ", ".join(p.rstrip("*") for p in TOOLING_PACKAGES)
    + ")",
    WAITING_RULE,
)
# Placeholder category for generated code, resolved from its callers by the breakdown.
FROM_CALLER = "<from caller>"


def _is_gpu_module(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in GPU_PACKAGES)


@dataclass(frozen=True)
class _PathKinds:
    """This interpreter's standard library and site-packages folders."""

    stdlib: tuple[str, ...]
    site_dirs: tuple[str, ...]

    @classmethod
    def here(cls) -> _PathKinds:
        paths = sysconfig.get_paths()
        stdlib = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib") if k in paths}
        sites = {os.path.realpath(paths[k]) for k in ("purelib", "platlib") if k in paths}
        sites.update(os.path.realpath(p) for p in site.getsitepackages())
        user_site = site.getusersitepackages()
        if isinstance(user_site, str):
            sites.add(os.path.realpath(user_site))
        return cls(tuple(sorted(stdlib)), tuple(sorted(sites, key=len, reverse=True)))

    def package_of(self, path: str) -> str | None:
        """The top-level package a site-packages file belongs to, else None."""
        for base in self.site_dirs:
            if path.startswith(base + os.sep):
                return _first_part(path[len(base) + 1 :])
        parts = Path(path).parts
        for marker in ("site-packages", "dist-packages"):
            if marker in parts:
                rest = parts[parts.index(marker) + 1 :]
                return _first_part(os.sep.join(rest)) if rest else None
        return None

    def builtin(self, fn: FunctionSite) -> Assignment:
        if _is_gpu_module(fn.module) or _is_gpu_module(fn.owner):
            return Assignment("GPU", BUILTIN_RULES[0])
        if is_waiting_site(fn.path, fn.name, fn.native):
            return Assignment(WAITING, BUILTIN_RULES[7])
        if fn.native:
            return Assignment("native", BUILTIN_RULES[4])
        if _CELL_FILE.search(fn.path):
            return Assignment(CELL_CATEGORY, BUILTIN_RULES[1])
        if fn.path.startswith("<frozen "):
            return Assignment("stdlib", BUILTIN_RULES[2])
        if fn.path.startswith("<"):
            return Assignment(FROM_CALLER, BUILTIN_RULES[5])
        package = self.package_of(fn.path)
        if package is not None:
            if _is_gpu_module(package):
                return Assignment("GPU", BUILTIN_RULES[0])
            if is_tooling(package):
                return Assignment("tooling", BUILTIN_RULES[6])
            return Assignment(f"library:{package}", BUILTIN_RULES[3])
        if any(fn.path.startswith(base + os.sep) for base in self.stdlib):
            return Assignment("stdlib", BUILTIN_RULES[2])
        return Assignment(user_category(fn), BUILTIN_RULES[1])


def is_tooling(package: str) -> bool:
    """True for packaging machinery (``__editable___workbench_0_1_0_finder``, ...)."""
    return any(fnmatch.fnmatchcase(package, pattern) for pattern in TOOLING_PACKAGES)


def user_category(fn: FunctionSite) -> str:
    """``user:<top-level module or package>`` of a file of the user's own: the module's
    first dotted part, or the file's stem when no loaded module names it (a script run as
    ``__main__``)."""
    top = fn.module.split(".", 1)[0]
    if not top or top == "__main__":
        top = Path(fn.path).stem or fn.path
    return USER_PREFIX + top


def is_user_category(category: str) -> bool:
    """True for the built-in categories of the user's own code (``user:...``)."""
    return category.startswith(USER_PREFIX) or category == "user"


def _first_part(relative: str) -> str:
    head = relative.split(os.sep, 1)[0]
    for suffix in (".py", ".pyc"):
        if head.endswith(suffix):
            return head[: -len(suffix)]
    return head.split(".cpython-", 1)[0]


def native_owner(name: str) -> str:
    """The module that owns a C function cProfile recorded, e.g. ``numpy`` for
    ``<method 'sum' of 'numpy.ndarray' objects>`` and ``builtins`` for ``<built-in method builtins.len>``.
    """
    match = _BUILTIN_METHOD.match(name)
    if match:
        qual = match["qual"]
        return qual.rsplit(".", 1)[0] if "." in qual else "builtins"
    match = _METHOD_OF.match(name)
    if match:
        owner_type = match["type"]
        return owner_type.rsplit(".", 1)[0] if "." in owner_type else "builtins"
    return "builtins"


class ModuleIndex:
    """Which loaded module a source file belongs to.

    A profiled file name is looked up as the module recorded it first (no system call);
    only a name that misses is compared by real path, against an index of every module's
    real path built on the first miss. :meth:`refresh` takes in the modules imported
    since, so one index can serve a whole session.
    """

    def __init__(self, modules: Iterable[object] | None = None) -> None:
        self._files: dict[str, str] = {}
        self._seen: dict[str, object] = {}
        self._real: dict[str, str] | None = None
        if modules is None:
            self.refresh()
        else:
            for module in modules:
                self._add(module)

    def _add(self, module: object) -> None:
        path = getattr(module, "__file__", None)
        name = getattr(module, "__name__", None)
        if isinstance(path, str) and isinstance(name, str):
            self._files.setdefault(path, name)
            if self._real is not None:
                self._real.setdefault(os.path.realpath(path), name)

    def refresh(self) -> ModuleIndex:
        """Take in the modules of ``sys.modules`` not seen before; returns the index."""
        seen = self._seen
        for name, module in list(sys.modules.items()):
            if seen.get(name) is not module:
                seen[name] = module
                self._add(module)
        return self

    def lookup(self, path: str) -> str | None:
        """The dotted name of the module whose file is `path`, or None."""
        found = self._files.get(path)
        if found is not None:
            return found
        if self._real is None:
            self._real = {}
            for file, name in self._files.items():
                self._real.setdefault(os.path.realpath(file), name)
        return self._real.get(os.path.realpath(path))


def is_cell_file(path: str) -> bool:
    """True for the file names shells give to code typed into a cell."""
    return _CELL_FILE.search(path) is not None


def site_of(key: tuple[str, int, str], modules: ModuleIndex, cache: dict[str, str]) -> FunctionSite:
    """Describe a pstats key (file, line, name) for the rules."""
    path, line, name = key
    if path == "~":
        owner = native_owner(name)
        return FunctionSite("~", line, name, owner, True, owner)
    module = cache.get(path)
    if module is None:
        if path.startswith("<"):
            module = "__main__" if is_cell_file(path) else ""
        elif is_cell_file(path):
            module = "__main__"
        else:
            module = modules.lookup(path) or ""
        cache[path] = module
    return FunctionSite(path, line, name, module, False, module.split(".", 1)[0])


def unmatched_rules(
    rules: Iterable[Rule], sites: Iterable[FunctionSite], used: set[str]
) -> list[str]:
    """A sentence for each rule that gave no function its category, with the paths,
    modules or names it might have meant. `used` holds the rules (as described) that did.
    Rules from pyproject.toml are project-wide, so one that matches nothing in this run is
    not named."""
    unused = [r for r in rules if r.describe() not in used and r.source != "pyproject.toml"]
    if not unused:
        return []
    every = [s for s in sites if not s.native]
    out = []
    for rule in unused:
        shadowed = any(rule.matches(s) for s in every)
        if shadowed:
            out.append(
                f"Rule {rule.describe()} matched functions that an earlier rule claimed "
                "first (the first rule that matches wins): put it earlier or narrow the other."
            )
            continue
        hints = _closest(rule, every)
        meant = f" Did you mean {', '.join(hints)}?" if hints else ""
        out.append(f"Rule {rule.describe()} matched no function.{_how(rule)}{meant}")
    return out


def _how(rule: Rule) -> str:
    if rule.kind == "path" and not rule.pattern.startswith(("*", "/")):
        return " A path pattern is matched against the whole file path (start it with */)."
    return ""


def _closest(rule: Rule, sites: list[FunctionSite], limit: int = 3) -> list[str]:
    """The nearest paths (as globs), modules or function names to what the rule asked for."""
    import difflib

    if rule.kind == "path":
        names: dict[str, str] = {}
        for site in sites:
            if not site.path.startswith("<"):
                names.setdefault(os.path.basename(site.path).lower(), site.path)
        wanted = os.path.basename(rule.pattern.replace("\\", "/")).lower()
        found = [wanted] if wanted in names else []
        found = found or difflib.get_close_matches(wanted, list(names), n=limit, cutoff=0.6)
        return [f"'*/{os.path.basename(names[n])}' ({names[n]})" for n in found]
    if rule.kind == "module":
        modules: dict[str, str] = {}
        for site in sites:
            parts = site.module.split(".") if site.module else []
            for end in range(1, len(parts) + 1):
                dotted = ".".join(parts[:end])
                modules.setdefault(dotted.lower(), dotted)
        found = difflib.get_close_matches(
            rule.pattern.rstrip(".").lower(), list(modules), n=limit, cutoff=0.6
        )
        return [f"module:{modules[n]}" for n in found]
    functions: dict[str, str] = {}
    for site in sites:
        functions.setdefault(site.name.lower(), site.name)
    plain = re.sub(r"[\^$\\.*+?()\[\]{}|]", "", rule.pattern).lower()
    found = difflib.get_close_matches(plain, list(functions), n=limit, cutoff=0.6)
    return [f"func:^{re.escape(functions[n])}$" for n in found]
