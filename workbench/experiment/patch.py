"""A change applied in place: every module (and namespace) that holds a function gets a
replacement, and each one gets the original back afterwards, whatever the code did.

Functions are found by name without running code (``inspect.getattr_static`` through
already imported modules and the user's namespace). A :class:`Patch` is a context
manager made for one run: entering it looks for every holder of each function (module
globals, the given namespaces, the class that defines a method) and puts the
replacement there; leaving it restores each holder that still holds the replacement,
also when the code raised or was interrupted. References kept elsewhere (in a tuple, a
``functools.partial``, a closure) are not replaced; calls through them run the original.
"""

from __future__ import annotations

import difflib
import inspect
import sys
import types
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from workbench.errors import ExperimentError

_NOT_FOUND = object()


@dataclass(frozen=True)
class Target:
    """A Python function named by the user: as asked, its qualified name, the function
    and the object stored where it is defined (the function, a staticmethod or a
    classmethod)."""

    asked: str
    qualname: str
    func: types.FunctionType
    stored: object


def qualified_name(func: types.FunctionType) -> str:
    """``module.Qualname`` of a function (the cell's functions: just the qualname)."""
    module = func.__module__
    if not module or module == "__main__" or module not in sys.modules:
        return func.__qualname__
    return f"{module}.{func.__qualname__}"


def underlying(obj: object) -> types.FunctionType | None:
    """The Python function inside a function, staticmethod or classmethod, else None."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    return obj if isinstance(obj, types.FunctionType) else None


def _walk(obj: object, parts: Sequence[str]) -> object:
    for part in parts:
        obj = inspect.getattr_static(obj, part, _NOT_FOUND)
        if obj is _NOT_FOUND:
            return _NOT_FOUND
    return obj


def lookup(name: str, namespace: Mapping[str, object]) -> object:
    """The object `name` (dotted) names, from the namespace or an imported module, found
    without running code; raises ExperimentError saying how to name it when absent."""
    parts = name.split(".")
    if not name or not all(part.isidentifier() for part in parts):
        raise ExperimentError(
            f"{name!r} is not a function name: give it as module.function or Class.method "
            "(e.g. workbench.demo.dsl.objects)"
        )
    # Each start found (a notebook name, an imported module): where the walk stopped.
    partial: list[tuple[object, int]] = []
    if parts[0] in namespace:
        found, walked = _deepest(namespace[parts[0]], parts[1:])
        if walked == len(parts) - 1:
            return found
        partial.append((found, 1 + walked))
    for cut in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:cut]))
        if module is not None:
            found, walked = _deepest(module, parts[cut:])
            if walked == len(parts) - cut:
                return found
            partial.append((found, cut + walked))
    if partial:
        holder, reached = max(partial, key=lambda item: item[1])
        raise ExperimentError(_missing_attribute(name, parts, holder, reached))
    raise ExperimentError(
        f"{name!r}: no such function in the namespace or in an imported module; name it as "
        "module.function (the module imported first) or as a name defined in the notebook"
    )


def _deepest(obj: object, parts: Sequence[str]) -> tuple[object, int]:
    """The object reached by walking `parts` from `obj` as far as they go (statically),
    and how many of them were walked."""
    for walked, part in enumerate(parts):
        step = inspect.getattr_static(obj, part, _NOT_FOUND)
        if step is _NOT_FOUND:
            return obj, walked
        obj = step
    return obj, len(parts)


def _attribute_names(obj: object) -> list[str]:
    """The names `obj` holds, read without running code (its own dict, its classes')."""
    names: set[str] = set()
    try:
        own = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        own = None
    if isinstance(own, Mapping):
        names.update(str(key) for key in own)
    for klass in obj.__mro__ if isinstance(obj, type) else type(obj).__mro__:
        if klass is not object and klass is not type:
            names.update(str(key) for key in vars(klass))
    return sorted(names)


def _missing_attribute(name: str, parts: Sequence[str], holder: object, reached: int) -> str:
    """The message: what was found, the attribute it lacks, the closest names it has."""
    where = ".".join(parts[:reached])
    missing = parts[reached]
    if isinstance(holder, types.ModuleType):
        what = f"module {holder.__name__}"
    elif isinstance(holder, type):
        what = f"class {where}"
    else:
        what = f"{where} (a {type(holder).__name__})"
    close = difflib.get_close_matches(missing, _attribute_names(holder), n=3)
    hint = ", ".join(f"{where}.{c}" for c in close) if close else "none close"
    return (
        f"{name!r}: {what} is there but has no attribute {missing!r} (closest names: {hint}); "
        "check the spelling"
    )


def resolve(name: str, namespace: Mapping[str, object]) -> Target:
    """The Python function `name` names; ExperimentError when it is anything else."""
    obj = lookup(name, namespace)
    func = underlying(obj)
    if func is None:
        wrapped = getattr(obj, "__wrapped__", None)
        kind = type(obj).__name__
        if isinstance(wrapped, types.FunctionType):
            raise ExperimentError(
                f"{name!r} is already wrapped ({kind} around {wrapped.__qualname__}): "
                "name the function itself, or remove the wrapper first"
            )
        raise ExperimentError(
            f"{name!r} is a {kind}, not a Python function: only functions written in Python "
            "can be changed in place"
        )
    return Target(name, qualified_name(func), func, obj)


@dataclass(frozen=True)
class Holder:
    """One place that holds a function: a mapping's key, or a class attribute."""

    where: str
    mapping: MutableMapping[str, Any] | None = field(repr=False)
    owner: type | None
    key: str

    def get(self) -> object:
        if self.owner is not None:
            return self.owner.__dict__.get(self.key, _NOT_FOUND)
        assert self.mapping is not None
        return self.mapping.get(self.key, _NOT_FOUND)

    def set(self, value: object) -> None:
        if self.owner is not None:
            setattr(self.owner, self.key, value)  # through the type: its caches follow
        else:
            assert self.mapping is not None
            self.mapping[self.key] = value


def _defining_class(func: types.FunctionType) -> type | None:
    parts = func.__qualname__.split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return None
    module = sys.modules.get(func.__module__)
    owner = _walk(module, parts[:-1]) if module is not None else _NOT_FOUND
    return owner if isinstance(owner, type) else None


def holders(
    stored: Sequence[object], namespaces: Iterable[MutableMapping[str, Any]] = ()
) -> dict[int, list[Holder]]:
    """For each object in `stored` (by id): every module global, namespace entry and class
    attribute that holds it, found in one pass over the imported modules."""
    wanted = {id(obj): obj for obj in stored}
    found: dict[int, list[Holder]] = {key: [] for key in wanted}
    seen: set[int] = set()
    pools: list[tuple[str, MutableMapping[str, Any]]] = [
        ("the notebook's namespace", ns) for ns in namespaces
    ]
    for name, module in list(sys.modules.items()):
        if isinstance(module, types.ModuleType):
            pools.append((f"module {name}", vars(module)))
    for where, pool in pools:
        if id(pool) in seen:
            continue
        seen.add(id(pool))
        for key, value in list(pool.items()):
            if id(value) in wanted and value is wanted[id(value)]:
                found[id(value)].append(Holder(where, pool, None, key))
    for ident, obj in wanted.items():
        func = underlying(obj)
        owner = _defining_class(func) if func is not None else None
        if owner is not None and func is not None and owner.__dict__.get(func.__name__) is obj:
            found[ident].append(Holder(f"class {owner.__qualname__}", None, owner, func.__name__))
    return found


Replacement = Callable[[types.FunctionType], Callable[..., Any]]


def _stored_like(stored: object, value: Callable[..., Any]) -> object:
    if isinstance(stored, staticmethod):
        return staticmethod(value)
    if isinstance(stored, classmethod):
        return classmethod(value)
    return value


class Patch:
    """Replace functions in place for one run (a context manager), then restore them.

    `changes` pairs each target with a function making its replacement from the original
    (called on every entry, so each run starts afresh: a new cache, a new probe).
    `namespaces` are searched besides the imported modules. After entering, `replaced`
    holds what was replaced where; leaving restores every holder that still holds the
    replacement (a holder the code reassigned meanwhile is left as the code left it).
    """

    def __init__(
        self,
        changes: Sequence[tuple[Target, Replacement]],
        namespaces: Iterable[MutableMapping[str, Any]] = (),
    ) -> None:
        self.changes = list(changes)
        self.namespaces = list(namespaces)
        self.applied: list[tuple[Holder, object, object]] = []
        self.replaced: dict[str, list[str]] = {}
        self.replacements: dict[str, Callable[..., Any]] = {}

    def __enter__(self) -> Patch:
        if self.applied:
            raise ExperimentError("a Patch is entered once per run: make a new one")
        try:
            places = holders([t.stored for t, _ in self.changes], self.namespaces)
            for target, make in self.changes:
                found = places[id(target.stored)]
                if not found:
                    raise ExperimentError(
                        f"{target.asked!r}: no module or namespace holds this function any more "
                        "(was it redefined?): nothing to change"
                    )
                replacement = make(target.func)
                value = _stored_like(target.stored, replacement)
                self.replacements[target.qualname] = replacement
                for holder in found:
                    holder.set(value)
                    self.applied.append((holder, target.stored, value))
                self.replaced[target.qualname] = [f"{h.where}: {h.key}" for h in found]
        except BaseException:
            self.restore()
            raise
        return self

    def between(self) -> None:
        """Start afresh between two runs inside one entry: each replacement is made anew
        from the original (a new, empty cache) and put where the last one is."""
        made: dict[int, object] = {}
        for index, (holder, original, value) in enumerate(self.applied):
            if id(value) not in made:
                target, make = next((t, m) for t, m in self.changes if t.stored is original)
                replacement = make(target.func)
                self.replacements[target.qualname] = replacement
                made[id(value)] = _stored_like(original, replacement)
            fresh = made[id(value)]
            if holder.get() is value:
                holder.set(fresh)
                self.applied[index] = (holder, original, fresh)

    def restore(self) -> list[str]:
        """Put every original back where the replacement still is; returns the holders
        left alone because the code put something else there."""
        left: list[str] = []
        while self.applied:
            holder, original, value = self.applied.pop()
            if holder.get() is value:
                holder.set(original)
            else:
                left.append(f"{holder.where}: {holder.key}")
        return left

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()
