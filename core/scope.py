"""Who is asking and what they may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

Mode = Literal["personal", "admin"]
Role = Literal["user", "admin"]


@dataclass(frozen=True)
class Scope:
    """The asker and the mode of one question.

    ``personal``: the asker's own rows of per-user tables, library-wide facts and
    anonymous aggregates. ``admin``: per-user totals across the server, titles a
    user watched only when they opted in, never anyone's chat history. Only an
    admin can be in admin mode.
    """

    user_id: UUID
    username: str
    role: Role
    mode: Mode
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    min_group_size: int = 2

    def __post_init__(self) -> None:
        if self.mode == "admin" and self.role != "admin":
            raise ValueError("only an admin can be in admin mode")
