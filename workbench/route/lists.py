"""Which idiomatic pure-Python kernel a plan on lists runs, chosen once per plan.

A plan is made for a call signature (each operand's rank and tag: for lists, the
container and the first element's type) and a size bucket, so the kernel is picked
from types read once, never by scanning every element on every call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.route import idioms
from workbench.route import shapes as sh
from workbench.route.operands import Desc, ListTag
from workbench.route.ops import OpSpec

_KINDS = (float, int, bool)


def container_of(desc: Sequence[Desc]) -> type:
    """tuple when every list operand is a tuple (results come back as tuples), else list."""
    containers = {tag.container for _, tag in desc if isinstance(tag, ListTag)}
    return tuple if containers == {tuple} else list


def idiom_for(spec: OpSpec, desc: Sequence[Desc], params: sh.Params, like: type) -> Any:
    """The idiomatic kernel for this plan, or None (the general kernels run)."""
    if any(value is not None for name, value in params.items() if name in ("axis", "axes")):
        return None
    if spec.name in ("reshape", "tensordot", "einsum", "convolve"):
        return None
    kinds: list[type] = []
    ranks: list[int] = []
    for shape, tag in desc:
        if isinstance(tag, ListTag):
            if tag.leaf not in _KINDS or not shape or 0 in shape:
                return None
            kinds.append(tag.leaf)
        elif isinstance(tag, type) and tag in (int, float):
            kinds.append(tag)
        else:
            return None
        ranks.append(len(shape))
    return idioms.kernel_for(spec.name, tuple(kinds), tuple(ranks), like)
