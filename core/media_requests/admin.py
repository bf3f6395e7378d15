"""Admins deciding requests from chat: list what waits, approve or decline, always after a "yes".

Only an admin, only in the admin channel/room, and always as that admin's own
Overseerr user: the id comes from ``user_external_ids`` (learned by the sync,
by id) for the chat account the message came from, never from what is typed.
Overseerr then checks that user's MANAGE_REQUESTS itself; Marquee checks it
first only to say so in a sentence.

"approve the Dune request", "decline Cats: not enough space", "approve 2"
(a number from the last ``/requests`` listing) each lead to a summary and a
"yes"; any other reply drops the decision.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg

from core.answer import AnswerBuilder, Inline, Span, em, plain, strong, to_markdown
from core.chat import ChatRequest, Reply
from core.identity import Identity
from core.media_requests import notifications
from core.media_requests.service import (
    PERMISSION_MANAGE_REQUESTS,
    Decision,
    OpenRequest,
    RequestRefused,
    RequestService,
    ServiceUnavailable,
    has_permission,
)

log = logging.getLogger(__name__)

Database: TypeAlias = asyncpg.Pool | asyncpg.Connection

LIFETIME = timedelta(minutes=10)
MAX_LISTED = 5  # two rows of Discord buttons: approve 1-5, decline 1-5
MAX_SEARCHED = 50
_YES = frozenset({"yes", "y", "confirm", "ok", "okay", "sure", "do it", "go"})
_NO = frozenset({"no", "n", "cancel", "stop", "never mind", "nevermind", "nope", "abort"})
_VERBS = {
    "approve": "approve",
    "accept": "approve",
    "decline": "decline",
    "deny": "decline",
    "reject": "decline",
}
_ACTION = re.compile(
    r"^\s*(approve|accept|decline|deny|reject)\b\s*(.*?)\s*[.!]?\s*$", re.IGNORECASE | re.DOTALL
)
_NUMBER = re.compile(r"^(?:number\s+|request\s+|no\.?\s*)?#?(\d{1,2})$")
_REASON_SPLIT = re.compile(r"\s*:\s*|\s+-\s+|\s+because\s+", re.IGNORECASE)
_SERVICE_LABEL = {"overseerr": "Overseerr", "jellyseerr": "Jellyseerr"}

_LOAD = """
SELECT listed, decision FROM pending_admin_decisions
WHERE user_id = $1 AND platform = $2 AND conversation_id = $3 AND expires_at > $4
"""
_SAVE = """
INSERT INTO pending_admin_decisions (user_id, platform, conversation_id, listed, decision, expires_at)
VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6)
ON CONFLICT (user_id, platform, conversation_id) DO UPDATE SET
    listed = excluded.listed, decision = excluded.decision, expires_at = excluded.expires_at
"""
# Taken before acting: of two "yes" sent at once, only one reaches Overseerr.
_TAKE = """
UPDATE pending_admin_decisions p SET decision = NULL
FROM (
    SELECT user_id, platform, conversation_id, decision FROM pending_admin_decisions
    WHERE user_id = $1 AND platform = $2 AND conversation_id = $3 AND decision IS NOT NULL AND expires_at > $4
    FOR UPDATE
) taken
WHERE p.user_id = taken.user_id AND p.platform = taken.platform AND p.conversation_id = taken.conversation_id
RETURNING taken.decision
"""
_DROP_DECISION = """
UPDATE pending_admin_decisions SET decision = NULL
WHERE user_id = $1 AND platform = $2 AND conversation_id = $3 AND decision IS NOT NULL
RETURNING 1
"""
_SWEEP = "DELETE FROM pending_admin_decisions WHERE expires_at <= $1"
_SEERR_ID = "SELECT external_id FROM user_external_ids WHERE user_id = $1 AND service = $2"
_REQUESTERS = """
SELECT e.external_id, u.username FROM user_external_ids e JOIN users u ON u.id = e.user_id
WHERE e.service = $1 AND e.external_id = ANY($2::text[])
"""


@dataclass(frozen=True)
class PendingDecision:
    request_id: int
    decision: Decision
    title: str
    reason: str | None = None


def parse_action(text: str) -> tuple[Decision, str] | None:
    """'decline Cats: not enough space' → ('decline', 'Cats: not enough space'); None for anything else."""
    found = _ACTION.match(text)
    if found is None or not found.group(2).strip():
        return None
    return _VERBS[found.group(1).lower()], found.group(2).strip()  # type: ignore[return-value]


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _target(text: str) -> str:
    """'the Dune request' → 'dune'; 'the request for Cats' → 'cats'."""
    said = _normal(text)
    said = re.sub(r"^(?:the\s+)?(?:request\s+(?:for|of)\s+)?(?:the\s+)?", "", said)
    said = re.sub(r"\s+(?:s\s+)?request$", "", said)
    return said.strip()


def find_requests(target: str, requests: list[OpenRequest]) -> list[OpenRequest]:
    """The open requests whose title holds every word of ``target``; an exact title wins alone."""
    wanted = _normal(target)
    if not wanted:
        return []
    exact = [r for r in requests if _normal(r.title) == wanted]
    if exact:
        return exact
    words = wanted.split()
    return [r for r in requests if all(word in _normal(r.title).split() for word in words)]


def _label(request: OpenRequest) -> Inline:
    year = f" ({request.year})" if request.year else ""
    return (Span(request.title, "strong"), Span(year))


def _open_request(raw: dict[str, Any]) -> OpenRequest:
    return OpenRequest(
        request_id=int(raw["request_id"]),
        kind="tv" if raw["kind"] == "tv" else "movie",
        tmdb_id=int(raw["tmdb_id"]),
        title=str(raw["title"]),
        year=int(raw["year"]) if raw.get("year") is not None else None,
        requested_by=int(raw["requested_by"]) if raw.get("requested_by") is not None else None,
        seasons=tuple(int(n) for n in raw.get("seasons") or ()),
        is_4k=bool(raw.get("is_4k")),
    )


def _say(*lines: str | Inline, quick_replies: tuple[str, ...] = ()) -> Reply:
    answer = AnswerBuilder().paragraph(*lines).answer()
    return Reply(to_markdown(answer), kind="admin", answer=answer, quick_replies=quick_replies)


class AdminRequestDesk:
    """Listing and deciding Overseerr requests for the admin who asks, as that admin's Overseerr user."""

    def __init__(self, service: RequestService, lifetime: timedelta = LIFETIME) -> None:
        self.service = service
        self.lifetime = lifetime
        self.label = _SERVICE_LABEL.get(service.service, service.service.capitalize())

    # -- who acts ---------------------------------------------------------------------------

    async def _acting_id(self, conn: Database, user_id: UUID) -> int | Reply:
        """The admin's own Overseerr user id when it may decide requests; otherwise the sentence why not."""
        rows = await conn.fetch(_SEERR_ID, user_id, self.service.service)
        ids = [int(row["external_id"]) for row in rows if row["external_id"].isdigit()]
        if len(ids) != 1:
            return _say(
                f"I can't act for you in {self.label}: no {self.label} account of yours is known to Marquee. "
                f"Sign in to {self.label} once; the next sync links it to you by its id."
            )
        try:
            permissions = await self.service.permissions(ids[0])
        except ServiceUnavailable as exc:
            return _say(str(exc))
        if permissions is None:
            return _say(f"{self.label} no longer knows your account, so I can't act for you there.")
        if not has_permission(permissions, PERMISSION_MANAGE_REQUESTS):
            return _say(
                f"Your {self.label} account may not approve or decline requests: it needs the "
                "Manage Requests permission (an Overseerr admin grants it under Users → Edit → Permissions)."
            )
        return ids[0]

    async def _requesters(self, conn: Database, requests: list[OpenRequest]) -> dict[int, str]:
        ids = sorted({str(r.requested_by) for r in requests if r.requested_by is not None})
        rows = await conn.fetch(_REQUESTERS, self.service.service, ids) if ids else []
        return {int(row["external_id"]): row["username"] for row in rows}

    def _line(self, request: OpenRequest, names: dict[int, str]) -> Inline:
        line: list[Span] = [*_label(request), Span(", movie" if request.kind == "movie" else ", show")]
        if request.kind == "tv" and request.seasons:
            listed = ", ".join(str(n) for n in request.seasons)
            line.append(Span(f" (season{'s' if len(request.seasons) > 1 else ''} {listed})"))
        if request.is_4k:
            line.append(Span(" in 4K"))
        if request.requested_by is not None:
            name = names.get(request.requested_by, f"{self.label} user #{request.requested_by}")
            line.extend((Span(", requested by "), Span(name)))
        return tuple(line)

    # -- listing ------------------------------------------------------------------------------

    async def _remember(
        self,
        pool: asyncpg.Pool,
        who: Identity,
        request: ChatRequest,
        listed: list[OpenRequest],
        pending: PendingDecision | None,
        now: datetime | None = None,
    ) -> None:
        """Keep this conversation's listing (and the decision awaiting "yes") for ``lifetime``."""
        now = now or datetime.now(UTC)
        await pool.execute(_SWEEP, now)
        await pool.execute(
            _SAVE,
            who.user_id,
            request.platform,
            request.conversation_id,
            json.dumps([asdict(r) for r in listed]),
            json.dumps(asdict(pending)) if pending is not None else None,
            now + self.lifetime,
        )

    async def listing(self, pool: asyncpg.Pool, who: Identity, request: ChatRequest) -> Reply:
        """``/requests``: the oldest pending requests, numbered, with approve/decline quick replies."""
        acting = await self._acting_id(pool, who.user_id)
        if isinstance(acting, Reply):
            return acting
        try:
            found = await self.service.open_requests(acting, MAX_LISTED + 1)
        except ServiceUnavailable as exc:
            return _say(str(exc))
        shown = found[:MAX_LISTED]
        await self._remember(pool, who, request, shown, None)
        if not shown:
            return _say(f"No request is waiting for approval in {self.label}.")
        names = await self._requesters(pool, shown)
        builder = AnswerBuilder().paragraph(plain(f"Waiting for approval in {self.label}:"))
        builder.items([self._line(r, names) for r in shown], ordered=True)
        if len(found) > len(shown):
            builder.paragraph(plain(f"More are waiting; these are the {len(shown)} oldest."))
        builder.paragraph(
            (
                Span("Reply "),
                strong("approve N"),
                Span(" or "),
                strong("decline N"),
                Span(" (a reason after a colon: "),
                em("decline 2: not enough space"),
                Span(")."),
            )
        )
        numbers = range(1, len(shown) + 1)
        answer = builder.answer()
        return Reply(
            to_markdown(answer),
            kind="admin",
            answer=answer,
            quick_replies=(*(f"approve {n}" for n in numbers), *(f"decline {n}" for n in numbers)),
        )

    # -- deciding -----------------------------------------------------------------------------

    async def handle(
        self, pool: asyncpg.Pool, who: Identity, request: ChatRequest, text: str
    ) -> Reply | None:
        """The reply when the message decides a request (or answers the confirmation); None otherwise."""
        now = datetime.now(UTC)
        said = " ".join(text.lower().split()).rstrip(".!")
        action = parse_action(text)
        if action is None:
            if said in _YES and who.is_admin and request.is_admin_channel:
                return await self._confirm(pool, who, request, now)
            if said in _NO and await pool.fetchval(
                _DROP_DECISION, who.user_id, request.platform, request.conversation_id
            ):
                return _say("OK, nothing changed.")
            # Anything else drops a waiting decision: a later "yes" must not confirm an old summary.
            await pool.execute(_DROP_DECISION, who.user_id, request.platform, request.conversation_id)
            return None
        if not who.is_admin:
            return _say("Only the server's admins can approve or decline requests.")
        if not request.is_admin_channel:
            return _say("Approving and declining requests works only in the admin channel.")
        decision, rest = action
        acting = await self._acting_id(pool, who.user_id)
        if isinstance(acting, Reply):
            return acting
        row = await pool.fetchrow(_LOAD, who.user_id, request.platform, request.conversation_id, now)
        listed = [_open_request(raw) for raw in json.loads(row["listed"])] if row is not None else []
        try:
            chosen, reason = await self._resolve(acting, decision, rest, listed)
        except ServiceUnavailable as exc:
            return _say(str(exc))
        if isinstance(chosen, Reply):
            return chosen
        pending = PendingDecision(chosen.request_id, decision, chosen.title, reason)
        await self._remember(pool, who, request, listed, pending, now)
        names = await self._requesters(pool, [chosen])
        lines: list[str | Inline] = [
            (
                Span("Approve " if decision == "approve" else "Decline "),
                *self._line(chosen, names),
                Span("?"),
            ),
        ]
        if reason:
            lines.append((Span("Reason for the requester: "), Span(reason), Span(".")))
        lines.append(
            (
                Span("Reply "),
                strong("yes"),
                Span(f" to do it in {self.label} as you, or "),
                em("cancel"),
                Span("."),
            )
        )
        return _say(*lines, quick_replies=("confirm", "cancel"))

    async def _resolve(
        self, acting: int, decision: Decision, rest: str, listed: list[OpenRequest]
    ) -> tuple[OpenRequest | Reply, str | None]:
        """The request meant by ``rest`` (a number from the listing or words of a title) and the reason."""
        number = _NUMBER.match(_normal(rest))
        if number is not None:
            index = int(number.group(1)) - 1
            if not listed:
                return _say("List the waiting requests first (`requests`), then use their numbers."), None
            if not 0 <= index < len(listed):
                return _say(f"Pick a number from 1 to {len(listed)} of the last listing."), None
            return listed[index], None
        open_requests = await self.service.open_requests(acting, MAX_SEARCHED)
        # "Dune: Part Three" is a title with a colon; "Cats: not enough space" is a title and a reason.
        candidates: list[tuple[str, str | None]] = [(rest, None)]
        if decision == "decline":
            cuts = list(_REASON_SPLIT.finditer(rest))
            for cut in reversed(cuts):
                candidates.append((rest[: cut.start()], rest[cut.end() :].strip() or None))
        for target, reason in candidates:
            found = find_requests(_target(target), open_requests)
            if len(found) == 1:
                return found[0], _clean_reason(reason)
            if len(found) > 1:
                shown = found[:MAX_LISTED]
                builder = AnswerBuilder().paragraph(
                    (Span("More than one waiting request matches “"), Span(_target(target)), Span("”:"))
                )
                builder.items([(*_label(r), Span(f" (request {r.request_id})")) for r in shown], ordered=True)
                builder.paragraph(plain("List them with `requests` and use the number."))
                answer = builder.answer()
                return Reply(to_markdown(answer), kind="admin", answer=answer), None
        return _say(
            (Span("No request waiting for approval matches “"), Span(_target(rest)), Span("”."))
        ), None

    async def _confirm(
        self, pool: asyncpg.Pool, who: Identity, request: ChatRequest, now: datetime
    ) -> Reply | None:
        raw = await pool.fetchval(_TAKE, who.user_id, request.platform, request.conversation_id, now)
        if raw is None:
            return None  # no decision waits here: maybe a member's request in progress, or a question
        pending = PendingDecision(**json.loads(raw))
        acting = await self._acting_id(pool, who.user_id)
        if isinstance(acting, Reply):
            return acting
        title = (Span(pending.title, "strong"),)
        try:
            await self.service.decide(acting, pending.request_id, pending.decision)
        except ServiceUnavailable as exc:
            return _say(str(exc) + " Nothing changed.")
        except RequestRefused as refused:
            return _say((Span(f"{self.label} refused: {refused.reason} Nothing changed."),))
        log.info(
            "%s %s request %s as %s user %s (admin %s)",
            pending.decision,
            self.service.service,
            pending.request_id,
            self.service.service,
            acting,
            who.user_id,
        )
        if pending.decision == "decline" and pending.reason:
            # Overseerr's API takes no reason: the requester hears it from Marquee. The webhook that
            # follows has the same event key, so the member still gets one message.
            async with pool.acquire() as conn:
                await notifications.enqueue_notice(
                    conn,
                    notifications.RequestNotice(
                        self.service.service, str(pending.request_id), "MEDIA_DECLINED", pending.reason
                    ),
                )
        done = "Approved " if pending.decision == "approve" else "Declined "
        return _say((Span(done), *title, Span(f" in {self.label} as you.")))


def _clean_reason(reason: str | None) -> str | None:
    if not reason:
        return None
    text = " ".join("".join(ch for ch in reason if ch.isprintable()).split())[:300]
    return text or None
