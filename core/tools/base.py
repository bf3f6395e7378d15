"""What a tool is, what it returns, and how it fails.

A tool is one async function with its parameter model, its SQL and its scope
rule together. Engines never touch tables: they list the catalogue, pick a
tool and its arguments, and read the ``ToolResult``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import asyncpg
from pydantic import BaseModel

from core.errors import UserFacingError
from core.scope import Mode, Scope

P = TypeVar("P", bound=BaseModel)


class ToolError(UserFacingError):
    """An expected failure of a tool; the reason is safe to show to the asker (and to the model)."""


class ToolInputError(ToolError):
    """The arguments did not validate against the tool's parameter model."""


class ToolNotAllowed(ToolError):
    """The tool is not available in the asker's mode."""


class UnknownTool(ToolError):
    """No tool has that name."""


@dataclass
class Coverage:
    """What a result relied on and where the data was thin.

    ``tables_used`` names tables and columns (``media_items.file_size_bytes``);
    ``gaps`` are plain sentences about missing data, e.g. "file_size_bytes is
    NULL for 80% of media_items"; ``missing_tables`` names the tables/columns
    that would have made the answer better (for the learning queue).
    """

    tables_used: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)


@dataclass
class ToolResult:
    # Which tool answered, with which (validated) parameters: ``run_tool`` stamps these on the result,
    # so a tool's ``run`` only says what it found.
    tool: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    # Scalar facts about the whole result (totals, averages, the period used).
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Nothing was found: no rows, and no non-zero figure anywhere in the summary.

        The period and other labels of what was asked are not findings, so a
        ``watch_time`` of zero sessions in a named week is empty.
        """
        return not self.rows and not _has_figures(self.summary)


def _has_figures(value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return False
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, dict):
        # The period is a label of what was asked, not something found; the window before it is
        # there to compare with, not an answer to the question.
        return any(_has_figures(v) for k, v in value.items() if k not in ("period", "previous"))
    if isinstance(value, list | tuple):
        return any(_has_figures(v) for v in value)
    return True


@dataclass(frozen=True)
class Tool(Generic[P]):
    name: str
    description: str  # written for an LLM: what it answers, when to use it
    params: type[P]
    modes: frozenset[Mode]
    question_type: str  # 'recommendation', 'analytics', 'requests', 'health', ...
    run: Callable[[asyncpg.Connection, Scope, P], Awaitable[ToolResult]]
    # Renders a result as clear sentences for the offline engine.
    render: Callable[[ToolResult], str]
    # How people ask for it (the spec's wording first); shown to askers as examples, and the offline
    # router learns from these.
    examples: tuple[str, ...] = ()
    # More ways people ask (synonyms, everyday wording): the offline router learns from these too,
    # but they are never shown as examples.
    phrasings: tuple[str, ...] = ()
    # About series only: a question that names movies is a poorer match ("how many movies are left
    # for me" is not "how many episodes are left").
    series_only: bool = False
    # How the offline router reaches it besides its question shapes (``core.engines.offline.cues``):
    # "words" scores it on its examples like any tool; "cue_first" scores it a little lower, so a tool
    # made for the words wins a close call; "cue_only" never by words (a title question without a
    # title cannot be about one).
    routing: Literal["words", "cue_first", "cue_only"] = "words"
