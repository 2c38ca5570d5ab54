"""Fuzz and fault suite: .prof files, run-store rows and files, rules files and the stored
outputs format, generated at random. Each ends in a result or one WorkbenchError that names
the problem: no other exception from inside the workbench, no file left behind or changed
by a refused read, the profiler off afterwards.

The examples are fixed (derandomized) so the test command is repeatable and stays under a
minute on the 2-core machine; ``WORKBENCH_FUZZ=explore`` draws fresh, many more.
"""

from __future__ import annotations

import marshal
import math
import os
import sqlite3
import string
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.extra import pandas as hpd

import workbench
from workbench import machine
from workbench.errors import ConfigError, ExperimentError, ProfileError, StoreError
from workbench.experiment.outputs import Tolerance, first_difference
from workbench.experiment.stored_outputs import decode, encode
from workbench.profiling.categories import parse_rule
from workbench.profiling.config import rules_from_file
from workbench.profiling.export import load_pstats
from workbench.store.db import RunStore
from workbench.store.records import ExperimentRow

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    database=None,
    deadline=None,
    max_examples=2_000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("WORKBENCH_FUZZ", "ci"))


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder per example; nothing may be left in it but what the test wrote."""
    with tempfile.TemporaryDirectory(prefix="wb-fuzz-") as folder:
        yield Path(folder)
    assert sys.getprofile() is None


# --- .prof files -----------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from([10**400, -0.0]),
)
func_keys = st.one_of(
    st.tuples(st.text(max_size=8), st.integers(-5, 10**6), st.text(max_size=8)),
    st.tuples(st.text(max_size=4), st.text(max_size=4), st.text(max_size=4)),
    st.integers(),
    st.text(max_size=4),
)
edges = st.one_of(numbers, st.tuples(numbers, numbers, numbers, numbers), st.text(max_size=3))
entries = st.one_of(
    st.tuples(numbers, numbers, numbers, numbers, st.dictionaries(func_keys, edges, max_size=3)),
    st.tuples(numbers, numbers),
    st.lists(numbers, max_size=5),
    st.none(),
)
pstats_like = st.one_of(
    st.dictionaries(func_keys, entries, max_size=5),
    st.lists(numbers, max_size=4),
    st.text(max_size=10),
)


@given(data=pstats_like, cut=st.integers(0, 400), noise=st.binary(max_size=64))
def test_fuzzed_prof_files_load_or_give_one_profile_error(
    data: Any, cut: int, noise: bytes
) -> None:
    with scratch() as folder:
        for blob in (marshal.dumps(data), marshal.dumps(data)[:cut], noise):
            path = folder / "fuzz.prof"
            path.write_bytes(blob)
            try:
                stats = load_pstats(path)
            except ProfileError as exc:
                assert str(path) in str(exc) and "re-create the profile" in str(exc)
                continue
            for pc, nc, tt, ct, callers in stats.values():
                assert min(pc, nc) >= 0 and math.isfinite(tt) and math.isfinite(ct)
                assert all(math.isfinite(edge[2]) and edge[2] >= 0 for edge in callers.values())
            assert path.read_bytes() == blob


# --- run-store rows and files ----------------------------------------------------------------

COLUMNS = {
    "runs": ["kind", "name", "label", "code", "versions", "profiled_s", "calls", "complete",
             "overhead", "rules", "top_n", "findings", "error"],
    "run_tables": ["data", "name"],
    "baselines": ["code", "checks", "outputs", "fingerprints", "run_id"],
    "experiments": ["detail", "verdict", "speedup", "rounds"],
}  # fmt: skip
sql_values = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.binary(max_size=60),
    st.sampled_from(["{}", "[]", "[1]", '{"a": [1, {"b": null}]}', "nan", "[" * 3000]),
)


def seeded_store(folder: Path) -> Path:
    path = folder / "runs.sqlite"
    report = workbench.profile("sum(range(50))\n", {}, call_cost_s=1e-7)
    env = machine.current_environment(device="fuzz")
    with RunStore(path) as store:
        run_id = store.add_run(report, env=env, code="x = 1")
        with store.write() as writer:
            writer.set_baseline("base", run_id, "x = 1", ["x"], None, {"f": "abc"})
            writer.add_experiment(
                ExperimentRow(
                    "c",
                    "base",
                    run_id,
                    run_id,
                    "keep",
                    "r",
                    1.1,
                    1.0,
                    1.2,
                    0.99,
                    0.2,
                    0.1,
                    4,
                    "equal",
                )
            )
    return path


def read_everything(path: Path) -> None:
    with RunStore(path) as store:
        store.runs()
        for run_id in store.runs()["id"]:
            store.get_run(int(run_id))
        store.baseline()
        store.experiments()
        store.phase_events("default")


class Template:
    """A seeded store's bytes (wrapped, so a failing example does not print them all)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"<store template of {len(self.data)} bytes>"


@pytest.fixture(scope="module")
def store_template() -> Iterator[Template]:
    with scratch() as folder:
        yield Template(seeded_store(folder).read_bytes())


@given(
    table=st.sampled_from(sorted(COLUMNS)),
    column_index=st.integers(0, 12),
    value=sql_values,
)
def test_fuzzed_store_rows_read_or_give_one_store_error(
    store_template: Template, table: str, column_index: int, value: object
) -> None:
    column = COLUMNS[table][column_index % len(COLUMNS[table])]
    with scratch() as folder:
        path = folder / "runs.sqlite"
        path.write_bytes(store_template.data)
        conn = sqlite3.connect(path)
        try:
            with conn:
                conn.execute(f"UPDATE {table} SET {column} = ?", (value,))
        except sqlite3.IntegrityError:
            return  # SQL cannot write this value (NOT NULL); a crafted page could, below
        finally:
            conn.close()
        try:
            read_everything(path)
        except StoreError as exc:
            assert str(path) in str(exc)


@given(
    kind=st.sampled_from(["noise", "cut", "flip"]),
    noise=st.binary(max_size=300),
    where=st.integers(0, 10**6),
    bits=st.integers(1, 255),
)
def test_fuzzed_store_files_are_read_or_refused_untouched(
    store_template: Template, kind: str, noise: bytes, where: int, bits: int
) -> None:
    template = store_template.data
    if kind == "noise":
        blob = noise
    elif kind == "cut":
        blob = template[: where % len(template)]
    else:
        damaged = bytearray(template)
        damaged[where % len(damaged)] ^= bits
        blob = bytes(damaged)
    with scratch() as folder:
        path = folder / "runs.sqlite"
        path.write_bytes(blob)
        try:
            read_everything(path)
        except StoreError as exc:
            assert str(path) in str(exc)
            if blob and blob[:16] != b"SQLite format 3\x00":
                assert path.read_bytes() == blob  # refused before SQLite could touch it
        leftovers = {p.name for p in folder.iterdir()} - {"runs.sqlite"}
        assert not leftovers, leftovers


# --- rules files -----------------------------------------------------------------------------

toml_keys = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=8)
toml_scalars = st.one_of(
    st.text(string.printable, max_size=12),
    st.integers(-1000, 1000),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(toml_keys, inner, max_size=3),
    max_leaves=6,
)
patterns = st.sampled_from(
    ["*/dsl.py", "numpy", "func:^solve", "func:(", "module:a.b", "", "x y", "*.py", "func:a"]
)


def toml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {toml_text(v)}' for k, v in value.items()) + "}"
    return repr(value)


@given(
    categories=st.dictionaries(
        toml_keys, st.one_of(patterns, st.lists(patterns, max_size=3), toml_values), max_size=4
    ),
    table=st.sampled_from(["categories", "tool.workbench.categories", "other"]),
    garbage=st.text(max_size=40),
)
def test_fuzzed_rules_files_give_rules_or_one_config_error(
    categories: dict[str, Any], table: str, garbage: str
) -> None:
    body = "\n".join(f'"{k}" = {toml_text(v)}' for k, v in categories.items())
    with scratch() as folder:
        for text in (f"[{table}]\n{body}\n", f"[{table}]\n{body}\n{garbage}\n", garbage):
            path = folder / "rules.toml"
            path.write_text(text, encoding="utf-8")
            try:
                rules = rules_from_file(path)
            except ConfigError as exc:
                assert "rules" in str(exc) or "categor" in str(exc), exc
                continue
            assert all(rule.label and rule.pattern for rule in rules)


@pytest.mark.parametrize("text", ["DSL=func:", "DSL=path:", "DSL=module:", "DSL=re:"])
def test_a_kind_prefix_without_a_pattern_is_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_rule(text)


@given(st.text(max_size=40))
def test_fuzzed_rule_text_gives_a_rule_or_one_config_error(text: str) -> None:
    try:
        rule = parse_rule(text)
    except ConfigError:
        return
    assert rule.label and rule.pattern


# --- the stored outputs format ---------------------------------------------------------------

plain_keys = st.one_of(
    st.integers(), st.text(max_size=5), st.tuples(st.integers(), st.text(max_size=3))
)
arrays = hnp.arrays(
    dtype=st.one_of(hnp.integer_dtypes(), hnp.floating_dtypes(), hnp.complex_number_dtypes(),
                    hnp.boolean_dtypes(), hnp.datetime64_dtypes(), hnp.byte_string_dtypes()),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
)  # fmt: skip
values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), st.complex_numbers(),
        st.text(max_size=20), st.binary(max_size=20), arrays,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(plain_keys, inner, max_size=4),
        st.frozensets(st.one_of(st.integers(), st.text(max_size=4)), max_size=4),
    ),
    max_leaves=12,
)  # fmt: skip


frames = hpd.data_frames(
    columns=[
        hpd.column("f", dtype=float),
        hpd.column("i", dtype=np.int32),
        hpd.column("s", elements=st.text(max_size=5)),
        hpd.column("o", elements=st.one_of(st.none(), st.integers(), st.text(max_size=3))),
    ],
    index=st.one_of(hpd.range_indexes(max_size=5), hpd.indexes(dtype=int, max_size=5)),
)


@given(frame=frames, budget=st.sampled_from([None, 0]))
def test_fuzzed_frames_round_trip_or_match_their_fingerprints(
    frame: Any, budget: int | None
) -> None:
    back = decode(encode({"result": frame}, max_bytes=budget))
    assert first_difference({"result": frame}, back, Tolerance(rtol=0.0)) is None


@given(value=values, budget=st.sampled_from([None, 1 << 20, 64, 0]))
def test_fuzzed_outputs_round_trip_or_match_their_fingerprints(
    value: Any, budget: int | None
) -> None:
    back = decode(encode({"result": value}, max_bytes=budget))
    assert first_difference({"result": value}, back, Tolerance(rtol=0.0)) is None
    assert first_difference(back, {"result": value}, Tolerance(rtol=0.0)) is None


@given(
    value=values, where=st.integers(0, 10**6), bits=st.integers(1, 255), cut=st.integers(0, 10**6)
)
def test_fuzzed_output_blobs_decode_or_give_one_experiment_error(
    value: Any, where: int, bits: int, cut: int
) -> None:
    blob = bytearray(encode({"result": value, "n": np.arange(3)}))
    blob[where % len(blob)] ^= bits
    for damaged in (bytes(blob), bytes(blob[: cut % len(blob)])):
        try:
            decoded = decode(damaged)
        except ExperimentError as exc:
            assert "outputs" in str(exc)
            continue
        assert isinstance(decoded, dict)


def test_a_rules_file_whose_tool_is_not_a_table_is_one_config_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("tool = 5\n")
    with pytest.raises(ConfigError):
        rules_from_file(path)
