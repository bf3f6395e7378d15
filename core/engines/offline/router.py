"""Which tool a question is for, and with which parameters.

Every tool brings examples of how people ask for it (the spec's wording first)
and more phrasings (``Tool.examples``, ``Tool.phrasings``). All of them are reduced to canonical
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
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz, process

from core.engines.offline.cues import find_cue
from core.engines.offline.date_ranges import DateRange, DateRangeParser
from core.engines.offline.descriptions import asks_for_description, described_kind, is_description
from core.engines.offline.out_of_domain import OutOfDomain, out_of_domain
from core.engines.offline.spelling import normalise
from core.engines.offline.titles import TitleMention, find_title
from core.engines.offline.vocabulary import HEAVY, STOPWORDS, WORDS, canonical_tokens
from core.scope import Mode
from core.tools.base import Tool

# Below this score a question is not mapped to any tool ("I can't answer that yet").
MIN_SCORE = 0.46
# An unknown word this close to a known one (rapidfuzz ratio) is read as that word: "abandonned".
TYPO_SIMILARITY = 86
# A tool of the asker's mode wins over a better-scoring tool of the other mode within this distance.
# Narrow in personal mode: an admin question there gets an honest refusal, not a personal tool that
# only looks similar; wider in admin mode, where admins also ask in their own words about the server.
MODE_WINDOW: dict[str, float] = {"personal": 0.03, "admin": 0.12}
# A question about people ("who", "which users") is a poorer match for an example about things, and
# the other way round.
PEOPLE_WORDS = frozenset({"who", "whose", "user"})
PEOPLE_MISMATCH = 0.87
# Likewise a question about "me"/"my" and an example that is not (and the other way round).
SELF_MISMATCH = 0.93
# Tools about series only (``Tool.series_only``) are a poorer match for a question that names movies.
MOVIE_MISMATCH = 0.8
# "comedies I haven't seen": a tool nearly as close that can filter by the genre the question names
# answers it better than the closest one, which would have to leave the genre out.
GENRE_WINDOW = 0.15
# A member who asks the server-wide version of a question gets the version members may see
# (anonymous, small groups left out) instead of a refusal: "what is everyone watching this week".
MEMBER_COUNTERPARTS: dict[str, str] = {"popular_content": "trending"}
# And the other way round: an admin asking what is trending wants the named, server-wide version.
ADMIN_COUNTERPARTS: dict[str, str] = {"trending": "popular_content"}
SECOND_EXAMPLE_WEIGHT = 0.1
# Weight of the fuzzy string similarity next to the weighted word overlap.
FUZZY_WEIGHT = 0.25

GENRES = (
    "action", "adventure", "animation", "anime", "biography", "comedy", "crime", "documentary", "drama",
    "family", "fantasy", "historical", "horror", "musical", "music", "mystery", "romance", "sci-fi",
    "science fiction", "sport", "thriller", "war", "western", "reality", "kids",
)  # fmt: skip
_GENRE_CANONICAL = {
    "historical": "History",
    "science fiction": "Science Fiction",
    "sci-fi": "Science Fiction",
    "sci fi": "Science Fiction",
}
_GENRE_PATTERN = re.compile(
    r"\b("
    + "|".join(re.escape(g) for g in sorted(GENRES, key=len, reverse=True))
    + r"|sci fi|scifi|comedie|documentarie|biographie)s?\b"
)
_MOVIE = re.compile(r"\b(movies?|films?|flicks?|cinema)\b")
_SHOW = re.compile(r"\b(shows?|series|tv|seasons?|episodes?|sitcoms?)\b")
_INTEGRATION = re.compile(r"\b(plex|jellyfin|tautulli|overseerr|jellyseerr|sonarr|radarr)\b")
_NUMBER = re.compile(
    r"\b(?:top|best|first|last)?\s*(\d{1,3})\b(?!\s*(?:days?|weeks?|months?|years?|%|am|pm))"
)
_TOP_WORD = re.compile(r"\btop\s+(three|five|ten|twenty)\b")
_WORD_NUMBERS = {"three": 3, "five": 5, "ten": 10, "twenty": 20}
_STATUS = {
    "pending": "pending", "waiting": "pending", "outstanding": "pending", "open": "pending",
    "approved": "approved", "accepted": "approved", "declined": "declined", "rejected": "declined",
    "denied": "declined", "refused": "declined", "turned down": "declined", "available": "available",
    "fulfilled": "available", "failed": "failed", "need approval": "pending", "needs approval": "pending",
    "awaiting approval": "pending", "unapproved": "pending", "not approved": "pending",
    "still need approval": "pending", "to approve": "pending",
}  # fmt: skip
_STATUS_PATTERN = re.compile(r"\b(" + "|".join(sorted(_STATUS, key=len, reverse=True)) + r")\b")
_USERNAME_PATTERNS = (
    re.compile(
        r"\b(?P<name>[a-z0-9_.-]{2,32})'s\s+(?:viewing|watch|history|activity|plays|stats|shows|movies)"
    ),
    re.compile(
        r"\b(?:has|did|is|does|was)\s+(?:user\s+)?(?P<name>[a-z0-9_.-]{2,32})\s+(?:been\s+)?(?:watch|view|play|stream|see)"
    ),
    re.compile(r"\b(?:user|member)\s+(?P<name>[a-z0-9_.-]{2,32})\b"),
)
_NOT_A_USERNAME = frozenset(
    "i me my you your we our they them he she it everyone everybody anyone anybody someone somebody people "
    "users user members member others other the a an this that what who which most least each every all "
    "content server library plex admin admins my own nobody noone never ever already just still really also "
    "been being not even actually right now today tonight yesterday this last next with on in at for from that "
    "here there and or count list ever".split()
)
_DAYS = re.compile(r"\b(\d{1,4})\s*(day|week|month)s?\b")

# Examples are read against a fixed clock: only which words are time words matters there.
_EXAMPLE_CLOCK = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


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
    # A server username the question names ("what has alice been watching"): a tool argument only,
    # never an identity; the scope comes from the caller and the tool applies its own privacy rule.
    username: str | None = None
    # What is measured or asked for, when the question's shape says it ("how many users" -> "users").
    measure: str | None = None


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
    # Set for a question plainly outside the media server (weather, maths, small talk).
    out_of_domain: OutOfDomain | None = None
    # The question's shape named the tool outright ("did I finish X", "how many users").
    by_cue: bool = False
    # Words read as something else: a misspelt member name, for an admin ("alcie" -> "alice").
    corrected: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Example:
    tool_name: str
    text: str
    tokens: Counter[str]
    joined: str
    weight: float
    about_people: bool
    about_self: bool


# "altogether", "ever", "since I joined": the whole history, for tools that take a period.
_ALL_TIME = re.compile(
    r"\b(?:altogether|all[- ]time|of\s+all\s+time|in\s+total|overall|ever|since\s+i\s+joined|since\s+the\s+"
    r"(?:beginning|start)|in\s+all\s+my\s+life|lifetime|since\s+forever|from\s+the\s+start)\b",
    re.IGNORECASE,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# "this week" asked on a Monday is an almost empty calendar window: people mean the last seven days.
_YOUNG_WINDOW = re.compile(r"^(?:in\s+|for\s+|during\s+)?this\s+(week|month|year)$", re.IGNORECASE)
_ROLLING_DAYS = {"week": 7, "month": 30, "year": 365}
# "am I watching more than last month?", "do I watch less than I used to": the asker's own watch time
# over the last week/month/year, which watch_time compares with the same span just before it.
_WATCHING_COMPARED = re.compile(
    r"\bwatch\w*\b.*\b(?:more|less|fewer)\b.*\bthan\s+(?:(?:the\s+)?(?:last|previous|past|prior)\s+"
    r"(?P<unit>week|month|year)|usual|normal|before|i\s+used\s+to|earlier)\b",
    re.IGNORECASE,
)
WATCH_TIME_TOOL = "watch_time"
CUE_SCORE = 0.8
MAX_UNDERSTOOD_CHARS = 300
# Tools reached mainly through their question's shape (``Tool.routing == "cue_first"``) score this much
# of their word score, so a tool made for the words wins a close call.
# Semantic search is reached only through the shape of a description ("something like a slow-burn heist").
SEARCH_TOOL = "search_library"
CUE_TOOLS_SCORE = 0.85


def _all_time(now: datetime, phrase: str) -> DateRange:
    return DateRange(_EPOCH.astimezone(now.tzinfo), now, phrase, "all time")


def _widen_young_window(period: DateRange, now: datetime) -> DateRange:
    """'this week' on a Monday / 'this month' on the 1st / 'this year' on 1 January: the last 7/30/365 days."""
    match = _YOUNG_WINDOW.match(period.phrase.strip())
    if match is None or period.start.date() != now.date():
        return period
    unit = match.group(1).lower()
    days = _ROLLING_DAYS[unit]
    start = datetime.combine(now.date() - timedelta(days=days), time.min, now.tzinfo)
    label = (
        f"the last {days} days ({start.day} {start:%b %Y} – {now.day} {now:%b %Y}), "
        f"since this {unit} has only just begun"
    )
    return DateRange(start, now, period.phrase, label)


class Router:
    def __init__(self, tools: Iterable[Tool[Any]], dates: DateRangeParser) -> None:
        self.tools: dict[str, Tool[Any]] = {tool.name: tool for tool in tools}
        self.dates = dates
        raw: list[tuple[str, str]] = []
        for tool in self.tools.values():
            if tool.routing == "cue_only":
                continue
            for text in (*tool.examples, *tool.phrasings):
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
            _Example(
                name,
                text,
                Counter(tokens),
                " ".join(sorted(tokens)),
                self._weight(Counter(tokens)),
                bool(PEOPLE_WORDS & set(tokens)),
                "self" in tokens,
            )
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
            period = _widen_young_window(period, now)
            rest = re.sub(re.escape(period.phrase), " ", rest, count=1, flags=re.IGNORECASE)
            # "over Christmas last year": the second time phrase only refines the first; drop its words too.
            again = self.dates.find(rest, now)
            if again is not None:
                rest = re.sub(re.escape(again.phrase), " ", rest, count=1, flags=re.IGNORECASE)
        else:
            whole = _ALL_TIME.search(rest)
            if whole is not None:
                period = _all_time(now, whole.group(0))
                rest = rest[: whole.start()] + " " + rest[whole.end() :]
        lowered = rest.lower()
        # "show me ..." is a verb, not TV.
        kinds = re.sub(r"\bshow\s+(?:me|us|my|the|all|what)\b", " ", lowered)
        media_type = None
        if _MOVIE.search(kinds) and not _SHOW.search(kinds):
            media_type = "movie"
        elif _SHOW.search(kinds) and not _MOVIE.search(kinds):
            media_type = "show"
        genre_match = _GENRE_PATTERN.search(lowered)
        genre = None
        if genre_match:
            word = genre_match.group(1)
            word = {"comedie": "comedy", "documentarie": "documentary", "biographie": "biography"}.get(
                word, word
            )
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
        username = None
        for pattern in _USERNAME_PATTERNS:
            user_match = pattern.search(lowered.replace("’", "'"))
            name = user_match.group("name") if user_match else ""
            # A word the router knows ("watches", "makes") is a verb or noun of the question, not a name.
            known = name in WORDS or name in STOPWORDS
            if user_match and name not in _NOT_A_USERNAME and not known:
                username = name
                break
        found = Slots(
            period=period,
            title=title,
            media_type=media_type,
            genre=genre,
            limit=limit,
            integration=integration_match.group(1) if integration_match else None,
            days=days,
            status=_STATUS[status_match.group(1)] if status_match else None,
            username=username,
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
        asks_about_people = bool(PEOPLE_WORDS & question.keys())
        asks_about_self = "self" in question
        scores: dict[str, list[tuple[float, str]]] = {}
        for example in self._examples:
            shared = question & example.tokens
            if not shared:
                continue
            overlap = 2 * self._weight(shared) / (question_weight + example.weight)
            fuzzy = fuzz.token_sort_ratio(joined, example.joined) / 100
            value = (1 - FUZZY_WEIGHT) * overlap + FUZZY_WEIGHT * fuzzy
            if asks_about_people != example.about_people:
                value *= PEOPLE_MISMATCH
            if asks_about_self != example.about_self:
                value *= SELF_MISMATCH
            scores.setdefault(example.tool_name, []).append((value, example.text))
        best: dict[str, Candidate] = {}
        for name, values in scores.items():
            values.sort(reverse=True)
            # Mostly the best example; a second good one breaks ties between tools.
            second = values[1][0] if len(values) > 1 else 0.0
            combined = (1 - SECOND_EXAMPLE_WEIGHT) * values[0][0] + SECOND_EXAMPLE_WEIGHT * second
            if self.tools[name].routing == "cue_first":
                combined *= CUE_TOOLS_SCORE
            best[name] = Candidate(self.tools[name], combined, values[0][1])
        return sorted(best.values(), key=lambda c: c.score, reverse=True)

    # -- routing ------------------------------------------------------------------------------
    def route(self, question: str, mode: Mode, now: datetime) -> Route:
        # Questions are a sentence or two; a pasted essay is read in its opening words, so hostile input
        # cannot make the patterns below cost more than a few milliseconds.
        question = normalise(question[:MAX_UNDERSTOOD_CHARS])
        found, rest = self.slots(question, now)
        shape = question
        if found.period is not None:
            shape = re.sub(re.escape(found.period.phrase), " ", shape, count=1, flags=re.IGNORECASE)
        search = self.tools.get(SEARCH_TOOL)
        if search is not None and found.title is not None and is_description(found.title.title):
            # "something like a slow-burn heist film": a description to search the library with, not a title.
            described_as = described_kind(found.title.title) or found.media_type
            return self._decided(search, replace(found, media_type=described_as), mode, found.title.title)
        described = asks_for_description(question) if search is not None and found.title is None else None
        if search is not None and described is not None:
            # "find me a movie about time travel"
            described_as = described_kind(described) or found.media_type
            mention = TitleMention(described, rest)
            return self._decided(
                search, replace(found, title=mention, media_type=described_as), mode, described
            )
        compared = _WATCHING_COMPARED.search(question) if mode == "personal" else None
        if compared is not None and WATCH_TIME_TOOL in self.tools:
            days = _ROLLING_DAYS[(compared.group("unit") or "month").lower()]
            recent = DateRange(now - timedelta(days=days), now, compared.group(0), f"the last {days} days")
            return self._decided(
                self.tools[WATCH_TIME_TOOL], replace(found, period=recent), mode, compared.group(0)
            )
        cue = find_cue(shape)
        if cue is not None and mode == "personal" and cue.params.get("measure") == "requests":
            # A member counting requests means their own ("how many requests are pending"), not the server's.
            cue = None
        if cue is not None and cue.tool in self.tools:
            title = TitleMention(cue.title, rest) if cue.title else None
            return self._decided(
                self.tools[cue.tool], replace(found, title=title, **cue.params), mode, cue.phrase
            )
        if found.title is None:
            away = out_of_domain(question)
            if away is not None:
                return Route("unsupported", slots=found, out_of_domain=away)
        candidates = self.score(rest)
        if found.media_type == "movie":
            for candidate in candidates:
                if candidate.tool.series_only:
                    candidate.score *= MOVIE_MISMATCH
            candidates.sort(key=lambda c: c.score, reverse=True)
        if not candidates or candidates[0].score < MIN_SCORE:
            return Route("unsupported", slots=found, candidates=candidates[:3],
                         score=candidates[0].score if candidates else 0.0)  # fmt: skip
        top = candidates[0]
        if found.username is not None and "username" not in top.tool.params.model_fields:
            # "what is user erin watching": a question about a named member, whatever its other words.
            about_member = next((t for t in self.tools.values() if "username" in t.params.model_fields), None)
            if about_member is not None and mode not in about_member.modes:
                return Route("needs_admin", tool=about_member, score=top.score, example=top.example, slots=found,
                             candidates=candidates[:3])  # fmt: skip
            if about_member is not None:
                top = Candidate(about_member, top.score, top.example)
                candidates.insert(0, top)
        allowed = [c for c in candidates if mode in c.tool.modes]
        # A tool of the asker's mode that scores nearly as well is what they meant.
        if mode not in top.tool.modes:
            close = [c for c in allowed if c.score >= top.score - MODE_WINDOW[mode]]
            counterpart = self.tools.get(MEMBER_COUNTERPARTS.get(top.tool.name, ""))
            if top.tool.name == "admin_counts" and re.search(r"\brequest", rest, re.IGNORECASE):
                # "how many requests are pending", asked by a member: their own requests.
                counterpart = self.tools.get("my_requests")
            if not close and counterpart is not None and mode in counterpart.modes:
                close = [Candidate(counterpart, top.score, top.example)]
            if not close:
                kind: Literal["needs_admin", "needs_personal"] = (
                    "needs_admin" if mode == "personal" else "needs_personal"
                )
                return Route(kind, tool=top.tool, score=top.score, example=top.example, slots=found,
                             candidates=candidates[:3])  # fmt: skip
            top = close[0]
        if mode == "admin" and top.tool.name in ADMIN_COUNTERPARTS:
            better = next((c for c in allowed if c.tool.name == ADMIN_COUNTERPARTS[top.tool.name]), None)
            if better is not None and better.score >= top.score - MODE_WINDOW[mode]:
                top = Candidate(better.tool, top.score, top.example)
        if found.genre is not None and "genre" not in top.tool.params.model_fields:
            takes_genre = next((c for c in allowed if "genre" in c.tool.params.model_fields), None)
            if takes_genre is not None and takes_genre.score >= top.score - GENRE_WINDOW:
                top = Candidate(takes_genre.tool, top.score, top.example)
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

    def _decided(self, tool: Tool[Any], found: Slots, mode: Mode, phrase: str) -> Route:
        """The route for a question whose shape named its tool."""
        if mode not in tool.modes:
            kind: Literal["needs_admin", "needs_personal"] = (
                "needs_admin" if mode == "personal" else "needs_personal"
            )
            return Route(kind, tool=tool, score=CUE_SCORE, example=phrase, slots=found, by_cue=True)
        if found.title is not None and "media_type" not in tool.params.model_fields:
            # "episodes of The Office", "the movie Heat": the kind describes the title, it filters nothing.
            found = replace(found, media_type=None)
        params, dropped, missing = self.parameters(tool, found)
        return Route(
            "tool",
            tool=tool,
            params=params,
            score=CUE_SCORE,
            margin=1.0,
            example=phrase,
            slots=found,
            dropped=dropped,
            missing_required=missing,
            by_cue=True,
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
            elif found.period.label != "all time":
                # "ever"/"in total" asks for no narrower window: a tool without a period already covers it.
                dropped.append(f"the period ({found.period.label})")
        if found.title is not None:
            offer(
                ("title", "like_title", "similar_to", "show_title", "query"), found.title.title, "the title"
            )
        if found.media_type is not None:
            offer(("media_type", "kind"), found.media_type, f"only {found.media_type}s")
        if found.genre is not None:
            offer(("genre",), found.genre, f"the genre ({found.genre})")
        if found.limit is not None and found.limit > 0:
            if any(n in fields for n in ("limit", "top", "count")):
                offer(("limit", "top", "count"), found.limit, "the number")
        if found.integration is not None:
            names = [n for n in ("integration", "service", "source") if n in fields]
            if names:
                offer(names, found.integration, "the integration")
        if found.username is not None and "username" in fields:
            params["username"] = found.username
        if found.status is not None and "status" in fields:
            params["status"] = found.status
        if found.measure is not None and "measure" in fields:
            params["measure"] = found.measure
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
