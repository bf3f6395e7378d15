"""PostgreSQL's text COPY format, for tables with free text and jsonb (media_items)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def text_field(value: str | None) -> str:
    return NULL if value is None else value.translate(_ESCAPES)


def json_field(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_ESCAPES)


def timestamps(unix_seconds: np.ndarray) -> list[str]:
    """ISO 8601 UTC instants, as the timestamptz input accepts them."""
    return [f"{s}Z" for s in np.datetime_as_string(unix_seconds.astype("datetime64[s]"), unit="s").tolist()]


def encode_lines(rows: Iterable[Sequence[str]]) -> bytes:
    """Rows of already-escaped fields (see ``text_field``) as COPY text lines."""
    return "".join("\t".join(row) + "\n" for row in rows).encode("utf-8")
