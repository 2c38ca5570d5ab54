"""pandas objects in the stored outputs form (see ``stored_outputs``): DataFrames, Series and
Indexes whose columns have NumPy, string (python storage) or categorical dtypes, with a
RangeIndex or a plain Index. Other kinds (MultiIndex, DatetimeIndex, timezone-aware or
nullable extension columns) give NOT_KEPT, and the caller fingerprints the whole object."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# What an encoder function returns for a value it does not keep exactly.
NOT_KEPT: Any = type("NotKept", (), {"__repr__": lambda self: "NOT_KEPT"})()


def plain_key(value: object) -> bool:
    """A value that decodes to something hashable: scalars, text, bytes, tuples of those."""
    if value is None or type(value) in (bool, int, float, complex, str, bytes):
        return True
    return type(value) is tuple and all(plain_key(item) for item in value)


def as_list(value: object) -> list[Any]:
    if type(value) is not list:
        raise ValueError(f"expected a list in the outputs tree, found a {type(value).__name__}")
    return value


def pandas_node(encoder: Any, value: Any, depth: int) -> Any:
    """The node of a DataFrame, Series or Index (`encoder` makes nodes, arrays and chunks),
    or NOT_KEPT when one of its parts has a kind this form does not keep."""
    if isinstance(value, pd.Index):
        return index_node(encoder, value, depth)
    if isinstance(value, pd.Series):
        values = column_node(encoder, value, depth)
        index = index_node(encoder, value.index, depth)
        if values is NOT_KEPT or index is NOT_KEPT or not plain_key(value.name):
            return NOT_KEPT
        return {
            "$": "series",
            "values": values,
            "index": index,
            "name": encoder.node(value.name, depth + 1),
        }
    columns = index_node(encoder, value.columns, depth)
    index = index_node(encoder, value.index, depth)
    data = [column_node(encoder, value.iloc[:, i], depth) for i in range(value.shape[1])]
    if any(part is NOT_KEPT for part in (columns, index, *data)):
        return NOT_KEPT
    return {"$": "frame", "columns": columns, "index": index, "data": data}


def index_node(encoder: Any, index: pd.Index, depth: int) -> Any:
    if not plain_key(index.name):
        return NOT_KEPT
    name = encoder.node(index.name, depth + 1)
    if type(index) is pd.RangeIndex:
        return {
            "$": "range",
            "start": index.start,
            "stop": index.stop,
            "step": index.step,
            "name": name,
        }
    if type(index) is not pd.Index:
        return NOT_KEPT  # MultiIndex, DatetimeIndex, CategoricalIndex, ...: fingerprinted
    values = column_node(encoder, pd.Series(index, copy=False), depth)
    return NOT_KEPT if values is NOT_KEPT else {"$": "index", "values": values, "name": name}


def column_node(encoder: Any, column: pd.Series, depth: int) -> Any:
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        return encoder.array(column.to_numpy(), depth)
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "python":
        items = [item if isinstance(item, str) else None for item in column]
        return {"$": "strings", "na": "NA" if dtype.na_value is pd.NA else "nan", "items": items}
    if isinstance(dtype, pd.CategoricalDtype):
        categories = index_node(encoder, dtype.categories, depth)
        codes = encoder.array(np.asarray(column.cat.codes), depth)
        if categories is NOT_KEPT or codes is NOT_KEPT:
            return NOT_KEPT
        return {
            "$": "categorical",
            "codes": codes,
            "categories": categories,
            "ordered": bool(dtype.ordered),
        }
    return NOT_KEPT


def pandas_value(decoder: Any, tag: str, node: dict[str, Any]) -> Any:
    """A pandas object from its node (`decoder` reads values, arrays and chunks)."""
    if tag == "range":
        return pd.RangeIndex(
            int(node["start"]),
            int(node["stop"]),
            int(node["step"]),
            name=decoder.value(node["name"]),
        )
    if tag == "index":
        values, dtype = column_value(decoder, node["values"])
        return pd.Index(values, dtype=dtype, name=decoder.value(node["name"]))
    if tag == "series":
        values, dtype = column_value(decoder, node["values"])
        return pd.Series(
            values,
            dtype=dtype,
            index=decoder.value(node["index"]),
            name=decoder.value(node["name"]),
            copy=False,
        )
    if tag == "frame":
        index = decoder.value(node["index"])
        columns = [column_value(decoder, column) for column in as_list(node["data"])]
        frame = pd.DataFrame(
            {i: pd.Series(v, dtype=d, copy=False) for i, (v, d) in enumerate(columns)},
            index=pd.RangeIndex(len(index)),
        )
        frame.index = index
        frame.columns = decoder.value(node["columns"])
        return frame
    raise ValueError(f"unknown node {tag!r} in the outputs tree")


def column_value(decoder: Any, node: Any) -> tuple[Any, Any]:
    """A column's values and the dtype to build it with."""
    tag = node["$"] if isinstance(node, dict) else None
    if tag == "strings":
        na = pd.NA if node["na"] == "NA" else np.nan
        dtype: Any = pd.StringDtype("python", na_value=na)
        items = [na if item is None else str(item) for item in as_list(node["items"])]
        return pd.array(items, dtype=dtype), dtype
    if tag == "categorical":
        codes = decoder.value(node["codes"])
        categories = decoder.value(node["categories"])
        values = pd.Categorical.from_codes(
            codes, categories=categories, ordered=bool(node["ordered"])
        )
        return values, values.dtype
    if tag in ("ndarray", "objarray"):
        values = decoder.value(node)
        return values, values.dtype
    raise ValueError(f"unexpected column node {tag!r}")
