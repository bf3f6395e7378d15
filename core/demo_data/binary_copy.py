"""PostgreSQL's binary COPY format, encoded from numpy columns without a Python loop per row.

Every supported type has a fixed width, so rows that share the same pattern of
NULLs share one layout: they are packed as one numpy structured array. A
column's NULL is the field length -1 with no data.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["uuid", "int4", "int8", "timestamptz", "tenths"]

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)

# Seconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC).
PG_EPOCH_UNIX_SECONDS = 946_684_800

_DATA_DTYPES: dict[Kind, np.dtype] = {
    "uuid": np.dtype((">u8", (2,))),
    "int4": np.dtype(">i4"),
    "int8": np.dtype(">i8"),
    "timestamptz": np.dtype(">i8"),
    # numeric with one decimal as (ndigits=2, weight=0, sign=+, dscale=1, integer part, fraction * 1000);
    # the server strips the zero digits, so 100.0 and 0.0 are stored canonically.
    "tenths": np.dtype((">i2", (6,))),
}


@dataclass(frozen=True)
class Column:
    """One column to copy.

    ``values`` by kind: uuid → (n, 2) uint64 (see ``randomness.uuid_words``); int4/int8 →
    integers; timestamptz → int64 Unix seconds; tenths → integers counting tenths
    (a numeric with one decimal, 0 ≤ value < 10,000). ``null``: True where the value is NULL.
    """

    name: str
    kind: Kind
    values: np.ndarray
    null: np.ndarray | None = None


def _encoded_values(column: Column, rows: np.ndarray) -> np.ndarray:
    values = column.values[rows]
    if column.kind == "timestamptz":
        return (values.astype(np.int64) - PG_EPOCH_UNIX_SECONDS) * 1_000_000
    if column.kind == "tenths":
        tenths = values.astype(np.int64)
        if tenths.size and (tenths.min() < 0 or tenths.max() >= 100_000):
            raise ValueError(f"{column.name}: tenths out of range")
        encoded = np.zeros((len(tenths), 6), dtype=np.int64)
        encoded[:, 0] = 2
        encoded[:, 3] = 1
        encoded[:, 4] = tenths // 10
        encoded[:, 5] = (tenths % 10) * 1000
        return encoded
    return values


def encode_rows(columns: list[Column]) -> bytes:
    """The tuples of a binary COPY stream (without header and trailer), in the order of the values."""
    count = len(columns[0].values)
    if any(len(c.values) != count for c in columns):
        raise ValueError("columns differ in length")
    if count == 0:
        return b""
    # One bit per nullable column; rows with the same bits share a layout.
    pattern = np.zeros(count, dtype=np.int64)
    for position, column in enumerate(columns):
        if column.null is not None:
            pattern |= column.null.astype(np.int64) << position
    codes = np.unique(pattern)
    if len(codes) == 1:
        return _pack(columns, int(codes[0]), np.arange(count)).tobytes()
    # Several layouts: pack each, then put every row back in its place (row order is kept so that
    # rows written in index order stay in that order on disk).
    groups = [
        (np.flatnonzero(pattern == code), _pack(columns, int(code), np.flatnonzero(pattern == code)))
        for code in codes.tolist()
    ]
    lengths = np.empty(count, dtype=np.int64)
    for rows, packed in groups:
        lengths[rows] = packed.dtype.itemsize
    offsets = np.cumsum(lengths) - lengths
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    for rows, packed in groups:
        width = packed.dtype.itemsize
        matrix = packed.view(np.uint8).reshape(len(rows), width)
        for start in range(0, len(rows), _SCATTER_BATCH):
            batch = slice(start, start + _SCATTER_BATCH)
            out[offsets[rows[batch], None] + np.arange(width)] = matrix[batch]
    return out.tobytes()


_SCATTER_BATCH = 32_768


def _pack(columns: list[Column], code: int, rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` (all with NULL pattern ``code``) as one structured array in COPY layout."""
    fields: list[tuple[str, np.dtype]] = [("count", np.dtype(">i2"))]
    present: list[tuple[int, Column]] = []
    for position, column in enumerate(columns):
        fields.append((f"len{position}", np.dtype(">i4")))
        if not (code >> position) & 1:
            fields.append((f"val{position}", _DATA_DTYPES[column.kind]))
            present.append((position, column))
    packed = np.empty(len(rows), dtype=np.dtype(fields))
    packed["count"] = len(columns)
    for position in range(len(columns)):
        packed[f"len{position}"] = -1
    for position, column in present:
        packed[f"len{position}"] = _DATA_DTYPES[column.kind].itemsize
        packed[f"val{position}"] = _encoded_values(column, rows)
    return packed
