"""Which requests earn a row in ``api_logs``: the authenticated ones.

Anyone can send an unauthenticated request, and a row each would let a flood grow the
database; those are only counted in ``/metrics``. A handler that has authenticated its
caller (a webhook's secret, an admin's page session) marks the request, and the server's
logging middleware reads the mark after the handler, in the same task.
"""

from __future__ import annotations

import contextvars

_AUTHENTICATED: contextvars.ContextVar[bool] = contextvars.ContextVar("marquee_authenticated", default=False)


def reset() -> None:
    _AUTHENTICATED.set(False)


def mark_authenticated() -> None:
    _AUTHENTICATED.set(True)


def is_authenticated() -> bool:
    return _AUTHENTICATED.get()
