"""The words the router speaks: backends, op complexity, and where data lives."""

from __future__ import annotations

from enum import Enum

from workbench.errors import RouteError


class Backend(str, Enum):
    """Where an op runs. The seeds call them Scalar, SIMD and GPU."""

    PYTHON = "python"
    NUMPY = "numpy"
    CUPY = "cupy"
    # The seeds' names, as aliases of the same members.
    SCALAR = "python"
    SIMD = "numpy"
    GPU = "cupy"

    @property
    def seed_name(self) -> str:
        """The name seeds 000 and 002 use: Scalar, SIMD or GPU."""
        return _SEED_NAMES[self.value]

    @property
    def label(self) -> str:
        """The Python library that runs it: pure Python, NumPy or CuPy."""
        return _LABELS[self.value]

    def __str__(self) -> str:
        return self.label

    @classmethod
    def parse(cls, value: Backend | str) -> Backend:
        """A Backend from itself, its value or either of its names, any case."""
        if isinstance(value, Backend):
            return value
        key = str(value).strip().lower()
        for member in cls:
            if key in (member.value, member.seed_name.lower(), member.label.lower()):
                return member
        raise RouteError(
            f"unknown backend {value!r}: use one of python, numpy, cupy "
            "(or the seeds' names Scalar, SIMD, GPU)"
        )


_SEED_NAMES = {"python": "Scalar", "numpy": "SIMD", "cupy": "GPU"}
_LABELS = {"python": "pure Python", "numpy": "NumPy", "cupy": "CuPy"}


class Complexity(str, Enum):
    """How much work an op does per element (seed 002): Low is O(n) and memory-bound,
    Medium is O(n) with more arithmetic, High is O(n^2) or O(n^3) and compute-bound."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    def __str__(self) -> str:
        return self.value.capitalize()

    @classmethod
    def parse(cls, value: Complexity | str) -> Complexity:
        """A Complexity from itself or its name, any case."""
        if isinstance(value, Complexity):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise RouteError(f"unknown complexity {value!r}: use Low, Medium or High") from None


class Location(str, Enum):
    """Where data lives: Python objects (lists, scalars), NumPy on the host, CuPy on the GPU."""

    PYTHON = "python"
    HOST = "host"
    DEVICE = "device"

    def __str__(self) -> str:
        return _LOCATION_WORDS[self.value]

    @classmethod
    def parse(cls, value: Location | str) -> Location:
        """A Location from itself or its value (python, host, device; numpy and cupy too)."""
        if isinstance(value, Location):
            return value
        key = str(value).strip().lower()
        key = {"numpy": "host", "cupy": "device", "list": "python", "gpu": "device"}.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise RouteError(
                f"unknown location {value!r}: use python (lists), host (NumPy) or device (CuPy)"
            ) from None


_LOCATION_WORDS = {
    "python": "host (Python lists/scalars)",
    "host": "host (NumPy)",
    "device": "device (CuPy)",
}
