"""Exports: speedscope JSON and pstats dumps, written atomically, read back with clear errors."""

from __future__ import annotations

import cProfile
import json
import marshal
import os
import pstats
import random
from pathlib import Path
from typing import Any

import pytest
import sampled_workloads as wl

from workbench.errors import ProfileError
from workbench.profiling.capture import run_profiled
from workbench.profiling.export import (
    SPEEDSCOPE_SCHEMA,
    load_pstats,
    write_atomic,
    write_prof,
    write_speedscope,
)
from workbench.profiling.sampling import run_sampled


def _check_speedscope(document: dict[str, Any], total: float) -> dict[str, Any]:
    """The structural rules of speedscope's file format schema, for one sampled profile."""
    assert document["$schema"] == SPEEDSCOPE_SCHEMA
    frames = document["shared"]["frames"]
    assert frames and all(isinstance(f["name"], str) and f["name"] for f in frames)
    assert all(isinstance(f["line"], int) for f in frames if "line" in f)
    assert document["activeProfileIndex"] == 0
    assert isinstance(document["exporter"], str) and isinstance(document["name"], str)
    (profile,) = document["profiles"]
    assert profile["type"] == "sampled" and profile["unit"] == "seconds"
    samples, weights = profile["samples"], profile["weights"]
    assert len(samples) == len(weights) > 0
    assert all(stack and all(0 <= i < len(frames) for i in stack) for stack in samples)
    assert all(w > 0 for w in weights)
    assert profile["startValue"] == 0
    assert profile["endValue"] == pytest.approx(sum(weights))
    assert sum(weights) == pytest.approx(total, rel=0.01)
    return dict(profile)


def test_speedscope_from_samples_is_exact(tmp_path: Path) -> None:
    sampled, _ = run_sampled([wl.three_to_one_calls], interval=0.0005)
    out = tmp_path / "out"
    path = write_speedscope(out / "run.speedscope.json", stacks=sampled.stacks, name="cell")
    document = json.loads(path.read_text(encoding="utf-8"))
    profile = _check_speedscope(document, sampled.sampled_s)
    assert profile["name"] == "cell"
    frames = document["shared"]["frames"]
    stacks = {tuple(frames[i]["name"] for i in s) for s in profile["samples"]}
    assert any(s[-2:] == ("heavy_calls", "chatty") for s in stacks)
    assert [p.name for p in out.iterdir()] == ["run.speedscope.json"]  # no temp file left
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file, not 0600


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "taken"
    target.mkdir(parents=True)
    with pytest.raises(OSError):
        write_atomic(target, b"data")  # cannot replace a folder with a file
    assert [p.name for p in target.parent.iterdir()] == ["taken"]


def test_speedscope_from_cprofile_is_rebuilt_from_caller_edges(tmp_path: Path) -> None:
    raw, _ = run_profiled([wl.diamond])
    path = write_speedscope(tmp_path / "cprofile.json", stats=raw.stats, name="cell")
    document = json.loads(path.read_text(encoding="utf-8"))
    total = sum(v[2] for v in raw.stats.values())
    profile = _check_speedscope(document, total)
    assert "reconstructed from cProfile caller edges" in profile["name"]
    natives = [f for f in document["shared"]["frames"] if f["name"].startswith("<")]
    assert all("file" not in f for f in natives if f["name"].startswith("<built-in"))


def test_speedscope_needs_exactly_one_source(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="stacks="):
        write_speedscope(tmp_path / "x.json")
    with pytest.raises(ProfileError, match="not both"):
        write_speedscope(tmp_path / "x.json", stacks=[], stats={})


def test_our_prof_files_load_in_pstats_and_back(tmp_path: Path) -> None:
    sampled, _ = run_sampled([wl.natives], interval=0.0005)
    traced, _ = run_profiled([wl.natives])
    for name, stats in (("sampled.prof", sampled.stats), ("traced.prof", traced.stats)):
        path = write_prof(tmp_path / name, stats)
        loaded = pstats.Stats(str(path))
        total = sum(v[2] for v in stats.values())
        assert sum(v[2] for v in loaded.stats.values()) == pytest.approx(total)  # type: ignore[attr-defined]
        loaded.calc_callees()  # what snakeviz and tuna walk
        assert load_pstats(path) == stats


def test_a_dump_written_by_cprofile_itself_loads(tmp_path: Path) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(wl.caller_b)
    path = tmp_path / "prun.prof"
    profiler.dump_stats(str(path))
    stats = load_pstats(path)
    assert any(key[2] == "shared" for key in stats)
    assert all(len(value) == 5 for value in stats.values())


def test_a_truncated_dump_gives_one_clear_error(tmp_path: Path) -> None:
    raw, _ = run_profiled([wl.caller_b])
    data = marshal.dumps(raw.stats)
    path = tmp_path / "cut.prof"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProfileError, match=r"not a readable pstats dump.*re-create the profile"):
        load_pstats(path)


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes_give_one_clear_error(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "noise.prof"
    path.write_bytes(random.Random(seed).randbytes(512))
    with pytest.raises(ProfileError, match="re-create the profile with this Python"):
        load_pstats(path)


def test_marshal_data_that_is_not_a_profile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.prof"
    path.write_bytes(marshal.dumps([1, 2, 3]))
    with pytest.raises(ProfileError, match="not a pstats dump: it holds a list"):
        load_pstats(path)
    path.write_bytes(marshal.dumps({("f.py", 1, "f"): (1, 1)}))
    with pytest.raises(ProfileError, match="not shaped like pstats data"):
        load_pstats(path)
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_pstats(tmp_path / "missing.prof")


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ((-4, -4, 0.1, 0.1, {}), "primitive calls = -4"),
        ((4, 4, float("nan"), 0.1, {}), "self time = nan"),
        ((4, 4, 0.1, float("inf"), {}), "cumulative time = inf"),
        ((4, 4, 0.1, -0.5, {}), "cumulative time = -0.5"),
        ((4, 2.5, 0.1, 0.1, {}), r"calls = 2.5 \(not a whole number\)"),
        ((4, 4, 10**400, 0.1, {}), r"self time = .* \(too large\)"),
        (
            (1, 1, 0.1, 0.1, {("g.py", 2, "g"): (1, 1, float("nan"), 0.1)}),
            "self time = nan in the call from 'g'",
        ),
        ((1, 1, 0.1, 0.1, {("g.py", 2, "g"): -3}), "primitive calls = -3 in the call from 'g'"),
    ],
)
def test_impossible_values_are_refused_naming_the_field(
    tmp_path: Path, entry: tuple[Any, ...], named: str
) -> None:
    path = tmp_path / "edited.prof"
    path.write_bytes(marshal.dumps({("f.py", 1, "work"): entry}))
    with pytest.raises(ProfileError, match=rf"impossible value for 'work' \(f.py:1\): {named}"):
        load_pstats(path)


def test_old_dumps_with_whole_float_counts_still_load(tmp_path: Path) -> None:
    path = tmp_path / "old.prof"
    path.write_bytes(marshal.dumps({("f.py", 1, "f"): (2.0, 3, 0.5, 1, {("g.py", 2, "g"): 3})}))
    assert load_pstats(path) == {
        ("f.py", 1, "f"): (2, 3, 0.5, 1.0, {("g.py", 2, "g"): (3, 3, 0.0, 0.0)})
    }
