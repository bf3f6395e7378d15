"""Turning database records into plain, JSON-ready rows for engines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo


def plain_value(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 3)
    return value


def plain_rows(records: Iterable[Mapping[str, Any]], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Rows with datetimes in the asker's time zone, decimals as floats and ids as strings."""
    return [{key: plain_value(value, tz) for key, value in record.items()} for record in records]
