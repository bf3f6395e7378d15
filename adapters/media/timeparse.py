"""Times as the services write them: Unix seconds, ISO 8601 with or without 'Z', .NET's 7-digit fractions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FRACTION = re.compile(r"\.(\d{6})\d+")


def from_unix(value: int | float | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def from_iso(value: str | None) -> datetime | None:
    """Parse an ISO 8601 time; a time without zone is UTC; '0001-01-01' (.NET's 'never') is None."""
    if not value:
        return None
    text = _FRACTION.sub(r".\1", value.strip().replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.year <= 1:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
