"""Which tool a question is for, and with which parameters.

Every tool brings examples of how people ask for it (the spec's wording first);
this module adds more phrasings per tool. All of them are reduced to canonical
words once, at construction (``vocabulary.canonical_tokens``). A question is
reduced the same way, after its time words and title are taken out, and scored
against every example: an IDF-weighted overlap of canonical words (rare words
like "abandon" or "bandwidth" count more than "watch") blended with rapidfuzz's
token-sort similarity, which also forgives typos. The best tool wins; its score
and its lead over the runner-up become the engine's confidence.

Parameters come from the question's slots (period, title, media type, genre,
a number, an integration name), set only for fields the tool's parameter
model has, and validated by that model. Nothing here reads a user id or a
mode from the text: the scope is the caller's.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz, process

from core.engines.offline.date_ranges import DateRange, DateRangeParser
from core.engines.offline.titles import TitleMention, find_title
from core.engines.offline.vocabulary import HEAVY, canonical_tokens
from core.scope import Mode
from core.tools.base import Tool

# Below this score a question is not mapped to any tool ("I can't answer that yet").
MIN_SCORE = 0.42
# An unknown word this close to a known one (rapidfuzz ratio) is read as that word: "abandonned".
TYPO_SIMILARITY = 86
# Weight of the fuzzy string similarity next to the weighted word overlap.
FUZZY_WEIGHT = 0.25

GENRES = (
    "action", "adventure", "animation", "anime", "biography", "comedy", "crime", "documentary", "drama",
    "family", "fantasy", "history", "horror", "musical", "music", "mystery", "romance", "sci-fi",
    "science fiction", "sport", "thriller", "war", "western", "reality", "kids",
)  # fmt: skip
_GENRE_CANONICAL = {
    "science fiction": "Science Fiction",
    "sci-fi": "Science Fiction",
    "sci fi": "Science Fiction",
}
_GENRE_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(g) for g in sorted(GENRES, key=len, reverse=True)) + r"|sci fi|scifi)s?\b"
)
_MOVIE = re.compile(r"\b(movies?|films?|flicks?|cinema)\b")
_SHOW = re.compile(r"\b(shows?|series|tv|seasons?|episodes?|sitcoms?)\b")
_INTEGRATION = re.compile(r"\b(plex|jellyfin|tautulli|overseerr|jellyseerr|sonarr|radarr)\b")
_WEBHOOK_SOURCE = {"plex", "jellyfin", "tautulli", "overseerr", "jellyseerr", "radarr", "sonarr"}
_NUMBER = re.compile(
    r"\b(?:top|best|first|last)?\s*(\d{1,3})\b(?!\s*(?:days?|weeks?|months?|years?|%|am|pm))"
)
_TOP_WORD = re.compile(r"\btop\s+(three|five|ten|twenty)\b")
_WORD_NUMBERS = {"three": 3, "five": 5, "ten": 10, "twenty": 20}
_STATUS = {
    "pending": "pending", "waiting": "pending", "outstanding": "pending", "open": "pending",
    "approved": "approved", "accepted": "approved", "declined": "declined", "rejected": "declined",
    "denied": "declined", "refused": "declined", "turned down": "declined", "available": "available",
    "fulfilled": "available", "failed": "failed",
}  # fmt: skip
_STATUS_PATTERN = re.compile(r"\b(" + "|".join(sorted(_STATUS, key=len, reverse=True)) + r")\b")
_DAYS = re.compile(r"\b(\d{1,4})\s*(day|week|month)s?\b")

# Examples are read against a fixed clock: only which words are time words matters there.
_EXAMPLE_CLOCK = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)

# Extra phrasings per tool name, beyond the tools' own examples: synonyms and
# the ways people actually ask. Unknown names are ignored, so the catalogue
# can change without breaking the router.
EXTRA_EXAMPLES: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Slots:
    """What the question says besides which tool it wants."""

    period: DateRange | None = None
    title: TitleMention | None = None
    media_type: str | None = None
    genre: str | None = None
    limit: int | None = None
    integration: str | None = None
    days: int | None = None
    status: str | None = None


@dataclass
class Candidate:
    tool: Tool[Any]
    score: float
    example: str


@dataclass
class Route:
    """The router's decision for one question."""

    kind: Literal["tool", "unsupported", "needs_admin", "needs_personal"]
    tool: Tool[Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0
    margin: float = 0.0
    example: str = ""
    slots: Slots = field(default_factory=Slots)
    # Parameters the question named but the tool could not take (e.g. a genre filter it lacks).
    dropped: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class _Example:
    tool_name: str
    text: str
    tokens: Counter[str]
    joined: str
    weight: float


class Router:
    def __init__(
        self,
        tools: Iterable[Tool[Any]],
        dates: DateRangeParser,
        extra_examples: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.tools: dict[str, Tool[Any]] = {tool.name: tool for tool in tools}
        self.dates = dates
        extra = EXTRA_EXAMPLES if extra_examples is None else extra_examples
        raw: list[tuple[str, str]] = []
        for tool in self.tools.values():
            for text in (*tool.examples, *extra.get(tool.name, ())):
                raw.append((tool.name, text))
        tokenised = [(name, text, canonical_tokens(self._strip_slots(text))) for name, text in raw]
        # IDF over tools (not examples), so a word every tool's examples use weighs little.
        tools_with: dict[str, set[str]] = {}
        for name, _text, tokens in tokenised:
            for token in tokens:
                tools_with.setdefault(token, set()).add(name)
        count = max(len(self.tools), 1)
        self._idf = {
            token: math.log(1 + count / len(names)) * HEAVY.get(token, 1.0)
            for token, names in tools_with.items()
        }
        self._unknown_idf = math.log(1 + count)
        self._examples = [
            _Example(name, text, Counter(tokens), " ".join(sorted(tokens)), self._weight(Counter(tokens)))
            for name, text, tokens in tokenised
            if tokens
        ]
        self._vocabulary = sorted(self._idf)

    # -- slots --------------------------------------------------------------------------
    def _strip_slots(self, text: str) -> str:
        """An example's text without its title and time words, stripped exactly as a question's are."""
        return self.slots(text, _EXAMPLE_CLOCK)[1]

    def slots(self, question: str, now: datetime) -> tuple[Slots, str]:
        """The slots of a question and what is left of it for intent scoring."""
        rest = question
        title = find_title(question)
        if title is not None:
            rest = title.rest
        period = self.dates.find(rest, now)
        if period is not None:
            rest = re.sub(re.escape(period.phrase), " ", rest, count=1, flags=re.IGNORECASE)
        lowered = rest.lower()
        media_type = None
        if _MOVIE.search(lowered) and not _SHOW.search(lowered):
            media_type = "movie"
        elif _SHOW.search(lowered) and not _MOVIE.search(lowered):
            media_type = "show"
        genre_match = _GENRE_PATTERN.search(lowered)
        genre = None
        if genre_match:
            word = genre_match.group(1)
            genre = _GENRE_CANONICAL.get(word.replace("scifi", "sci-fi"), word.title())
        integration_match = _INTEGRATION.search(lowered)
        limit = None
        top_word = _TOP_WORD.search(lowered)
        if top_word:
            limit = _WORD_NUMBERS[top_word.group(1)]
        else:
            number = _NUMBER.search(lowered)
            if number and not re.search(r"\b(19|20)\d\d\b", number.group(0)):
                limit = int(number.group(1))
        days_match = _DAYS.search(lowered)
        days = None
        if days_match and period is None:
            factor = {"day": 1, "week": 7, "month": 30}[days_match.group(2)]
            days = int(days_match.group(1)) * factor
        status_match = _STATUS_PATTERN.search(lowered)
        found = Slots(
            period=period,
            title=title,
            media_type=media_type,
            genre=genre,
            limit=limit,
            integration=integration_match.group(1) if integration_match else None,
            days=days,
            status=_STATUS[status_match.group(1)] if status_match else None,
        )
        return found, rest

    # -- scoring --------------------------------------------------------------------------
    def _weight(self, tokens: Counter[str]) -> float:
        return sum(self._idf.get(t, self._unknown_idf) * n for t, n in tokens.items())

    def _correct_typos(self, tokens: list[str]) -> list[str]:
        fixed = []
        for token in tokens:
            if token in self._idf or len(token) < 5 or token.isdigit():
                fixed.append(token)
                continue
            best = process.extractOne(
                token, self._vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_SIMILARITY
            )
            fixed.append(best[0] if best else token)
        return fixed

    def score(self, text: str) -> list[Candidate]:
        """Every tool's best score for this (slot-free) text, best first."""
        tokens = self._correct_typos(canonical_tokens(text))
        if not tokens:
            return []
        question = Counter(tokens)
        question_weight = self._weight(question)
        joined = " ".join(sorted(tokens))
        best: dict[str, Candidate] = {}
        for example in self._examples:
            shared = question & example.tokens
            if not shared:
                continue
            overlap = 2 * self._weight(shared) / (question_weight + example.weight)
            fuzzy = fuzz.token_sort_ratio(joined, example.joined) / 100
            value = (1 - FUZZY_WEIGHT) * overlap + FUZZY_WEIGHT * fuzzy
            current = best.get(example.tool_name)
            if current is None or value > current.score:
                best[example.tool_name] = Candidate(self.tools[example.tool_name], value, example.text)
        return sorted(best.values(), key=lambda c: c.score, reverse=True)

    # -- routing ------------------------------------------------------------------------------
    def route(self, question: str, mode: Mode, now: datetime) -> Route:
        found, rest = self.slots(question, now)
        candidates = self.score(rest)
        if not candidates or candidates[0].score < MIN_SCORE:
            return Route("unsupported", slots=found, candidates=candidates[:3],
                         score=candidates[0].score if candidates else 0.0)  # fmt: skip
        top = candidates[0]
        allowed = [c for c in candidates if mode in c.tool.modes]
        # A tool of the asker's mode that scores nearly as well is what they meant.
        if mode not in top.tool.modes:
            close = [c for c in allowed if c.score >= top.score - 0.04]
            if not close:
                kind: Literal["needs_admin", "needs_personal"] = (
                    "needs_admin" if mode == "personal" else "needs_personal"
                )
                return Route(kind, tool=top.tool, score=top.score, example=top.example, slots=found,
                             candidates=candidates[:3])  # fmt: skip
            top = close[0]
        runner_up = next((c.score for c in allowed if c.tool.name != top.tool.name), 0.0)
        params, dropped, missing = self.parameters(top.tool, found)
        return Route(
            "tool",
            tool=top.tool,
            params=params,
            score=top.score,
            margin=top.score - runner_up,
            example=top.example,
            slots=found,
            dropped=dropped,
            missing_required=missing,
            candidates=candidates[:3],
        )

    def parameters(self, tool: Tool[Any], found: Slots) -> tuple[dict[str, Any], list[str], list[str]]:
        """Arguments for ``tool`` from the slots, validated by its model; plus slots it could not take."""
        model: type[BaseModel] = tool.params
        fields = model.model_fields
        params: dict[str, Any] = {}
        dropped: list[str] = []

        def offer(names: Iterable[str], value: Any, what: str) -> None:
            for name in names:
                if name in fields:
                    params[name] = value
                    return
            dropped.append(what)

        if found.period is not None:
            if "start" in fields or "end" in fields:
                params.update({k: v for k, v in found.period.as_params().items() if k in fields})
            else:
                dropped.append(f"the period ({found.period.label})")
        if found.title is not None:
            offer(
                ("title", "like_title", "similar_to", "show_title", "query"), found.title.title, "the title"
            )
        if found.media_type is not None and any(n in fields for n in ("media_type", "kind")):
            offer(("media_type", "kind"), found.media_type, "the media type")
        if found.genre is not None:
            offer(("genre",), found.genre, f"the genre ({found.genre})")
        if found.limit is not None and found.limit > 0:
            if any(n in fields for n in ("limit", "top", "count")):
                offer(("limit", "top", "count"), found.limit, "the number")
        if found.integration is not None:
            names = [n for n in ("integration", "service", "source") if n in fields]
            if names:
                offer(names, found.integration, "the integration")
        if found.status is not None and "status" in fields:
            params["status"] = found.status
        if found.days is not None:
            day_fields = [n for n in fields if n.endswith("_days") or n == "days"]
            if day_fields:
                params[day_fields[0]] = found.days
        # Let the model decide: drop what it rejects (out of range, not one of its choices).
        for _ in range(len(params) + 1):
            try:
                model.model_validate(params)
                break
            except ValidationError as error:
                bad = {
                    str(item["loc"][0]) for item in error.errors() if item["loc"] and item["loc"][0] in params
                }
                if not bad:
                    break
                for name in bad:
                    params.pop(name, None)
                    dropped.append(name.replace("_", " "))
        missing = [name for name, info in fields.items() if info.is_required() and name not in params]
        return params, dropped, missing

    def examples_for(self, mode: Mode, count: int = 4) -> list[str]:
        """A few questions this mode can ask, one per tool, for "I can't answer that yet"."""
        picks = []
        for tool in self.tools.values():
            if mode in tool.modes and tool.examples:
                picks.append(tool.examples[0])
            if len(picks) >= count:
                break
        return picks
