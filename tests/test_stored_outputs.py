"""Outputs kept for the correctness check are stored in a form that cannot run code: exact
for plain data, arrays and frames, stored objects for dataclasses, fingerprints for the rest
and for what is over the size budget; a pickle from a store is refused, never loaded."""

from __future__ import annotations

import dataclasses
import os
import pickle
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench.errors import ExperimentError
from workbench.experiment.outputs import Frozen, Tolerance, first_difference, freeze, thaw
from workbench.experiment.stored_outputs import (
    MAGIC,
    Fingerprint,
    StoredObject,
    decode,
    encode,
    fingerprint,
)

TOL = Tolerance()


@dataclasses.dataclass
class Point:
    x: float
    y: list[int]
    stamp: float = dataclasses.field(default=0.0, compare=False)


class Opaque:
    """Defines its own equality, so only a fingerprint of it can be stored."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.value == self.value

    __hash__ = None  # type: ignore[assignment]


class Plain:
    def __init__(self) -> None:
        self.items = [1, 2.5, "three"]


class Marker:
    """Unpickling this touches a file: the proof that a pickle ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def round_trip(value: object) -> object:
    return decode(encode({"result": value}))["result"]


EXACT: list[object] = [
    None, True, 0, -(10**40), 1.5, float("nan"), float("inf"), -0.0, 2 + 3j, "text \ud800",
    b"\x00\xff", bytearray(b"ab"), [1, [2, (3, "x")]], (1,), {1, "a", (2, 3)}, frozenset({1.5}),
    {"a": 1, 2: [None], (1, "k"): {"nested": b"x"}},
    np.arange(12, dtype=np.int8).reshape(3, 4), np.linspace(0, 1, 7, dtype=np.float32),
    np.array([1 + 2j]), np.array([True, False]), np.array(["ab", "c"]),
    np.array(["2024-01-01", "NaT"], dtype="datetime64[ns]"), np.zeros((0, 3)),
    np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
    np.float64(0.1), np.int32(7), np.bool_(True),
    np.array([1, "two", None, [3]], dtype=object),
]  # fmt: skip


@pytest.mark.parametrize("value", EXACT, ids=lambda v: type(v).__name__)
def test_plain_data_and_arrays_round_trip_exactly(value: object) -> None:
    back = round_trip(value)
    assert type(back) is type(value)
    assert first_difference({"r": value}, {"r": back}, TOL) is None
    if isinstance(value, np.ndarray | np.generic):
        assert back.dtype == value.dtype  # type: ignore[attr-defined]
        assert np.shape(back) == np.shape(value)


def test_frames_series_and_indexes_round_trip_with_their_dtypes() -> None:
    frame = pd.DataFrame(
        {
            "i": np.arange(4, dtype=np.int16),
            "f": [0.5, np.nan, 2.0, -1.0],
            "s": ["a", "b", None, "d"],
            "o": pd.Series([1, "x", None, 2.5], dtype=object),
            "c": pd.Categorical(["lo", "hi", "lo", "lo"], categories=["lo", "hi"], ordered=True),
            "t": pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-04"]),
        },
        index=pd.Index(["w", "x", "y", "z"], name="key"),
    )
    pd.testing.assert_frame_equal(round_trip(frame), frame)  # type: ignore[arg-type]
    series = pd.Series([1.0, 2.0], index=pd.RangeIndex(5, 7), name="s")
    pd.testing.assert_series_equal(round_trip(series), series)  # type: ignore[arg-type]
    index = pd.Index([3, 1, 2], name="n")
    pd.testing.assert_index_equal(round_trip(index), index, exact=True)  # type: ignore[arg-type]
    duplicated = pd.DataFrame([[1, 2]], columns=["a", "a"])
    pd.testing.assert_frame_equal(round_trip(duplicated), duplicated)  # type: ignore[arg-type]
    no_columns = pd.DataFrame(index=pd.Index([3, 4]))
    pd.testing.assert_frame_equal(round_trip(no_columns), no_columns)  # type: ignore[arg-type]
    multi = pd.DataFrame({"a": [1]}, index=pd.MultiIndex.from_tuples([(1, 2)]))
    assert isinstance(round_trip(multi), Fingerprint)


def test_dataclasses_and_plain_objects_are_stored_as_their_fields() -> None:
    stored = round_trip(Point(1.0, [2], stamp=5.0))
    assert stored == StoredObject(f"{__name__}.Point", {"x": 1.0, "y": [2]})
    assert first_difference({"r": stored}, {"r": Point(1.0, [2], stamp=9.0)}, TOL) is None
    assert "result['y'][0]: 2 in the baseline, 3" in str(
        first_difference({"result": stored}, {"result": Point(1.0, [3])}, TOL)
    )
    moved = first_difference({"r": stored}, {"r": Plain()}, TOL)
    assert moved == f"r: a {__name__}.Point was recorded, now a {__name__}.Plain"
    plain = round_trip(Plain())
    assert isinstance(plain, StoredObject) and plain.fields == {"items": [1, 2.5, "three"]}
    assert first_difference({"r": plain}, {"r": Plain()}, TOL) is None


def test_objects_with_their_own_equality_are_kept_as_fingerprints() -> None:
    stored = round_trip(Opaque(3))
    assert isinstance(stored, Fingerprint) and stored.type_name.endswith("Opaque")
    assert first_difference({"r": stored}, {"r": Opaque(3)}, TOL) is None
    assert "only a fingerprint" in str(first_difference({"r": stored}, {"r": Opaque(4)}, TOL))


def test_a_large_array_is_kept_as_a_fingerprint_unless_asked() -> None:
    big = np.random.default_rng(0).random(1_000_000)  # 8 MB
    blob = encode({"result": big, "small": [1, 2]})
    assert len(blob) < 10_000
    back = decode(blob)
    assert isinstance(back["result"], Fingerprint) and back["small"] == [1, 2]
    assert "array of float64 (1000000,)" in back["result"].summary
    assert first_difference(back, {"result": big.copy(), "small": [1, 2]}, TOL) is None
    changed = big.copy()
    changed[-1] += 1e-12
    assert "not the same bytes" in str(
        first_difference(back, {"result": changed, "small": [1, 2]}, TOL)
    )
    kept = decode(encode({"result": big}, max_bytes=None))["result"]
    assert isinstance(kept, np.ndarray) and np.array_equal(kept, big)


def test_a_long_list_over_the_budget_becomes_one_fingerprint_not_many() -> None:
    blob = encode({"result": list(range(300_000))}, max_bytes=10_000)
    assert len(blob) < 2_000
    assert isinstance(decode(blob)["result"], Fingerprint)
    split = decode(encode({"result": [b"x" * 8_000, b"y" * 8_000]}, max_bytes=10_000))["result"]
    assert split[0] == b"x" * 8_000 and isinstance(split[1], Fingerprint)


def test_cycles_and_deep_nesting_end() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    assert isinstance(round_trip(loop), list)  # the cycle ends in a fingerprint
    deep: list[Any] = []
    for _ in range(500):
        deep = [deep]
    assert isinstance(round_trip(deep), list)


def test_freeze_keeps_an_exact_copy_in_memory_and_only_the_safe_bytes_elsewhere() -> None:
    values = {"result": Opaque(2), "p": Point(1.0, [1])}
    frozen = freeze(values, "baseline")
    assert isinstance(frozen, Frozen) and frozen.startswith(MAGIC)
    copy = thaw(frozen)
    assert copy == values and copy["result"] is not values["result"]
    restored = pickle.loads(pickle.dumps(frozen))
    assert type(restored) is bytes and restored == bytes(frozen)
    assert isinstance(thaw(restored)["result"], Fingerprint)


def test_a_pickle_from_a_store_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps({"result": Marker(str(marker))})
    with pytest.raises(ExperimentError, match="pickles are never loaded from a file"):
        thaw(payload)
    assert not marker.exists()


def test_a_crafted_blob_naming_a_callable_stays_inert_data() -> None:
    import json
    import struct
    import zlib

    head = json.dumps(
        {
            "outputs": {"result": {"$": "object", "type": "os.system", "fields": {"a": "id"}}},
            "chunks": [],
        }
    ).encode()
    payload = struct.pack("<Q", len(head)) + head
    blob = MAGIC + struct.pack("<Q", len(payload)) + zlib.compress(payload)
    assert decode(blob) == {"result": StoredObject("os.system", {"a": "id"})}


@pytest.mark.parametrize(
    "blob",
    [b"", b"junk", MAGIC, MAGIC + b"\xff" * 8, MAGIC + (5).to_bytes(8, "little") + b"xx"],
)
def test_damaged_blobs_are_one_experiment_error(blob: bytes) -> None:
    with pytest.raises(ExperimentError, match="outputs"):
        decode(blob)


def test_fingerprints_tell_arrays_apart_by_dtype_and_shape() -> None:
    a = np.zeros(4, dtype=np.float64)
    assert fingerprint(a) == fingerprint(a.copy())
    assert fingerprint(a).digest != fingerprint(a.reshape(2, 2)).digest
    assert fingerprint(a).digest != fingerprint(a.astype(np.int64)).digest


# --- through the magic -----------------------------------------------------------------------


def test_a_crafted_store_runs_nothing_on_candidate(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    marker = isolated_cwd / "ran"
    with capture_output():
        shell.run_cell("%%optimize -q --baseline v1\nresult = sum(range(2000))\nresult")
    store = isolated_cwd / ".workbench" / "runs.sqlite"
    payload = pickle.dumps({"result": Marker(str(marker))})
    with sqlite3.connect(store) as conn:
        assert conn.execute("UPDATE baselines SET outputs = ?", (payload,)).rowcount == 1
    conn.close()
    with capture_output():
        shell.run_cell(
            "%%optimize -q --candidate c1 --budget 0.3 -o e\nresult = sum(range(2000))\nresult"
        )
    assert not marker.exists()
    experiment = shell.user_ns["e"]
    assert experiment.correctness == "equal"  # the fresh baseline run is still compared
    assert any("pickles are never loaded" in note for note in experiment.notes)


def test_a_baseline_with_a_large_result_does_not_grow_the_store(
    shell: InteractiveShell, isolated_cwd: Path
) -> None:
    with capture_output():
        shell.run_cell("import numpy as np")
        result = shell.run_cell("%%optimize -q --baseline big\nnp.ones(2_000_000)")  # 16 MB
    assert result.error_in_exec is None
    store = isolated_cwd / ".workbench" / "runs.sqlite"
    size = sum(os.stat(p).st_size for p in store.parent.iterdir())
    assert size < 1_500_000
