"""A stand-in with the replaced function's own parameters.

Code may read a function's ``__code__`` to learn its arity: arc-dsl's ``rbind`` and
``lbind`` pick a lambda by ``function.__code__.co_argcount``. A stand-in that takes
``(*args, **kwargs)`` (a probe) has an arity of 0, and ``functools.lru_cache`` has no
``__code__`` at all, so that code takes another branch or raises: the pass or the change
would measure a different program. :func:`same_signature` gives the stand-in the original's
parameters, names, kinds and defaults, and passes every argument on unchanged.
"""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

_CALL = "__workbench_call"


def same_signature(func: types.FunctionType, call: Callable[..., Any]) -> types.FunctionType:
    """A Python function with `func`'s parameters that returns ``call(...)`` with the same
    arguments; it carries `func`'s name, qualified name, module, docstring and attributes,
    and ``__wrapped__`` is `func`."""
    code = func.__code__
    names = code.co_varnames
    npos, nposonly, nkw = code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount
    params: list[str] = []
    passed: list[str] = []
    for i, name in enumerate(names[:npos]):
        params.append(name)
        passed.append(name)
        if i + 1 == nposonly:
            params.append("/")
    at = npos + nkw
    if code.co_flags & inspect.CO_VARARGS:
        params.append(f"*{names[at]}")
        passed.append(f"*{names[at]}")
        at += 1
    elif nkw:
        params.append("*")
    for name in names[npos : npos + nkw]:
        params.append(name)
        passed.append(f"{name}={name}")
    if code.co_flags & inspect.CO_VARKEYWORDS:
        params.append(f"**{names[at]}")
        passed.append(f"**{names[at]}")
    source = f"def stand_in({', '.join(params)}):\n    return {_CALL}({', '.join(passed)})\n"
    scope: dict[str, Any] = {_CALL: call, "__builtins__": {}}
    exec(compile(source, f"<workbench stand-in for {func.__qualname__}>", "exec"), scope)
    shim: types.FunctionType = scope["stand_in"]
    shim.__defaults__ = func.__defaults__
    shim.__kwdefaults__ = func.__kwdefaults__
    functools.update_wrapper(shim, func)
    return shim
