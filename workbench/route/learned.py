"""What a gated function learned, kept in the machine profile so a later kernel reuses it.

A record sits under ``functions[<module>.<qualname>]`` of a machine profile, with the hash
of the experts' (and the size function's) source, the machine key it was learned on (CPU,
GPU, driver, CUDA, NumPy, CuPy, Python) and, per GPU target (-1: CPU only), every bucket
with its choice, how it was made and each expert's timings, calls, failures and checks,
plus thresholds set in the tuner. A record is used only when its source hash and machine
key match this process; otherwise it is kept in the file and explain() says why it was
not used. The default profile is ``$WORKBENCH_PROFILE``, else
``.workbench/machine-profile.json`` in the folder of the nearest pyproject.toml (else the
working folder), as the run store finds its folder.
"""

from __future__ import annotations

import hashlib
import inspect
import marshal
import os
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from workbench.errors import RouteError
from workbench.machine import MachineKey, cpu_name, differences, key_for
from workbench.route import profile_fields as f
from workbench.route.buckets import Bucket, Stat
from workbench.route.learner import Learner
from workbench.route.machine_profile import MachineProfile, Tier, seed_profile

RECORD_VERSION = 1
RESTORED = "restored from the saved profile"
PROFILE_ENV = "WORKBENCH_PROFILE"


def default_profile_path(start: Path | None = None) -> Path:
    """Where learned thresholds go when no profile is named."""
    env = os.environ.get(PROFILE_ENV)
    if env:
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder / ".workbench" / "machine-profile.json"
    return here / ".workbench" / "machine-profile.json"


def _code_text(fn: Callable[..., Any]) -> bytes:
    target = inspect.unwrap(fn)
    try:
        return inspect.getsource(target).encode("utf-8")
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        if code is not None:
            return marshal.dumps(code)
        return repr(target).encode("utf-8")


def source_hash(functions: Iterable[tuple[str, Callable[..., Any]]]) -> str:
    """A short hash of the named functions' source (their code where no source is kept)."""
    digest = hashlib.sha256()
    for name, fn in functions:
        digest.update(name.encode("utf-8") + b"\0" + _code_text(fn) + b"\0")
    return digest.hexdigest()[:16]


def _stat_dict(s: Stat) -> dict[str, Any]:
    return {
        "samples": list(s.samples),
        "calls": s.calls,
        "failures": s.failures,
        "disabled": s.disabled,
        "checked": s.checked,
    }


def _bucket_dict(b: Bucket) -> dict[str, Any]:
    stats = {}
    for name, s in b.stats.items():
        data = _stat_dict(s)
        if b.plan is not None and b.plan.expert == name:
            data["calls"] += b.plan.used
        stats[name] = data
    return {
        "where": b.where,
        "index": b.index,
        "choice": b.choice,
        "tie": b.tie,
        "source": b.source,
        "note": b.note,
        "low_size": b.low_size if b.high_size > 0 else None,
        "high_size": b.high_size,
        "check_due": b.check_due,
        "check_note": b.check_note,
        "stats": stats,
    }


def learner_dict(learner: Learner) -> dict[str, Any]:
    return {
        "buckets": [_bucket_dict(b) for b in learner.buckets.values()],
        "tuned": {
            w: {"simd_above": t.simd_above, "gpu_above": t.gpu_above}
            for w, t in learner.tuned.items()
        },
        "first_s": {n: e.first_s for n, e in learner.experts.items() if e.first_s is not None},
    }


def record(
    learners: dict[int, Learner],
    source: str,
    keys: dict[int, dict[str, str]],
    date: str,
    per_decade: int,
) -> dict[str, Any]:
    """The JSON record of a gated function: one entry per GPU target it learned on."""
    first = next(iter(learners.values()))
    return {
        "version": RECORD_VERSION,
        "source_hash": source,
        "experts": list(first.order),
        "per_decade": per_decade,
        "date": date,
        "targets": {
            str(device): {"key": keys.get(device, {}), **learner_dict(learner)}
            for device, learner in learners.items()
        },
    }


def _stat(data: Any, field: str) -> Stat:
    item = f.mapping(data, field)
    samples = item.get("samples", [])
    if not isinstance(samples, list):
        raise f.bad(f"{field}.samples", "a list of seconds", samples)
    return Stat(
        samples=[f.number(v, f"{field}.samples", positive=True) for v in samples],
        calls=f.whole(item.get("calls", 0), f"{field}.calls"),
        failures=f.whole(item.get("failures", 0), f"{field}.failures"),
        disabled=f.text(item.get("disabled", ""), f"{field}.disabled"),
        checked=f.text(item.get("checked", ""), f"{field}.checked"),
    )


def _tier(data: Any, field: str) -> Tier:
    item = f.mapping(data, field)
    return Tier(
        simd_above=f.size_or_none(item.get("simd_above"), f"{field}.simd_above"),
        gpu_above=f.size_or_none(item.get("gpu_above"), f"{field}.gpu_above"),
    )


def restore(learner: Learner, data: dict[str, Any], field: str) -> int:
    """Put a saved target's buckets into `learner` (checked; RouteError names the field);
    returns how many buckets had a choice."""
    buckets = data.get("buckets", [])
    if not isinstance(buckets, list):
        raise f.bad(f"{field}.buckets", "a list", buckets)
    restored: list[Bucket] = []
    for i, raw in enumerate(buckets):
        where = f"{field}.buckets[{i}]"
        item = f.mapping(raw, where)
        place = f.choice(item.get("where"), f"{where}.where", ("host", "device"))
        index = item.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or index < -1:
            raise f.bad(f"{where}.index", "a bucket index >= -1", index)
        stats = {
            name: _stat(value, f"{where}.stats.{name}")
            for name, value in f.mapping(item.get("stats"), f"{where}.stats").items()
            if name in learner.experts
        }
        choice = item.get("choice")
        if choice is not None and choice not in learner.experts:
            raise f.bad(f"{where}.choice", f"one of {', '.join(learner.order)}", choice)
        tie = item.get("tie")
        b = Bucket(index, place, stats, choice, tie if tie in learner.experts else None)
        b.source = f.text(item.get("source", ""), f"{where}.source")
        b.note = f.text(item.get("note", ""), f"{where}.note")
        b.check_due = f.whole(item.get("check_due", 0), f"{where}.check_due")
        b.check_note = f.text(item.get("check_note", ""), f"{where}.check_note")
        low = item.get("low_size")
        if low is not None:
            b.low_size = f.number(low, f"{where}.low_size")
            b.high_size = f.number(item.get("high_size", low), f"{where}.high_size")
        restored.append(b)
    tuned = {
        w: _tier(t, f"{field}.tuned.{w}")
        for w, t in f.mapping(data.get("tuned"), f"{field}.tuned").items()
    }
    for name, seconds in f.mapping(data.get("first_s"), f"{field}.first_s").items():
        if name in learner.experts:
            learner.experts[name].first_s = f.number(seconds, f"{field}.first_s.{name}")
    decided = 0
    for b in restored:
        learner.buckets[(b.where, b.index)] = b
        if (
            b.choice is not None
            and learner.usable(b.choice)
            and not b.stats.get(b.choice, Stat()).disabled
        ):
            b.source = b.source or "measured on live calls"
            b.note = RESTORED
            learner.install(b)
            decided += 1
        else:
            b.choice = b.tie = None
    for where, tier in tuned.items():
        learner.tune(where, tier)
    learner.dirty = False
    return decided


def read_profile(path: Path) -> MachineProfile | None:
    """The profile at `path`, None when there is no file (RouteError when it is bad)."""
    if not path.exists():
        return None
    return MachineProfile.load(path)


def write_record(path: Path, qualname: str, data: dict[str, Any]) -> Path:
    """Put one function's record into the profile at `path` (made from the seed profile
    when there is none), written atomically; RouteError if the file there is unreadable
    (it is not written over)."""
    try:
        current = read_profile(path)
    except RouteError as exc:
        raise RouteError(
            f"not saving {qualname}'s thresholds: {exc}. The file is left as it is; pass "
            "profile='another.json' to experts(), or fix or move the file"
        ) from None
    base = current if current is not None else replace(seed_profile(), name="local")
    functions = {**base.functions, qualname: data}
    return replace(base, functions=functions).save(path)


def machine_key(cp: Any, device: int) -> MachineKey:
    """The key a record is learned under: this CPU, and the GPU the CuPy experts use."""
    if cp is None or device < 0:
        return MachineKey(cpu=cpu_name(), dtype="any")
    return key_for(cp, (device,), "any")


def restore_saved(
    learner: Learner, data: dict[str, Any], qualname: str, source: str, device: int, where: str
) -> str:
    """Put a function's saved record into `learner` when its source hash and machine key
    match; the sentence explain() shows either way."""
    if data.get("source_hash") != source:
        return (
            f"saved thresholds in {where} not used: the source of {qualname} or its experts "
            f"changed since they were learned (hash {data.get('source_hash')!r} then, "
            f"{source!r} now); learning again"
        )
    targets = data.get("targets")
    target = targets.get(str(device)) if isinstance(targets, dict) else None
    if not isinstance(target, dict):
        return f"saved thresholds in {where}: none for this target ({device})"
    saved_key = target.get("key")
    here = machine_key(learner.cp, device)
    diffs = differences(saved_key, here) if isinstance(saved_key, dict) else ["key: missing"]
    if diffs:
        return (
            f"saved thresholds in {where} not used: learned on another machine or with "
            f"other versions ({'; '.join(diffs)}); learning again"
        )
    try:
        count = restore(learner, target, f"functions.{qualname}.targets.{device}")
    except RouteError as exc:
        learner.buckets.clear()
        return f"saved thresholds in {where} not used: {exc}"
    return f"{count} bucket choice(s) restored from {where} (learned {data.get('date', 'undated')})"
