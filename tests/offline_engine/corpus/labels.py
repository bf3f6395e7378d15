"""The shape of one labelled question.

``tool`` is the tool the question needs, or ``None`` when no tool can answer it
(out of domain or no data for it): then the right answer is an honest "I can't",
with a confidence of at most 0.3. ``needs_admin`` marks a member asking an admin-only
question: the right answer is the refusal.

``slots`` name what the question says and the tool must honour, as parameter names:
``title`` (compared fuzzily, case aside), ``period`` (``"set"`` = a start/end is set,
``"all_time"`` = the whole history, ``"none"`` = not set), ``media_type``,
``username``, ``status``, ``measure`` and any other parameter name with its value.

``history`` is the earlier user questions of the same conversation, oldest first:
the question is a follow-up and is understood with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.scope import Mode

UNANSWERABLE = None
NEEDS_ADMIN = "needs_admin"


@dataclass(frozen=True)
class Labelled:
    mode: Mode
    question: str
    tool: str | None
    slots: dict[str, Any] = field(default_factory=dict)
    history: tuple[str, ...] = ()


def q(mode: Mode, question: str, tool: str | None, history: tuple[str, ...] = (), **slots: Any) -> Labelled:
    return Labelled(mode, question, tool, dict(slots), history)
