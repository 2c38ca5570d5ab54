"""Changes applied in place (experiment/patch.py, experiment/changes.py): every holder
replaced, every holder restored, whatever the code did; bad names refused before anything
runs."""

from __future__ import annotations

import functools
import sys
import types

import pytest
import whatif_workloads as w

from workbench.errors import ExperimentError
from workbench.experiment.changes import parse_spec, plan_change
from workbench.experiment.patch import Patch, holders, lookup, resolve


def _alias_module() -> types.ModuleType:
    """A second module holding the same function under another name."""
    alias = types.ModuleType("whatif_alias")
    alias.square = w.slow_square  # type: ignore[attr-defined]
    sys.modules["whatif_alias"] = alias
    return alias


def test_a_patch_replaces_every_holder_and_restores_them() -> None:
    alias = _alias_module()
    namespace: dict[str, object] = {"sq": w.slow_square}
    target = resolve("whatif_workloads.slow_square", namespace)
    try:
        with Patch([(target, functools.lru_cache(maxsize=None))], [namespace]) as patch:
            cached = w.slow_square
            assert isinstance(cached, functools._lru_cache_wrapper)
            assert alias.square is cached and namespace["sq"] is cached
            assert w.squares([3, 3, 3]) == 3 * w.slow_square.__wrapped__(3)  # type: ignore[attr-defined]
            assert cached.cache_info().hits == 2
            assert len(patch.replaced["whatif_workloads.slow_square"]) == 3
        assert w.slow_square is target.func and alias.square is target.func
        assert namespace["sq"] is target.func
    finally:
        del sys.modules["whatif_alias"]


@pytest.mark.parametrize("error", [ValueError("cell"), KeyboardInterrupt()])
def test_the_originals_come_back_when_the_code_raises_or_is_interrupted(
    error: BaseException,
) -> None:
    target = resolve("whatif_workloads.slow_square", {})
    with (
        pytest.raises(type(error)),
        Patch([(target, functools.lru_cache(maxsize=None))]),
    ):
        assert w.slow_square is not target.func
        raise error
    assert w.slow_square is target.func


def test_methods_and_static_methods_are_patched_on_their_class() -> None:
    method = resolve("whatif_workloads.Box.times", {})
    static = resolve("whatif_workloads.Box.double", {})
    assert isinstance(static.stored, staticmethod)
    seen: list[str] = []

    def tracing(func: types.FunctionType) -> object:
        def traced(*args: object) -> object:
            seen.append(func.__name__)
            return func(*args)

        return traced

    with Patch([(method, tracing), (static, tracing)]):
        assert w.Box(3).times(2) == 6 and w.Box.double(4) == 8
    assert seen == ["times", "double"]
    assert w.Box.__dict__["times"] is method.func and w.Box.__dict__["double"] is static.stored


def test_a_holder_the_code_rebinds_is_left_as_the_code_left_it() -> None:
    namespace: dict[str, object] = {}
    exec("def f(n):\n    return n\n", namespace)
    target = resolve("f", namespace)
    patch = Patch([(target, functools.lru_cache(maxsize=None))], [namespace])
    with patch:
        namespace["f"] = "rebound by the cell"
        left = patch.restore()
    assert left == ["the notebook's namespace: f"]
    assert namespace["f"] == "rebound by the cell"


def test_between_makes_a_fresh_replacement_for_the_next_run() -> None:
    target = resolve("whatif_workloads.slow_square", {})
    with Patch([(target, functools.lru_cache(maxsize=None))]) as patch:
        w.slow_square(5)
        w.slow_square(5)
        first = w.slow_square
        assert first.cache_info().hits == 1  # type: ignore[attr-defined]
        patch.between()
        assert w.slow_square is not first
        assert w.slow_square.cache_info().currsize == 0  # type: ignore[attr-defined]
    assert w.slow_square is target.func


def test_holders_are_found_in_one_pass_over_the_modules() -> None:
    found = holders([w.slow_square, w._leaf], [])
    assert [h.key for h in found[id(w.slow_square)]] == ["slow_square"]
    assert [h.where for h in found[id(w._leaf)]] == ["module whatif_workloads"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("whatif_workloads.nothere", "module whatif_workloads is there but has no attribute"),
        ("len", "no such function"),
        ("whatif_workloads.SEEN", "is a list, not a Python function"),
        ("not a name", "is not a function name"),
        ("sys.getsizeof", "not a Python function"),
    ],
)
def test_names_that_are_not_python_functions_are_refused(name: str, message: str) -> None:
    with pytest.raises(ExperimentError, match=message):
        resolve(name, {})


@pytest.mark.parametrize(
    ("name", "namespace", "message"),
    [
        (
            "whatif_workloads.slow_sqare",
            {},
            "'whatif_workloads.slow_sqare': module whatif_workloads is there but has no "
            "attribute 'slow_sqare' (closest names: whatif_workloads.slow_square",
        ),
        (
            "ww.sqares",
            {"ww": w},
            "'ww.sqares': module whatif_workloads is there but has no attribute 'sqares' "
            "(closest names: ww.squares",
        ),
        (
            "whatif_workloads.Box.tims",
            {},
            "class whatif_workloads.Box is there but has no attribute 'tims' "
            "(closest names: whatif_workloads.Box.times",
        ),
        (
            "whatif_workloads.zzzzqqq",
            {},
            "has no attribute 'zzzzqqq' (closest names: none close)",
        ),
    ],
)
def test_a_missing_attribute_names_what_was_found_and_the_closest_names(
    name: str, namespace: dict[str, object], message: str
) -> None:
    with pytest.raises(ExperimentError) as caught:
        resolve(name, namespace)
    assert message in str(caught.value)
    assert "no such function" not in str(caught.value)


def test_a_wrapped_function_is_refused_with_the_name_of_what_it_wraps() -> None:
    namespace = {"cached": functools.lru_cache(maxsize=None)(w.slow_square)}
    with pytest.raises(ExperimentError, match="already wrapped"):
        resolve("cached", namespace)


def test_lookup_reads_without_running_code() -> None:
    class Loud:
        @property
        def prop(self) -> int:
            raise AssertionError("a property ran")

    namespace = {"loud": Loud()}
    with pytest.raises(ExperimentError):
        resolve("loud.prop", namespace)
    assert lookup("whatif_workloads.Box.times", {}) is w.Box.__dict__["times"]


def test_try_specs_are_checked_before_anything_runs() -> None:
    assert parse_spec(" memoize:whatif_workloads.slow_square ") == (
        "memoize",
        "whatif_workloads.slow_square",
    )
    with pytest.raises(ExperimentError, match="needs CHANGE:FUNCTION"):
        parse_spec("slow_square")
    with pytest.raises(ExperimentError, match="unknown change 'cache'"):
        parse_spec("cache:slow_square")
    for kind in ("batch", "exceptions", "offload"):
        with pytest.raises(ExperimentError, match="cannot be applied mechanically"):
            plan_change(f"{kind}:whatif_workloads.slow_square", {})
    with pytest.raises(ExperimentError, match="generator"):
        plan_change("memoize:whatif_workloads.numbers", {})
    with pytest.raises(ExperimentError, match="does more than pass its arguments on"):
        plan_change("inline:whatif_workloads.swapped", {})
    assert w.slow_square.__module__ == "whatif_workloads"  # nothing was patched


def test_inline_replaces_a_forwarder_by_what_it_calls() -> None:
    change = plan_change("inline:whatif_workloads.leaf_wrapper", {})
    assert change.spec == "inline:whatif_workloads.leaf_wrapper"
    with change.patch([])():
        assert w.leaf_wrapper is w._leaf
        assert w.sum_leaves(4) == 10
    assert w.leaf_wrapper is not w._leaf
    star = plan_change("inline:whatif_workloads.star_wrapper", {})
    with star.patch([])():
        assert w.star_wrapper is w._leaf
