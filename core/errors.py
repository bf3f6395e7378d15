"""Expected failures, and what a user sees of the unexpected ones.

``UserFacingError(reason)`` marks a failure whose reason is safe to show as it
is: an unknown id, a refused request, a tool's wrong argument, a setting to fix.
Anything else is a bug or an outage: the one boundary that catches it logs its
traceback and the user gets ``APOLOGY``, never the exception's text (for an LLM
bot that text can carry a prompt, a query or a secret).
"""

from __future__ import annotations

APOLOGY = "Sorry, something went wrong on my side. It's logged; please try again in a moment."


class UserFacingError(Exception):
    """An expected failure; ``reason`` is one sentence that is safe to show to whoever caused it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
