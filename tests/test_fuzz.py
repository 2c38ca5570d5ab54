"""Fuzz and fault suite: .prof files, run-store rows and files, rules files, the stored
outputs format, magic lines (through a real IPython shell), [tool.workbench] tables and
machine profiles, generated at random. Each ends in a result or one WorkbenchError that names
the problem: no other exception from inside the workbench, no file left behind or changed
by a refused read, the profiler off afterwards.

The examples are fixed (derandomized) so the test command is repeatable and stays under a
minute on the 2-core machine; ``WORKBENCH_FUZZ=explore`` draws fresh, many more.
"""

from __future__ import annotations

import json
import marshal
import math
import os
import sqlite3
import string
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.extra import pandas as hpd
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import workbench
from workbench import machine
from workbench.errors import ConfigError, ExperimentError, ProfileError, RouteError, StoreError
from workbench.experiment.outputs import Tolerance, first_difference
from workbench.experiment.stored_outputs import decode, encode
from workbench.profiling.categories import parse_rule
from workbench.profiling.config import rules_from_file
from workbench.profiling.export import load_pstats
from workbench.profiling.options import Options
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


# --- magic lines, through a real IPython shell ------------------------------------------------

words = st.text(string.ascii_letters + string.digits + "_-.:=*/'\" ", min_size=0, max_size=10)
quoted = st.one_of(
    words,
    words.map(lambda w: f"'{w}'"),
    words.map(lambda w: f'"{w}"'),
    st.sampled_from(["''", '""', "'open", "a\\b", "'-x'", "-x", "--", "#", "é"]),
)
numbers_text = st.sampled_from(["0", "1", "-1", "0.05", "inf", "nan", "'-inf'", "1e400", "x", "3"])
FLAGS = ["-q", "--tree", "--overhead", "--gpu", "--no-pyproject", "--no-store", "--redact",
         "--runs", "--workflow", "--trust-baseline", "--keep-outputs"]  # fmt: skip
VALUED = {
    "-c": quoted, "--rules": quoted, "-f": quoted, "-l": quoted, "--title": quoted,
    "--baseline": quoted, "--candidate": quoted, "--against": quoted, "--check": quoted,
    "--note": quoted, "--resolve": st.sampled_from(["Validate", "Profile", "Bogus", "''"]),
    "--depth": st.sampled_from(["fast", "balanced", "aggressive", "'fast'", "deep"]),
    "--mode": st.sampled_from(["cprofile", "sample", "pyinstrument", "'sample'", "x"]),
    "--chart": st.sampled_from(["mime", "inline", "none", "cdn", "pie"]),
    "--top": numbers_text, "--lines": numbers_text, "--budget": numbers_text,
    "--rtol": numbers_text, "--atol": numbers_text, "--target": numbers_text,
    "--store": st.sampled_from(["runs.sqlite", "'my runs.sqlite'", "sub/r.sqlite", ".", "''",
                                "/dev/null", "notes.txt"]),
    "--save": st.sampled_from(["out", "'out dir'", "notes.txt", "''", "."]),
    "--postmortem": st.sampled_from(["pm.md", "''", ".", "sub/pm.md", "notes.txt/x.md"]),
    "-o": st.sampled_from(["r", "'r'", "1x", "''"]),
    "--compare": st.sampled_from(["1 2", "-1 -2", "a", "'-1' '1'"]),
}  # fmt: skip
valued = st.sampled_from(sorted(VALUED)).flatmap(
    lambda flag: VALUED[flag].map(lambda v: f"{flag} {v}")
)
# Mostly options; now and then a bare word, which starts the statement (line form).
fragments = st.one_of(
    st.sampled_from(FLAGS), valued, valued, valued, st.sampled_from(FLAGS), quoted
)
CODES = ["x = sum(range(50))\n", "x = sum(range(50))\nx\n", "raise ValueError('mine')\n", ""]


@pytest.fixture(scope="module")
def fuzz_shell() -> Iterator[tuple[InteractiveShell, Path]]:
    with tempfile.TemporaryDirectory(prefix="wb-fuzz-shell-") as home:
        before = os.getcwd()
        os.chdir(home)
        InteractiveShell.clear_instance()
        shell = InteractiveShell.instance()
        try:
            shell.run_line_magic("load_ext", "workbench")
            yield shell, Path(home)
        finally:
            shell.run_line_magic("unload_ext", "workbench")
            InteractiveShell.clear_instance()
            os.chdir(before)


def magic_session(shell: InteractiveShell) -> Any:
    return shell.magics_manager.registry["OptimizeMagics"].session


def leftovers(folder: Path) -> list[str]:
    """Temporary files of an atomic write or a store that were not cleaned up."""
    return [str(p) for p in folder.rglob("*") if p.name.endswith(".tmp") or "-journal" in p.name]


def from_the_users_code(error: BaseException) -> bool:
    """The user's own code raised it (its last frame is the cell's), or it does not parse."""
    if isinstance(error, SyntaxError):
        return "ipython-input" in str(error.filename)
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and "ipython-input" in frames[-1].filename


@settings(max_examples=300 if os.environ.get("WORKBENCH_FUZZ", "ci") == "ci" else 2_000)
@given(parts=st.lists(fragments, max_size=6), code=st.sampled_from(CODES), cell=st.booleans())
def test_fuzzed_magic_lines_end_in_a_result_or_one_usage_error(
    fuzz_shell: tuple[InteractiveShell, Path], parts: list[str], code: str, cell: bool
) -> None:
    shell, home = fuzz_shell
    if any(p.startswith("--candidate") for p in parts):
        parts = [p for p in parts if not p.startswith("--budget")] + ["--budget 0.05"]
    line = " ".join(parts)
    source = f"%%optimize {line}\n{code}" if cell else f"%optimize {line} {code.strip()}"
    with tempfile.TemporaryDirectory(prefix="wb-fuzz-cwd-", dir=home) as folder:
        os.chdir(folder)
        (Path(folder) / "notes.txt").write_text("mine")
        try:
            with capture_output() as cap:
                result = shell.run_cell(source)
        finally:
            os.chdir(home)
            session = magic_session(shell)
            session.close()
            session.store_path = None  # `--store PATH` alone switched it: back to the default
        assert sys.getprofile() is None, source
        error = result.error_before_exec or result.error_in_exec
        event(f"magic line: {type(error).__name__ if error else 'result'}")
        if error is not None:
            ours = type(error).__name__ == "UsageError" and str(error).strip()
            assert ours or from_the_users_code(error), (source, repr(error))
            if ours:
                assert "Traceback" not in cap.stdout + cap.stderr, (source, cap.stderr)
        assert (Path(folder) / "notes.txt").read_text() == "mine", source
        assert not leftovers(Path(folder)) and not leftovers(home), source


# --- [tool.workbench] tables ----------------------------------------------------------------

KNOWN = ["depth", "mode", "top", "lines", "overhead", "gpu", "tree", "snakeviz", "chart",
         "functions", "interval", "save", "rules", "store", "categories"]  # fmt: skip
good_values = {
    "depth": st.sampled_from(["fast", "balanced", "aggressive"]),
    "mode": st.sampled_from(["cprofile", "sample"]),
    "top": st.integers(0, 20), "lines": st.integers(0, 3), "overhead": st.booleans(),
    "gpu": st.booleans(), "tree": st.booleans(), "chart": st.sampled_from(["mime", "none"]),
    "functions": st.lists(st.sampled_from(["helper", "mod.func"]), max_size=2),
    "interval": st.sampled_from([0.001, 0.01, 1]), "save": st.sampled_from(["out"]),
}  # fmt: skip
good_entries = st.sampled_from(sorted(good_values)).flatmap(
    lambda k: good_values[k].map(lambda v: (k, v))
)
bad_entries = st.one_of(
    st.tuples(st.sampled_from(KNOWN), toml_values), st.tuples(toml_keys, toml_values)
)


@given(
    good=st.lists(good_entries, max_size=5, unique_by=lambda kv: kv[0]),
    bad=st.lists(bad_entries, max_size=1),
    wrapper=st.sampled_from(["table", "table", "table", "tool5", "workbench5", "garbage"]),
)
def test_fuzzed_pyproject_tables_give_options_that_run_or_one_config_error(
    good: list[tuple[str, Any]], bad: list[tuple[str, Any]], wrapper: str
) -> None:
    entries = dict(good + bad)
    body = "\n".join(f'"{k}" = {toml_text(v)}' for k, v in entries.items())
    text = {
        "table": f"[tool.workbench]\n{body}\n",
        "tool5": "tool = 5\n",
        "workbench5": "[tool]\nworkbench = 5\n",
        "garbage": f"[tool.workbench\n{body}",
    }[wrapper]
    with scratch() as folder:
        (folder / "pyproject.toml").write_text(text, encoding="utf-8")
        before = os.getcwd()
        os.chdir(folder)
        try:
            try:
                options = Options.build({}, project_dir=folder)
            except ConfigError as exc:
                event("pyproject: ConfigError")
                assert "pyproject.toml" in str(exc), exc
                return
            event("pyproject: options")
            assert isinstance(options.functions, tuple) and isinstance(options.top, int)
            assert options.save is None or isinstance(options.save, str)
            report = workbench.profile(
                "x = sum(range(20))", project_dir=folder, call_cost_s=1e-7, on_error="return"
            )
            assert report.complete, report.error
        finally:
            os.chdir(before)
        assert not leftovers(folder)


# --- machine profiles (route/machine_profile.py's public loader) -----------------------------

json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=6),
        st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0, 0.0, -1.0, 10**400]),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=5,
)  # fmt: skip
PROFILE_PATHS = [
    ("name",), ("schema",), ("thresholds",), ("thresholds", "low"), ("thresholds", "low", "simd_above"),
    ("kernels",), ("kernels", "numpy"), ("kernels", "numpy", "reduce"),
    ("kernels", "numpy", "reduce", "call_s"), ("conversion",), ("conversion", "tolist_s"),
    ("transfer",), ("transfer", "h2d_bytes_per_s"), ("transfer", "latency_s"), ("provenance",),
    ("key",), ("calibrated",), ("calibration",), ("pcie_factor",), ("gpu_threshold",),
]  # fmt: skip


def seed_dict() -> dict[str, Any]:
    from workbench.route.machine_profile import seed_profile

    return seed_profile().to_dict()  # type: ignore[no-any-return]


def replaced(data: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    out = json.loads(json.dumps(data))
    where = out
    for key in path[:-1]:
        if not isinstance(where.get(key), dict):
            where[key] = {}
        where = where[key]
    where[path[-1]] = value
    return out  # type: ignore[no-any-return]


@given(
    text=st.one_of(
        st.text(max_size=40),
        st.sampled_from(["[]", "1", "null", '"seed"', "{", '{"name": 1}', "{}"]),
        json_values.map(json.dumps),
    ),
    cut=st.integers(0, 10**5),
)
def test_fuzzed_machine_profile_files_load_or_give_one_route_error(text: str, cut: int) -> None:
    from workbench.route.machine_profile import load_machine_profile

    with scratch() as folder:
        valid = json.dumps(seed_dict())
        for body in (text, valid[: cut % len(valid)]):
            path = folder / "profile.json"
            path.write_bytes(body.encode("utf-8", "surrogatepass"))
            try:
                load_machine_profile(str(path))
            except RouteError as exc:
                assert str(path) in str(exc) or "machine profile" in str(exc), exc
            assert path.read_bytes() == body.encode("utf-8", "surrogatepass")


@given(noise=st.binary(min_size=1, max_size=40).filter(lambda b: not b.isascii()))
def test_fuzzed_machine_profile_bytes_that_are_not_utf8_give_one_route_error(noise: bytes) -> None:
    from workbench.route.machine_profile import load_machine_profile

    with scratch() as folder:
        path = folder / "profile.json"
        path.write_bytes(noise)
        with suppress(RouteError):
            load_machine_profile(str(path))
        assert path.read_bytes() == noise


@given(path=st.sampled_from(PROFILE_PATHS), value=json_values)
def test_fuzzed_machine_profile_values_are_used_or_refused(
    path: tuple[str, ...], value: object
) -> None:
    import numpy as np

    from workbench.route.machine_profile import MachineProfile
    from workbench.route.router import Router

    try:
        profile = MachineProfile.from_dict(replaced(seed_dict(), path, value))
    except RouteError:
        return
    costs = [
        c
        for kinds in profile.kernels.values()
        for k in kinds.values()
        for c in (k.call_s, k.per_unit_s)
    ]
    if profile.transfer is not None:
        t = profile.transfer
        costs += [t.latency_s, 1 / t.h2d_bytes_per_s, 1 / t.d2h_bytes_per_s]
    assert all(isinstance(c, float) and math.isfinite(c) and c >= 0 for c in costs), costs
    assert all(isinstance(v, str) for v in (*profile.provenance.values(), *profile.key.values()))
    router = Router(profile)
    for op, args in (("sum", (np.ones(1000),)), ("add", ([1.0] * 10, [2.0] * 10))):
        router.decide(op, *args)
        router.explain(op, *args)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("transfer", "h2d_bytes_per_s"), 0.0),
        (("provenance",), [1]),
        (("key",), "x"),
        (("kernels", "numpy", "reduce", "call_s"), float("nan")),
        (("kernels", "numpy", "reduce", "call_s"), -1.0),
        (("kernels", "numpy", "reduce", "per_unit_s"), "fast"),
        (("conversion", "tolist_s"), 10**400),
    ],
    ids=[
        "zero-bandwidth",
        "provenance-list",
        "key-string",
        "nan-cost",
        "negative-cost",
        "string-cost",
        "huge-cost",
    ],
)
def test_the_issues_machine_profile_values_are_one_route_error(
    path: tuple[str, ...], value: object
) -> None:
    from workbench.route.machine_profile import MachineProfile

    with pytest.raises(RouteError):
        MachineProfile.from_dict(replaced(seed_dict(), path, value))
