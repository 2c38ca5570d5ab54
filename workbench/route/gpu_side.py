"""The GPU side of a Router: whether CuPy can run here, which GPU, how copies are made."""

from __future__ import annotations

from types import ModuleType

from workbench import gpu
from workbench.errors import RouteError
from workbench.gpu import GpuStatus
from workbench.gpu.pinned import Mover
from workbench.machine import machine_id
from workbench.route.machine_profile import MachineProfile


class GpuSide:
    """GPU state a Router keeps: probed once, CuPy loaded on first need."""

    profile: MachineProfile
    _device: int | None
    _staging: Mover | None
    _gpu_flag: bool | None
    _gpu_status: GpuStatus | None
    _cp: ModuleType | None
    _oom: tuple[type[BaseException], ...]

    @property
    def gpu_status(self) -> GpuStatus:
        """Whether the GPU can be used, and why (probed once)."""
        if self._gpu_status is None:
            if self._gpu_flag is False:
                self._gpu_status = GpuStatus(False, "disabled by Router(gpu=False)")
            else:
                status = gpu.probe()
                if self._gpu_flag and not status.available:
                    raise RouteError(f"Router(gpu=True) needs a GPU, but {status.reason}")
                self._gpu_status = status
        return self._gpu_status

    def _cupy(self) -> ModuleType | None:
        if self._cp is None:
            self._cp = gpu.cupy_module()
            if self._cp is not None:
                self._oom = (gpu.out_of_memory_error(self._cp),)
        return self._cp

    def _mover(self) -> Mover | None:
        """Pinned staging for large copies, when the profile found it faster here."""
        if self._staging is not None:
            return self._staging
        t = self.profile.transfer
        if t is None or (t.h2d_method != "staged" and t.d2h_method != "staged"):
            return None
        if self._staging is None:
            cp = self._cupy()
            if cp is None:
                return None
            self._staging = Mover(
                cp,
                t.h2d_method == "staged",
                t.d2h_method == "staged",
                t.stage_above,
                t.stage_threads,
            )
        return self._staging

    @property
    def device_index(self) -> int:
        """The GPU whose calibrated thresholds apply, or -1 when no GPU is usable."""
        if not self.gpu_status.available:
            return -1
        if self._device is not None:
            if self._device >= len(self.gpu_status.devices):
                raise RouteError(
                    f"Router(device={self._device}): this machine has GPUs "
                    f"0..{len(self.gpu_status.devices) - 1}"
                )
            return self._device
        cp = self._cupy()
        return int(cp.cuda.runtime.getDevice()) if cp is not None else 0

    def machine(self) -> str:
        """This machine in words, as profiles record it."""
        status = self.gpu_status
        return machine_id(status.devices if status.available else ())
