"""Where a gated function's learning comes from and goes: the learner made on first
need (CuPy for the GPU experts, thresholds restored from the saved machine profile when
its source hash matches) and saving it back (now, every few seconds while learning, and
at exit). gate.py's Gated calls it."""

from __future__ import annotations

import atexit
import datetime
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench import gpu
from workbench.errors import RouteError
from workbench.route import learned
from workbench.route.compare import Tolerance
from workbench.route.expert import Expert, Placer, gpu_for, mover_for
from workbench.route.features import default_size
from workbench.route.learner import Clock, Learner
from workbench.route.machine_profile import MachineProfile


class GateStore:
    """The set-up and saving half of a Gated (gate.py calls and reports)."""

    qualname: str
    status: list[str]
    device_index: int
    profile_path: Path | None
    _profile_arg: Path | None
    _specs: list[Expert]
    _size: Callable[..., Any]
    _per_decade: int
    _samples: int
    _clock: Clock
    _tolerance: Tolerance
    _check_share: float | None
    _device_wanted: int | None
    _learners: dict[int, Learner]
    _learner: Learner | None
    _autosave: bool
    _save_every_s: float
    _saved_at: float
    _exit_hook: bool

    # --- set-up ----------------------------------------------------------------------

    def _ready(self) -> Learner:
        if self._learner is not None:
            return self._learner
        if self.profile_path is None:
            self.profile_path = self._profile_arg or learned.default_profile_path()
        profile = self._read_profile()
        cp = self._gpu(profile)
        device = self.device_index
        experts = [
            Expert(e.name, e.fn, e.kind, e.reference, e.xp, unavailable=e.unavailable)
            for e in self._specs
        ]
        learner = Learner(
            self.qualname,
            experts,
            per_decade=self._per_decade,
            samples=self._samples,
            clock=self._clock,
            tolerance=self._tolerance,
            check_share=self._check_share,
        )
        learner.cp = cp
        learner.placer = Placer(cp if cp is not None else gpu.cupy_module(), mover_for(cp, profile))
        if cp is not None:
            learner.oom = (MemoryError, gpu.out_of_memory_error(cp))
        self._restore(learner, profile, device)
        self._learners[device] = self._learner = learner
        if self._autosave and not self._exit_hook:
            atexit.register(self._save_at_exit)
            self._exit_hook = True
        self._saved_at = time.monotonic()
        return learner

    def _gpu(self, profile: MachineProfile | None) -> Any:
        """CuPy for the GPU experts, or each one's reason it cannot run."""
        cp, self.device_index, note = gpu_for(self._specs, self._device_wanted, self.qualname)
        if note:
            self.status.append(note)
        return cp

    def _read_profile(self) -> MachineProfile | None:
        assert self.profile_path is not None
        try:
            return learned.read_profile(self.profile_path)
        except RouteError as exc:
            self.status.append(f"saved profile {self.profile_path} not read: {exc}")
            self._autosave = False
            return None

    def source_hash(self) -> str:
        parts = [(f"{e.name}:{e.kind}:{e.xp}", e.fn) for e in self._specs]
        if self._size is not default_size:
            parts.append(("size", self._size))
        return learned.source_hash(parts)

    def _restore(self, learner: Learner, profile: MachineProfile | None, device: int) -> None:
        if profile is None or self.qualname not in profile.functions:
            return
        self.status.append(
            learned.restore_saved(
                learner,
                profile.functions[self.qualname],
                self.qualname,
                self.source_hash(),
                device,
                str(self.profile_path),
            )
        )

    # --- saving ----------------------------------------------------------------------

    def record(self) -> dict[str, Any]:
        """What was learned (every GPU target), as the machine profile keeps it."""
        self._ready()
        keys = {
            device: learned.machine_key(learner.cp, device).to_dict()
            for device, learner in self._learners.items()
        }
        return learned.record(
            self._learners,
            self.source_hash(),
            keys,
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
            self._per_decade,
        )

    def save(self, path: str | Path | None = None) -> Path:
        """Write what was learned (every GPU target) into the machine profile now."""
        self._ready()
        target = Path(path) if path is not None else self.profile_path
        assert target is not None
        written = learned.write_record(target, self.qualname, self.record())
        for learner in self._learners.values():
            learner.dirty = False
        self._saved_at = time.monotonic()
        return written

    def _maybe_save(self) -> None:
        learner = self._learner
        if (
            self._autosave
            and learner is not None
            and learner.dirty
            and time.monotonic() - self._saved_at >= self._save_every_s
        ):
            self._save_quietly()

    def _save_quietly(self) -> None:
        try:
            self.save()
        except (RouteError, OSError) as exc:
            self._autosave = False
            self.status.append(f"not saved: {exc}")
            print(f"workbench: {self.qualname}: thresholds not saved: {exc}", file=sys.stderr)

    def _save_at_exit(self) -> None:
        if self._autosave and any(learner.dirty for learner in self._learners.values()):
            self._save_quietly()
