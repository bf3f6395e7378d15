"""The request conversation: search → pick a number → seasons (shows) → confirm → request as the member.

Checked by the Assistant before any engine answers. The member's Overseerr
user id comes only from ``user_external_ids`` (learned by the sync, by id),
for the chat account the message came from: nothing the member types can make
Marquee request as someone else. Nothing is requested without an explicit
"yes" right after the summary; any other message drops the pending request.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeAlias
from uuid import UUID

import asyncpg

from core.answer import AnswerBuilder, Inline, Span, em, plain, strong, to_markdown
from core.chat import ChatRequest, Reply
from core.media_requests import pending as pending_store
from core.media_requests.intent import RequestIntent, request_intent
from core.media_requests.pending import PendingRequest, SeasonChoice
from core.media_requests.service import (
    PERMISSION_REQUEST_4K,
    PERMISSION_REQUEST_4K_MOVIE,
    PERMISSION_REQUEST_4K_TV,
    Match,
    Quota,
    QuotaPart,
    RequestRefused,
    RequestService,
    ServiceUnavailable,
    has_permission,
)

log = logging.getLogger(__name__)

# The pool, not a held connection: Overseerr's answers can take seconds and must not pin a
# database connection meanwhile (each statement takes one briefly).
Database: TypeAlias = asyncpg.Pool | asyncpg.Connection

DEFAULT_LIFETIME = timedelta(minutes=10)
MAX_MATCHES = 5
_YES = frozenset({"yes", "y", "yes please", "confirm", "ok", "okay", "sure", "do it", "go", "request it"})
_NO = frozenset({"no", "n", "cancel", "stop", "never mind", "nevermind", "nope", "abort"})
_NUMBER = re.compile(r"^\s*#?(\d{1,2})\s*[.)]?\s*$")
_SEASON_NUMBERS = re.compile(
    r"^(?:seasons?\s*)?(\d{1,3}(?:\s*(?:-|–|to)\s*\d{1,3})?(?:\s*(?:,|and|&|\s)\s*\d{1,3}(?:\s*(?:-|–|to)\s*\d{1,3})?)*)$",
    re.IGNORECASE,
)
_SERVICE_LABEL = {"overseerr": "Overseerr", "jellyseerr": "Jellyseerr"}


# The request as Overseerr created it, with its requester known by id (the member we requested as): an
# approval or "available" webhook arriving before the next sync then finds whom to tell. The sync's
# own upsert later brings the rest (approver, times) and wins over these values.
_RECORD_CREATED = """
INSERT INTO content_requests (title, media_type, requested_by_user_id, status, requested_at, approved_at,
                              source, source_request_id, tmdb_id)
VALUES ($1, $2, $3, $4, now(), CASE WHEN $4 = 'approved' THEN now() END, $5, $6, $7)
ON CONFLICT (source, source_request_id) WHERE source IS NOT NULL AND source_request_id IS NOT NULL DO NOTHING
"""


@dataclass(frozen=True)
class FlowConfig:
    lifetime: timedelta = DEFAULT_LIFETIME
    max_matches: int = MAX_MATCHES


def _reply(builder: AnswerBuilder, quick_replies: tuple[str, ...] = ()) -> Reply:
    answer = builder.answer()
    return Reply(to_markdown(answer), answer=answer, quick_replies=quick_replies)


def _say(*lines: str | Inline, quick_replies: tuple[str, ...] = ()) -> Reply:
    return _reply(AnswerBuilder().paragraph(*lines), quick_replies)


def _title(match: Match) -> Inline:
    year = f" ({match.year})" if match.year else ""
    return (Span(match.title, "strong"), Span(f"{year}"))


def _kind(match: Match) -> str:
    return "movie" if match.kind == "movie" else "show"


def _one_line(text: str, limit: int = 110) -> str:
    first = " ".join(text.split())
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def match_status(match: Match, asker: int) -> str | None:
    if match.availability == "available":
        return "already available"
    if match.availability == "partially_available":
        return "partially available"
    if asker in match.requested_by:
        return "already requested by you"
    if match.requested_by or match.availability in ("pending", "processing"):
        return "already requested"
    return None


def _quota_line(part: QuotaPart, kind: str) -> str | None:
    if not part.restricted and part.limit in (None, 0):
        return None
    if part.limit is None or part.remaining is None:
        return None
    days = f" every {part.days} days" if part.days else ""
    return f"You have {part.remaining} of {part.limit} {kind} requests left{days}."


def parse_seasons(text: str, available: list[int]) -> SeasonChoice | str:
    """'all', 'latest', '2', '1 3', '1-3' → the choice; otherwise a sentence saying what is expected."""
    said = text.strip().lower().rstrip(".!")
    if said in ("all", "all seasons", "every season", "everything"):
        return "all"
    if said in (
        "latest",
        "the latest",
        "latest season",
        "last",
        "last season",
        "newest",
        "the latest season",
    ):
        return [max(available)] if available else "all"
    found = _SEASON_NUMBERS.match(said)
    if found is None:
        return ""
    numbers: set[int] = set()
    for part in re.split(r"\s*(?:,|and|&|\s)\s*", re.sub(r"\s*(?:-|–|to)\s*", "-", found.group(1))):
        if not part:
            continue
        if "-" in part:
            low, high = (int(n) for n in part.split("-", 1))
            if high < low or high - low > 100:
                return "That range of seasons doesn't look right."
            numbers.update(range(low, high + 1))
        else:
            numbers.add(int(part))
    unknown = sorted(numbers - set(available))
    if unknown:
        listed = ", ".join(str(n) for n in available) or "none"
        return f"There is no season {', '.join(str(n) for n in unknown)}; the seasons are {listed}."
    return sorted(numbers)


class RequestFlow:
    def __init__(self, service: RequestService, config: FlowConfig | None = None) -> None:
        self.service = service
        self.config = config or FlowConfig()
        self.label = _SERVICE_LABEL.get(service.service, service.service.capitalize())

    async def handle(self, conn: Database, user_id: UUID, request: ChatRequest, text: str) -> Reply | None:
        """The reply when the message starts or continues a request; None lets the engine answer."""
        now = datetime.now(UTC)
        intent = request_intent(text)
        if intent is not None:
            started = await self._start(conn, user_id, request, intent, now)
            if started is not None:
                return started
        pending = await pending_store.load(conn, user_id, request.platform, request.conversation_id, now)
        if pending is None:
            return None
        said = " ".join(text.lower().split()).rstrip(".!")
        if said in _NO:
            await self._clear(conn, user_id, request)
            return _say("OK, nothing requested.")
        if pending.stage == "choose":
            return await self._choose(conn, user_id, request, pending, text, now)
        if pending.stage == "seasons":
            return await self._seasons(conn, user_id, request, pending, text, now)
        if said in _YES:
            return await self._confirm(conn, user_id, request, pending)
        # Anything but a yes drops the request: a later "yes" must not confirm an old summary.
        await self._clear(conn, user_id, request)
        return None

    async def _clear(self, conn: Database, user_id: UUID, request: ChatRequest) -> None:
        await pending_store.clear(conn, user_id, request.platform, request.conversation_id)

    async def _save(
        self,
        conn: Database,
        user_id: UUID,
        request: ChatRequest,
        pending: PendingRequest,
        now: datetime,
    ) -> None:
        await pending_store.save(
            conn, user_id, request.platform, request.conversation_id, pending, now, self.config.lifetime
        )

    async def seerr_user_id(self, conn: Database, user_id: UUID) -> int | None:
        """The member's own Overseerr user id, as the sync learned it; None when there is not exactly one."""
        rows = await conn.fetch(
            "SELECT external_id FROM user_external_ids WHERE user_id = $1 AND service = $2",
            user_id,
            self.service.service,
        )
        ids = [int(row["external_id"]) for row in rows if row["external_id"].isdigit()]
        return ids[0] if len(ids) == 1 else None

    def _no_account(self) -> Reply:
        return _say(
            f"I can't request for you: you have no {self.label} account that Marquee knows. "
            f"Sign in to {self.label} once, then ask again after the next sync (or ask an admin)."
        )

    async def _start(
        self,
        conn: Database,
        user_id: UUID,
        request: ChatRequest,
        intent: RequestIntent,
        now: datetime,
    ) -> Reply | None:
        reply, matches, _ = await self.offer(conn, user_id, request, intent, now)
        if not matches and not intent.certain:
            return None  # "can you get the plays of last week?" is a question, not a title
        return reply

    async def offer(
        self,
        conn: Database,
        user_id: UUID,
        request: ChatRequest,
        intent: RequestIntent,
        now: datetime | None = None,
    ) -> tuple[Reply, list[Match], int | None]:
        """Search and keep the matches as this conversation's pending choice: the reply listing them,
        the matches (empty when there is nothing to choose) and the member's Overseerr id."""
        now = now or datetime.now(UTC)
        await self._clear(conn, user_id, request)
        asker = await self.seerr_user_id(conn, user_id)
        if asker is None:
            return self._no_account(), [], None
        try:
            found = await self.service.search(intent.query)
        except ServiceUnavailable as exc:
            return _say(str(exc)), [], asker
        if intent.kind is not None:
            found = [match for match in found if match.kind == intent.kind]
        matches = found[: self.config.max_matches]
        if not matches:
            nothing = _say((Span(f"{self.label} found nothing called “"), Span(intent.query), Span("”.")))
            return nothing, [], asker
        await self._save(conn, user_id, request, PendingRequest("choose", matches, is_4k=intent.in_4k), now)
        lines: list[Inline] = []
        for match in matches:
            line: list[Span] = [*_title(match), Span(f", {_kind(match)}")]
            status = match_status(match, asker)
            if status:
                line.append(Span(f" · {status}", "em"))
            if match.overview:
                line.append(Span(f" — {_one_line(match.overview)}"))
            lines.append(tuple(line))
        builder = AnswerBuilder().paragraph(
            (Span(f"Here is what {self.label} found for “"), Span(intent.query), Span("”:"))
        )
        builder.items(lines, ordered=True)
        builder.paragraph(plain(f"Reply with a number from 1 to {len(matches)}, or “cancel”."))
        numbers = tuple(str(n) for n in range(1, len(matches) + 1))
        return _reply(builder, (*numbers, "cancel")), matches, asker

    async def _choose(
        self,
        conn: Database,
        user_id: UUID,
        request: ChatRequest,
        pending: PendingRequest,
        text: str,
        now: datetime,
    ) -> Reply | None:
        number = _NUMBER.match(text)
        if number is None:
            await self._clear(conn, user_id, request)
            return None
        index = int(number.group(1)) - 1
        if not 0 <= index < len(pending.matches):
            return _say(f"Reply with a number from 1 to {len(pending.matches)}, or “cancel”.")
        match = pending.matches[index]
        if (match.availability_4k if pending.is_4k else match.availability) == "available":
            await self._clear(conn, user_id, request)
            version = " in 4K" if pending.is_4k else ""
            return _say(
                (*_title(match), Span(f" is already available{version} on the server: nothing to request."))
            )
        pending.chosen = index
        if match.kind == "tv":
            try:
                seasons = await self.service.seasons(match.tmdb_id)
            except ServiceUnavailable as exc:
                return _say(str(exc))
            numbers = [season.number for season in seasons if season.number > 0]
            if not numbers:
                await self._clear(conn, user_id, request)
                return _say((*_title(match), Span(" has no seasons to request yet.")))
            pending.stage = "seasons"
            await self._save(conn, user_id, request, pending, now)
            have = [s.number for s in seasons if s.availability == "available" and s.number > 0]
            lines: list[str | Inline] = [
                (
                    Span("Which seasons of "),
                    *_title(match),
                    Span(f"? It has {len(numbers)} (1–{max(numbers)})."),
                ),
            ]
            if have:
                lines.append(plain(f"Already on the server: {', '.join(str(n) for n in have)}."))
            lines.append(
                plain("Reply “all”, “latest”, or season numbers like “1 3” or “2-4”; “cancel” to stop.")
            )
            return _say(*lines, quick_replies=("all", "latest", "cancel"))
        return await self._summary(conn, user_id, request, pending, now)

    async def _seasons(
        self,
        conn: Database,
        user_id: UUID,
        request: ChatRequest,
        pending: PendingRequest,
        text: str,
        now: datetime,
    ) -> Reply | None:
        try:
            seasons = await self.service.seasons(pending.match.tmdb_id)
        except ServiceUnavailable as exc:
            return _say(str(exc))
        choice = parse_seasons(text, [season.number for season in seasons if season.number > 0])
        if choice == "":
            await self._clear(conn, user_id, request)
            return None
        if choice == "all":
            pending.seasons = "all"
        elif isinstance(choice, list):
            pending.seasons = choice
        else:
            return _say(choice or "Reply “all”, “latest”, or season numbers.")
        return await self._summary(conn, user_id, request, pending, now)

    async def _summary(
        self,
        conn: Database,
        user_id: UUID,
        request: ChatRequest,
        pending: PendingRequest,
        now: datetime,
    ) -> Reply:
        match = pending.match
        asker = await self.seerr_user_id(conn, user_id)
        if asker is None:
            await self._clear(conn, user_id, request)
            return self._no_account()
        try:
            refusal = await self._refuse_4k(match, asker) if pending.is_4k else None
            quota = await self.service.quota(asker)
        except ServiceUnavailable as exc:
            return _say(str(exc))
        if refusal is not None:
            await self._clear(conn, user_id, request)
            return _say(refusal)
        part = _quota_part(quota, match)
        if part.restricted:
            await self._clear(conn, user_id, request)
            days = f" (every {part.days} days)" if part.days else ""
            return _say(
                f"You've used all {part.limit} of your {_kind(match)} requests{days}, so {self.label} "
                "won't take another one yet."
            )
        pending.stage = "confirm"
        await self._save(conn, user_id, request, pending, now)
        what: list[Span] = [Span("Request "), *_title(match)]
        if match.kind == "tv":
            if pending.seasons == "all" or pending.seasons is None:
                what.append(Span(", all seasons"))
            else:
                listed = ", ".join(str(n) for n in pending.seasons)
                what.append(Span(f", season{'s' if len(pending.seasons) > 1 else ''} {listed}"))
        if pending.is_4k:
            what.append(Span(" in 4K"))
        what.append(Span(f" on {self.label} as you?"))
        lines: list[str | Inline] = [tuple(what)]
        quota_line = _quota_line(part, _kind(match))
        if quota_line:
            lines.append(plain(quota_line))
        lines.append((Span("Reply "), strong("yes"), Span(" to request it, or "), em("cancel"), Span(".")))
        return _say(*lines, quick_replies=("yes", "cancel"))

    async def _confirm(
        self, conn: Database, user_id: UUID, request: ChatRequest, pending: PendingRequest
    ) -> Reply:
        # Taken first: of two "yes" sent at once, only one creates the request.
        if not await pending_store.clear(conn, user_id, request.platform, request.conversation_id):
            return _say("That request is already on its way.")
        match = pending.match
        asker = await self.seerr_user_id(conn, user_id)
        if asker is None:
            return self._no_account()
        seasons: SeasonChoice = (pending.seasons or "all") if match.kind == "tv" else None
        try:
            created = await self.service.create(asker, match, seasons, is_4k=pending.is_4k)
        except ServiceUnavailable as exc:
            return _say(str(exc) + " Nothing was requested; try again later.")
        except RequestRefused as refused:
            return _say(self._refusal(match, refused))
        log.info(
            "requested %s %s for user %s (%s request %s)",
            match.kind,
            match.tmdb_id,
            user_id,
            self.service.service,
            created.request_id,
        )
        await conn.execute(
            _RECORD_CREATED,
            match.title,
            "movie" if match.kind == "movie" else "show",
            user_id,
            "approved" if created.approved else "pending",
            self.service.service,
            str(created.request_id),
            match.tmdb_id,
        )
        state = "and it's approved" if created.approved else "and it's waiting for an admin's approval"
        return _say((Span("Requested "), *_title(match), Span(f" {state}. I'll tell you when it's ready.")))

    async def _refuse_4k(self, match: Match, asker: int) -> str | None:
        """Why a 4K request can't be made (no 4K server in Overseerr, or no 4K permission); None when it can."""
        kind = "movies" if match.kind == "movie" else "shows"
        if not await self.service.has_4k_server(match.kind):
            server = "Radarr" if match.kind == "movie" else "Sonarr"
            return (
                f"{self.label} has no 4K {server} server, so there is no 4K version of {kind} to request. "
                "Ask again without “in 4K” for the regular version."
            )
        permissions = await self.service.permissions(asker)
        per_kind = PERMISSION_REQUEST_4K_MOVIE if match.kind == "movie" else PERMISSION_REQUEST_4K_TV
        if permissions is None or not has_permission(permissions, PERMISSION_REQUEST_4K, per_kind):
            return (
                f"Your {self.label} account may not request 4K {kind}. Ask again without “in 4K” "
                "for the regular version, or ask an admin for the 4K permission."
            )
        return None

    def _refusal(self, match: Match, refused: RequestRefused) -> Inline:
        title = _title(match)
        if refused.kind == "duplicate":
            return (*title, Span(" is already requested: nothing new was requested."))
        if refused.kind == "quota":
            return (Span(f"{self.label} refused: {refused.reason} "), Span("Nothing was requested."))
        if refused.kind == "permission":
            return (
                Span(f"{self.label} says you may not request this: {refused.reason} Nothing was requested."),
            )
        if refused.kind == "nothing_to_request":
            return (*title, Span(": every season you chose is already requested or available."))
        return (Span(f"{self.label} refused the request: {refused.reason} Nothing was requested."),)


def _quota_part(quota: Quota, match: Match) -> QuotaPart:
    return quota.movie if match.kind == "movie" else quota.tv
