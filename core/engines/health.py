"""What ``marquee health`` and ``/health`` say about the model engine: figures kept in memory.

One ``EngineHealth`` per engine in the process: where it talks to (the endpoint
without credentials), when a call last succeeded, errors by kind, the median
latency of recent calls, and a problem that needs the operator (a server that
cannot call tools) with what to change.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

LATENCY_WINDOW = 200


def public_endpoint(url: str | None) -> str | None:
    """The URL without user, password, query or fragment: nothing secret goes to a health page."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def engine_status(engine: object, fallback: object | None = None) -> dict[str, Any]:
    """What ``/health`` shows of the answer engine: its figures, or just its name for the offline engine."""
    health = getattr(engine, "health", None)
    status = (
        health.as_dict() if isinstance(health, EngineHealth) else {"engine": getattr(engine, "name", "?")}
    )
    status["fallback"] = getattr(fallback, "name", None)
    return status


@dataclass
class EngineHealth:
    engine: str
    model: str | None = None
    endpoint: str | None = None
    last_success_at: datetime | None = None
    errors: Counter[str] = field(default_factory=Counter)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    tool_calling_problem: str | None = None
    _problem_since: float | None = None

    def __post_init__(self) -> None:
        self.endpoint = public_endpoint(self.endpoint)

    def record_success(self, seconds: float) -> None:
        self.last_success_at = datetime.now(UTC)
        self.latencies.append(seconds)
        self.tool_calling_problem = None
        self._problem_since = None

    def record_error(self, kind: str) -> None:
        self.errors[kind] += 1

    def report_tool_calling_problem(self, problem: str) -> bool:
        """Remember the problem; True the first time (the caller logs it once)."""
        first = self.tool_calling_problem is None
        self.tool_calling_problem = problem
        self._problem_since = time.monotonic()
        return first

    def due_for_recheck(self, after_seconds: float) -> bool:
        """True when the last tool-calling failure is old enough to try the server again."""
        return self._problem_since is None or time.monotonic() - self._problem_since >= after_seconds

    @property
    def median_latency_ms(self) -> float | None:
        return round(statistics.median(self.latencies) * 1000, 1) if self.latencies else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "model": self.model,
            "endpoint": self.endpoint,
            "last_success_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "errors": dict(self.errors),
            "median_latency_ms": self.median_latency_ms,
            "tool_calling_problem": self.tool_calling_problem,
        }
