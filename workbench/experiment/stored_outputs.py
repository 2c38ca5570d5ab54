"""The stored form of a run's outputs: data that cannot run code when it is read back.

A baseline's outputs go to the run store, and a store can come from anywhere (a colleague's
folder, a downloaded project), so they are never pickled there. The blob is a JSON tree plus
raw NumPy ``.npy`` chunks read with ``allow_pickle=False``. Kept exactly: None, bools, ints,
floats (NaN and infinities too), complex numbers, str, bytes, lists, tuples, sets, dicts with
plain keys, NumPy arrays and scalars of non-object dtypes (object arrays element by element),
pandas DataFrames, Series and Indexes whose columns have NumPy, string or categorical dtypes.
Kept as a :class:`StoredObject` (type name and compared fields): dataclasses, and objects with
the default ``==`` (their ``__dict__``). Everything else, and every value past the size
budget (`max_bytes`, 1 MiB by default), is kept as a :class:`Fingerprint`: a SHA-256 of its
bytes, which says "same" or "changed" but not where or by how much.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import pickle
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ExperimentError
from workbench.experiment.stored_frames import (
    NOT_KEPT,
    as_list,
    pandas_node,
    pandas_value,
    plain_key,
)

MAGIC = b"WBOUT\x01"
MAX_STORED_BYTES = 1 << 20
MAX_BLOB_BYTES = 1 << 32  # what a stored blob may unpack to
MAX_DEPTH = 100  # nesting kept exactly; deeper values are fingerprinted
MAX_SPLIT = 64  # a container over budget is split into its items only when it has this few
MAX_NODES = 2_000_000  # values kept exactly in one blob, shared references counted each time
_LEN = struct.Struct("<Q")


@dataclass(frozen=True)
class Fingerprint:
    """A value kept only as the SHA-256 of its bytes, with its type and a short summary."""

    type_name: str
    summary: str
    digest: str

    def matches(self, value: object) -> bool:
        """Whether `value` has the same bytes as the value this was taken from."""
        return fingerprint(value).digest == self.digest


@dataclass(frozen=True)
class StoredObject:
    """An object kept as its type's qualified name and the fields its ``==`` compares."""

    type_name: str
    fields: dict[str, Any]


def qualified_name(kind: type) -> str:
    """``module.QualName`` of a class."""
    return f"{kind.__module__}.{kind.__qualname__}"


def fingerprint(value: object) -> Fingerprint:
    """A value's fingerprint: arrays by dtype, shape and data; frames by pandas' row hashes
    and their labels; text and bytes as they are; anything else by its pickle (written
    here, never read)."""
    digest = hashlib.sha256()
    summary = type(value).__name__
    if type(value) is np.ndarray and not value.dtype.hasobject:
        digest.update(f"{value.dtype.str}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
        summary = f"array of {value.dtype} {value.shape}, {value.nbytes:,} bytes"
    elif isinstance(value, bytes | bytearray):
        digest.update(bytes(value))
        summary = f"{type(value).__name__} of {len(value):,} bytes"
    elif type(value) is str:
        digest.update(value.encode("utf-8", "surrogatepass"))
        summary = f"str of {len(value):,} characters"
    else:
        if type(value) in (pd.DataFrame, pd.Series):
            summary = f"{type(value).__name__} of shape {getattr(value, 'shape', '?')}"
        try:
            digest.update(pickle.dumps(value, protocol=4))
        except Exception:  # unpicklable: only its type and repr can be told apart
            digest.update(f"{qualified_name(type(value))}:{value!r}".encode(errors="replace"))
    return Fingerprint(qualified_name(type(value)), summary, digest.hexdigest())


class _Encoder:
    """Builds the JSON tree and the list of raw chunks, spending the size budget."""

    def __init__(self, max_bytes: int | None) -> None:
        self.budget = float("inf") if max_bytes is None else max_bytes
        self.chunks: list[bytes] = []
        self.nodes = 0

    def chunk(self, data: bytes) -> int:
        self.chunks.append(data)
        return len(self.chunks) - 1

    def node(self, value: Any, depth: int = 0, paid: bool = False) -> Any:
        """The node of one value. Unless an enclosing value was `paid` for as a whole, the
        value's size is taken from the budget when it fits; a container that does not fit
        is split into its items when it has few, else fingerprinted whole."""
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > MAX_NODES:
            return self.fingerprinted(value)
        if not paid:
            cost = _cost(value, self.budget + 1)
            if cost <= self.budget:
                self.budget -= cost
                paid = True
            elif (_count(value) or MAX_SPLIT + 1) > MAX_SPLIT:
                return self.fingerprinted(value)
        exact = self.exact(value, depth, paid)
        return self.fingerprinted(value) if exact is NOT_KEPT else exact

    def pay_for(self, keys: Any, paid: bool) -> bool:
        """Keys and set items are kept exactly or not at all (a fingerprint cannot be looked
        up): take their size from the budget, or say they do not fit."""
        if paid:
            return True
        cost = _cost(keys, self.budget + 1)
        if cost > self.budget:
            return False
        self.budget -= cost
        return True

    def fingerprinted(self, value: Any) -> dict[str, Any]:
        print_ = fingerprint(value)
        return {
            "$": "fingerprint",
            "type": print_.type_name,
            "summary": print_.summary,
            "digest": print_.digest,
        }

    def exact(self, value: Any, depth: int, paid: bool) -> Any:
        """The node of a value kept exactly (or as a StoredObject), or None."""
        kind = type(value)
        if value is None or kind in (bool, str) or (kind is float):
            return value
        if kind is int:
            return value if abs(value) < 1 << 1000 else None
        if kind is complex:
            return {"$": "complex", "re": value.real, "im": value.imag}
        if kind in (bytes, bytearray):
            return {"$": kind.__name__, "chunk": self.chunk(bytes(value))}
        inner = depth + 1
        if kind is list:
            return [self.node(item, inner, paid) for item in value]
        if kind is tuple:
            return {"$": "tuple", "items": [self.node(item, inner, paid) for item in value]}
        if kind in (set, frozenset):
            if not all(plain_key(item) for item in value) or not self.pay_for(value, paid):
                return NOT_KEPT
            return {"$": kind.__name__, "items": [self.node(item, inner, True) for item in value]}
        if kind is dict:
            keys = list(value)
            if not all(plain_key(key) for key in keys) or not self.pay_for(keys, paid):
                return NOT_KEPT
            pairs = [
                [self.node(k, inner, True), self.node(v, inner, paid)] for k, v in value.items()
            ]
            return {"$": "dict", "items": pairs}
        if isinstance(value, np.generic) and not value.dtype.hasobject:
            return {"$": "npscalar", "chunk": self.chunk(_npy(np.asarray(value)))}
        if not paid:
            return NOT_KEPT  # what follows is split no further: kept whole or fingerprinted
        if kind is np.ndarray:
            return self.array(value, depth)
        if kind in (pd.DataFrame, pd.Series) or isinstance(value, pd.Index):
            return pandas_node(self, value, depth)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            names = [f.name for f in dataclasses.fields(value) if f.compare]
            fields = {name: self.node(getattr(value, name), inner, paid) for name in names}
            return {"$": "object", "type": qualified_name(kind), "fields": fields}
        state = getattr(value, "__dict__", None)
        equality: Any = kind.__eq__
        if equality is object.__eq__ and isinstance(state, dict):
            if not all(type(key) is str for key in state):
                return NOT_KEPT
            fields = {key: self.node(item, inner, paid) for key, item in state.items()}
            return {"$": "object", "type": qualified_name(kind), "fields": fields}
        return NOT_KEPT

    def array(self, value: np.ndarray[Any, Any], depth: int) -> Any:
        if not value.dtype.hasobject:
            return {"$": "ndarray", "chunk": self.chunk(_npy(value))}
        if value.dtype != np.dtype(object):
            return NOT_KEPT  # structured dtypes holding objects
        items = [self.node(item, depth + 1, True) for item in value.ravel(order="C").tolist()]
        return {"$": "objarray", "shape": list(value.shape), "items": items}


def _npy(array: np.ndarray[Any, Any]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _count(value: object) -> int | None:
    """How many items a splittable container (list, tuple, set, dict) holds; else None."""
    if type(value) in (list, tuple, set, frozenset, dict):
        return len(value)  # type: ignore[arg-type]
    return None


def _cost(value: object, limit: float) -> float:
    """About how many bytes `value` takes stored; stops counting once past `limit`.
    Each object is counted once, so shared and cyclic references end."""
    total = 0.0
    stack: list[Any] = [value]
    seen: set[int] = set()
    while stack and total <= limit:
        item = stack.pop()
        total += 1
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            total += item.nbytes
            if item.dtype == np.dtype(object):
                stack.extend(item.ravel().tolist())
        elif isinstance(item, pd.DataFrame | pd.Series):
            total += float(np.sum(item.memory_usage(deep=True)))
        elif isinstance(item, pd.Index):
            total += float(item.memory_usage(deep=True))
        elif isinstance(item, str | bytes | bytearray):
            total += len(item)
        elif type(item) in (list, tuple, set, frozenset):
            stack.extend(item)
        elif type(item) is dict:
            for key, entry in item.items():
                stack.extend((key, entry))
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif isinstance(getattr(item, "__dict__", None), dict):
            stack.extend(item.__dict__.values())
        else:
            total += 7
    return total


def encode(outputs: dict[str, Any], *, max_bytes: int | None = MAX_STORED_BYTES) -> bytes:
    """The stored form of `outputs` (see the module docstring for what is kept how)."""
    encoder = _Encoder(max_bytes)
    tree = {name: encoder.node(value) for name, value in outputs.items()}
    offsets, position = [], 0
    for data in encoder.chunks:
        offsets.append([position, len(data)])
        position += len(data)
    head = json.dumps({"outputs": tree, "chunks": offsets}, separators=(",", ":")).encode()
    payload = b"".join([_LEN.pack(len(head)), head, *encoder.chunks])
    return MAGIC + _LEN.pack(len(payload)) + zlib.compress(payload, 1)


def decode(blob: bytes) -> dict[str, Any]:
    """The outputs :func:`encode` stored. Reads only JSON and pickle-free ``.npy`` data; a
    blob in any other form (an older workbench's pickle included) is an ExperimentError."""
    data = bytes(blob)
    if data[:1] == b"\x80":
        raise ExperimentError(
            "the stored outputs are a pickle (written by an earlier workbench), and pickles "
            "are never loaded from a file, since loading one can run any code: record the "
            "baseline again to keep its outputs in the safe format"
        )
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + _LEN.size:
        raise ExperimentError("the stored outputs are not in workbench's outputs format")
    try:
        return _Decoder(_inflate(data[len(MAGIC) :])).outputs()
    except ExperimentError:
        raise
    except Exception as exc:  # our own parser over JSON and .npy data: any failure = damaged
        raise ExperimentError(
            f"the stored outputs are damaged ({type(exc).__name__}: {str(exc)[:200]}): "
            "record the baseline again"
        ) from None


def _inflate(data: bytes) -> bytes:
    (size,) = _LEN.unpack_from(data)
    if size > MAX_BLOB_BYTES:
        raise ExperimentError(f"the stored outputs claim {size:,} bytes: refused as damaged")
    inflate = zlib.decompressobj()
    payload = inflate.decompress(data[_LEN.size :], size)
    if len(payload) != size or inflate.unconsumed_tail or not inflate.eof:
        raise ValueError("the outputs blob does not unpack to the size it records")
    return payload


class _Decoder:
    def __init__(self, payload: bytes) -> None:
        (head_size,) = _LEN.unpack_from(payload)
        head = json.loads(payload[_LEN.size : _LEN.size + head_size])
        self.tree = head["outputs"]
        self.body = memoryview(payload)[_LEN.size + head_size :]
        self.offsets = head["chunks"]
        if not isinstance(self.tree, dict) or not isinstance(self.offsets, list):
            raise ValueError("the outputs blob has no outputs table")

    def outputs(self) -> dict[str, Any]:
        return {str(name): self.value(node) for name, node in self.tree.items()}

    def chunk(self, index: object) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.offsets):
            raise ValueError(f"chunk {index!r} does not exist")
        start, length = self.offsets[index]
        if type(start) is not int or type(length) is not int or start < 0 or length < 0:
            raise ValueError("a chunk's place is not two sizes")
        if start + length > len(self.body):
            raise ValueError("a chunk runs past the end of the blob")
        return bytes(self.body[start : start + length])

    def array(self, index: object) -> np.ndarray[Any, Any]:
        array = np.lib.format.read_array(io.BytesIO(self.chunk(index)), allow_pickle=False)
        if array.dtype.hasobject:
            raise ValueError("an array chunk holds objects")
        return array

    def value(self, node: Any) -> Any:
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [self.value(item) for item in node]
        if type(node) is not dict:
            raise ValueError(f"unexpected {type(node).__name__} in the outputs tree")
        tag = node["$"]
        if tag == "complex":
            return complex(float(node["re"]), float(node["im"]))
        if tag in ("bytes", "bytearray"):
            data = self.chunk(node["chunk"])
            return data if tag == "bytes" else bytearray(data)
        if tag in ("tuple", "set", "frozenset"):
            items = [self.value(item) for item in as_list(node["items"])]
            return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](items)
        if tag == "dict":
            return {self.value(k): self.value(v) for k, v in map(_pair, as_list(node["items"]))}
        if tag == "npscalar":
            return self.array(node["chunk"])[()]
        if tag == "ndarray":
            return self.array(node["chunk"])
        if tag == "objarray":
            items = [self.value(item) for item in as_list(node["items"])]
            shape = tuple(int(n) for n in as_list(node["shape"]))
            array = np.empty(len(items), dtype=object)
            for position, item in enumerate(items):
                array[position] = item
            return array.reshape(shape)
        if tag == "object":
            fields = node["fields"]
            if not isinstance(fields, dict):
                raise ValueError("an object's fields are not a table")
            return StoredObject(
                str(node["type"]), {str(k): self.value(v) for k, v in fields.items()}
            )
        if tag == "fingerprint":
            return Fingerprint(str(node["type"]), str(node["summary"]), str(node["digest"]))
        return pandas_value(self, tag, node)


def _pair(value: object) -> tuple[Any, Any]:
    items = as_list(value)
    if len(items) != 2:
        raise ValueError("a dict entry is not a key and a value")
    return items[0], items[1]


def walk(value: Any) -> Iterator[Any]:
    """Every value inside a decoded tree (containers, stored objects), for tests and notes."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, StoredObject):
            stack.extend(item.fields.values())
        elif type(item) in (list, tuple, set, frozenset):
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
