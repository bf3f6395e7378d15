"""The one entry point of every chat adapter and of ``marquee ask``.

One message: clean text (and its length cap) → identity → scope → admission
(limits checked, the question recorded and its tokens reserved, atomically per
user) → engine (with fallback) → grounded assessment → records (reply turn,
feedback row, the reservation settled with the real usage, learning queue).
Each step is its own module; this one only wires them and is the error
boundary: a user never sees a traceback, and their message is recorded even
when answering fails.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, Literal, ParamSpec
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from core import admin_reports, charts, feedback, identity, insights_access, learning_queue, link_consent
from core.answer import Answer, Paragraph, link, parse_answer, plain, strong, to_markdown, to_plain_text
from core.chat import (
    ChatRequest,
    Platform,
    ReactionEvent,
    Reply,
    admin_commands_usage,
    admin_refusal,
)
from core.engines.base import Engine, ToolRunner
from core.engines.fallback import answer_with_fallback
from core.errors import APOLOGY, UserFacingError
from core.exchange_log import (
    Exchange,
    conversation_history,
    ground_assessment,
    link_learning_row,
    record_exchange,
)
from core.media_requests import notifications
from core.media_requests.admin import AdminRequestDesk
from core.media_requests.flow import RequestFlow
from core.media_requests.intent import request_intent
from core.media_requests.tool import RequestToolRunner
from core.question_text import DEFAULT_MAX_QUESTION_CHARS, check_length, clean_question
from core.rate_limits import Admission, LimitExceeded, Limits, Question, admit, settle
from core.scope import Scope

log = logging.getLogger(__name__)

EMPTY_MESSAGE_REPLY = "Ask me anything about your server, e.g. *What should I watch tonight?*"


P = ParamSpec("P")
ChatCall = Callable[Concatenate["Assistant", ChatRequest, P], Coroutine[Any, Any, Reply]]


def _error_boundary(what: str) -> Callable[[ChatCall[P]], ChatCall[P]]:
    """The one error boundary of a chat call: a ``UserFacingError`` becomes its reason, anything else
    is logged with its traceback and the asker gets ``APOLOGY``, never the exception's text."""

    def decorate(method: ChatCall[P]) -> ChatCall[P]:
        @functools.wraps(method)
        async def guarded(self: Assistant, request: ChatRequest, *args: P.args, **kwargs: P.kwargs) -> Reply:
            try:
                return await method(self, request, *args, **kwargs)
            except UserFacingError as exc:
                return Reply(exc.reason, kind="error")
            except Exception:
                log.exception("%s failed for a %s message", what, request.platform)
                return Reply(APOLOGY, kind="error")

        return guarded

    return decorate


@dataclass(frozen=True)
class AssistantConfig:
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    min_group_size: int = 2
    limits: Limits = field(default_factory=lambda: Limits(messages_per_minute=10, daily_token_budget=200_000))
    follow_up_window: timedelta = feedback.FOLLOW_UP_WINDOW
    max_question_chars: int = DEFAULT_MAX_QUESTION_CHARS
    learning_queue: learning_queue.QueueLimits = field(default_factory=learning_queue.QueueLimits)
    # Where `insights` links to the AI-insights page; None leaves the link out.
    insights_page: insights_access.SignInLinkConfig | None = None
    # Send a chart next to answers a picture says better (MARQUEE_CHAT_CHARTS).
    chat_charts: bool = True
    # Said to "request Dune" when requests cannot be made here (turned off, or no Overseerr/Jellyseerr).
    requests_unavailable: str = "I can't request titles on this server. Ask an admin."


class Assistant:
    """Implements ``core.chat.ChatCore``."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        engine: Engine,
        tool_runner: Callable[[Scope], ToolRunner],
        *,
        fallback_engine: Engine | None = None,
        config: AssistantConfig | None = None,
        requests: RequestFlow | None = None,
        admin_requests: AdminRequestDesk | None = None,
    ) -> None:
        self.pool = pool
        # Requesting titles from chat (None when no Overseerr/Jellyseerr is configured).
        self.requests = requests
        # Admins approving and declining those requests from the admin channel (same condition).
        self.admin_requests = admin_requests
        self.engine = engine
        self.fallback_engine = fallback_engine
        self.tool_runner = tool_runner
        self.config = config or AssistantConfig()

    # -- answering ---------------------------------------------------------------------------

    @_error_boundary("answering")
    async def handle(self, request: ChatRequest) -> Reply:
        # Before anything else: no NUL or control character, no look-alike forms, no megabytes.
        question = clean_question(request.text)
        if not question:
            return Reply(EMPTY_MESSAGE_REPLY)
        too_long = check_length(question, self.config.max_question_chars)
        if too_long is not None:
            log.info("refused a %d-character %s message", too_long.length, request.platform)
            return Reply(too_long.message, kind="rate_limited", details={"limit": "length"})
        started = time.perf_counter()
        asked_at = datetime.now(UTC)
        async with self.pool.acquire() as conn:
            who = await identity.resolve_sender(conn, request.platform, request.platform_user_id)
            if who is None:
                return await link_consent.consent_reply(conn, request) or _link_instructions_reply(request)
            try:
                scope = identity.build_scope(who, request, self.config.timezone, self.config.min_group_size)
            except identity.AdminModeRefused as refused:
                log.info("refused admin mode to %s", who.username)
                return Reply(str(refused), kind="refused")
            # The turns before this one: read before admission records this question.
            history = await conversation_history(conn, scope, request.platform, request.conversation_id)
            admission = await admit(
                conn,
                Question(
                    who.user_id, request.platform, request.conversation_id, question, scope.mode, asked_at
                ),
                self.config.limits,
                self.config.timezone,
            )
            if isinstance(admission, LimitExceeded):
                log.info("%s limit reached for %s", admission.reason, who.username)
                return Reply(admission.message, kind="rate_limited", details={"limit": admission.reason})
            await feedback.mark_follow_up(
                conn, who.user_id, request.platform, request.conversation_id, self.config.follow_up_window
            )

        if self.admin_requests is not None:
            # "approve the Dune request" / "decline Cats: not enough space", and the "yes" that follows.
            decided = await self.admin_requests.handle(self.pool, who, request, question)
            if decided is not None:
                async with self.pool.acquire() as conn:
                    await settle(conn, who.user_id, admission, 0)
                return decided
        if self.requests is None and _surely_a_request(question):
            # Otherwise "request Dune" would be a question no tool answers, queued as a gap in the data.
            async with self.pool.acquire() as conn:
                await settle(conn, who.user_id, admission, 0)
            return Reply(self.config.requests_unavailable, kind="refused")
        if self.requests is not None:
            # A request in plain words, or the next step of one, is answered here with either engine
            # (on the pool: no connection is held while Overseerr answers).
            request_reply = await self.requests.handle(self.pool, who.user_id, request, question)
            if request_reply is not None:
                async with self.pool.acquire() as conn:
                    await settle(conn, who.user_id, admission, 0)
                return request_reply
        tools: ToolRunner = self.tool_runner(scope)
        if self.requests is not None:
            # The anthropic engine may start a request in words the plain-words check missed.
            tools = RequestToolRunner(tools, self.requests, self.pool, who.user_id, request)
        outcome = await answer_with_fallback(
            self.engine, self.fallback_engine, question, scope, history, tools
        )
        answer = outcome.answer
        grounded = ground_assessment(answer)
        structured = parse_answer(answer.text, grounded.confidence)
        # The records and the conversation memory hold what was said, without marks or escapes.
        answer.text = to_plain_text(structured)
        latency_ms = int((time.perf_counter() - started) * 1000)

        async with self.pool.acquire() as conn:
            feedback_id = await self._record_answer(
                conn,
                admission,
                Exchange(
                    scope=scope,
                    platform=request.platform,
                    conversation_id=request.conversation_id,
                    question=question,
                    answer=answer,
                    assessment=grounded,
                    latency_ms=latency_ms,
                    asked_at=asked_at,
                    answered_at=datetime.now(UTC),
                    used_fallback=outcome.used_fallback,
                    engine_error=outcome.engine_error,
                ),
            )
            if grounded.needs_learning:
                try:
                    queue_id = await learning_queue.record_question(
                        conn,
                        question,
                        grounded.question_type,
                        grounded.why_failed or "missing_data",
                        grounded.missing_tables,
                        "; ".join(grounded.could_improve_with) or None,
                        asked_by=scope.user_id,
                        limits=self.config.learning_queue,
                    )
                    if queue_id is not None:
                        await link_learning_row(conn, feedback_id, queue_id)
                except Exception:
                    # the answer and its records are in; a queue hiccup must not cost the user the reply
                    log.exception("could not add a question to the learning queue")

        chart = (
            await charts.chart_for(call.result for call in answer.tool_calls)
            if self.config.chat_charts
            else None
        )
        return Reply(
            to_markdown(structured),
            chart=chart,
            kind="admin" if scope.mode == "admin" else "answer",
            answer=structured,
            feedback_id=feedback_id,
            confidence=grounded.confidence,
            wants_feedback_reactions=True,
            details={
                "confidence": grounded.confidence,
                "data_sources_used": grounded.data_sources_used,
                "missing_data": grounded.missing_data,
                "question_type": grounded.question_type,
                "engine": answer.engine,
                "used_fallback": outcome.used_fallback,
                "model_calls": answer.model_calls,
                "mode": scope.mode,
            },
        )

    @staticmethod
    async def _record_answer(conn: asyncpg.Connection, admission: Admission, exchange: Exchange) -> UUID:
        """The reply turn, the feedback row and the settled token reservation: all or nothing."""
        answer = exchange.answer
        async with conn.transaction():
            feedback_id = await record_exchange(conn, exchange)
            await settle(
                conn,
                exchange.scope.user_id,
                admission,
                (answer.input_tokens or 0) + (answer.output_tokens or 0),
            )
        return feedback_id

    # -- feedback ----------------------------------------------------------------------------

    async def attach_reply(self, feedback_id: UUID, platform: Platform, reply_message_id: str) -> None:
        async with self.pool.acquire() as conn:
            await feedback.attach_reply(conn, feedback_id, platform, reply_message_id)

    async def record_reaction(self, event: ReactionEvent) -> bool:
        async with self.pool.acquire() as conn:
            target = await feedback.find_by_reply(
                conn, event.platform, event.reply_message_id, event.reactor_platform_user_id
            )
            if target is None:  # not an answer, or not the asker's reaction: maybe a notification
                return await notifications.record_reaction(
                    conn,
                    event.platform,
                    event.reply_message_id,
                    event.reactor_platform_user_id,
                    event.emoji,
                    event.action == "added",
                )
            return await feedback.apply_reaction(
                conn, target, event.emoji, event.action, queue_limits=self.config.learning_queue
            )

    # -- identity ----------------------------------------------------------------------------

    async def is_admin(self, platform: Platform, platform_user_id: str) -> bool:
        async with self.pool.acquire() as conn:
            who = await identity.resolve_sender(conn, platform, platform_user_id)
        return who is not None and who.is_admin

    async def _admin_or_refusal(self, conn: asyncpg.Connection, request: ChatRequest) -> Reply | None:
        who = await identity.resolve_sender(conn, request.platform, request.platform_user_id)
        refusal = admin_refusal(
            is_admin=who is not None and who.is_admin, in_admin_channel=request.is_admin_channel
        )
        return Reply(refusal, kind="refused") if refusal is not None else None

    @_error_boundary("linking an account")
    async def link_account(
        self, request: ChatRequest, platform: Platform, platform_user_id: str, username: str
    ) -> Reply:
        async with self.pool.acquire() as conn:
            refusal = await self._admin_or_refusal(conn, request)
            if refusal is not None:
                return refusal
            try:
                user_id = await identity.link_account(
                    conn,
                    platform,
                    platform_user_id,
                    username,
                    linked_by=f"{request.platform}:{request.platform_user_id}",
                )
            except UserFacingError as exc:
                return Reply(f"Could not link: {exc.reason}.", kind="error")
            services = await identity.known_on(conn, user_id)
        log.info("linked %s account %s to %s", platform, platform_user_id, username)
        # Which services know the user by id: a look-alike name created elsewhere shows up here.
        known = f" (known on: {', '.join(services)})" if services else ""
        return Reply(
            f"Linked {platform} account `{platform_user_id}` to **{username}**{known}.", kind="admin"
        )

    @_error_boundary("setting privacy")
    async def set_privacy(self, request: ChatRequest, share_activity_with_admins: bool) -> Reply:
        async with self.pool.acquire() as conn:
            who = await identity.resolve_sender(conn, request.platform, request.platform_user_id)
            if who is None:
                return _link_instructions_reply(request)
            await identity.set_share_activity(conn, who.user_id, share_activity_with_admins)
        if share_activity_with_admins:
            return Reply("Done: admins can now see which titles you watched.")
        return Reply("Done: admins see only your totals, not which titles you watched.")

    @_error_boundary("setting notifications")
    async def set_notifications(self, request: ChatRequest, on: bool | None) -> Reply:
        async with self.pool.acquire() as conn:
            who = await identity.resolve_sender(conn, request.platform, request.platform_user_id)
            if who is None:
                return _link_instructions_reply(request)
            if on is not None:
                await notifications.set_request_updates(conn, who.user_id, on)
            current = await notifications.wants_request_updates(conn, who.user_id)
        if current:
            return Reply(
                "Request updates are on: I'll DM you when your requests are approved, declined or ready."
            )
        return Reply("Request updates are off: I won't DM you about your requests.")

    # -- admin commands ----------------------------------------------------------------------

    @_error_boundary("an admin command")
    async def admin_command(self, request: ChatRequest, command: str, args: list[str]) -> Reply:
        async with self.pool.acquire() as conn:
            refusal = await self._admin_or_refusal(conn, request)
            if refusal is not None:
                return refusal
            if command == "requests":
                return await self._pending_requests(conn, request)
            answer = await self._admin_answer(conn, command, args, await self._actor(conn, request))
            if command == "insights" and answer is not None:
                link = await self._insights_link(conn, request)
                if link is not None:
                    answer = replace(answer, blocks=(*answer.blocks, link))
        if answer is None:
            return Reply(f"Admin commands: {admin_commands_usage('')}.", kind="error")
        return Reply(to_markdown(answer), kind="admin", answer=answer)

    async def _pending_requests(self, conn: asyncpg.Connection, request: ChatRequest) -> Reply:
        """``/requests``: what waits for approval, listed for this admin (checked by the caller)."""
        who = await identity.resolve_sender(conn, request.platform, request.platform_user_id)
        if self.admin_requests is None or who is None:
            return Reply(
                "Requests from chat are off: no Overseerr or Jellyseerr is configured.", kind="error"
            )
        return await self.admin_requests.listing(self.pool, who, request)

    async def _insights_link(self, conn: asyncpg.Connection, request: ChatRequest) -> Paragraph | None:
        """A one-time sign-in link to the page, for the admin who asked (checked by the caller)."""
        page = self.config.insights_page
        who = await identity.resolve_sender(conn, request.platform, request.platform_user_id)
        if page is None or who is None:
            return None
        token = await insights_access.issue_sign_in_link(
            conn, user_id=who.user_id, actor=f"{who.username} ({request.platform})", ttl=page.ttl
        )
        minutes = int(page.ttl.total_seconds() // 60)
        url = insights_access.sign_in_url(page.public_base_url, token)
        return Paragraph(
            (
                (
                    strong("The full page:"),
                    *plain(" "),
                    link(url),
                    *plain(f" (a one-time sign-in link for you, valid {minutes} minutes)"),
                ),
            )
        )

    @staticmethod
    async def _actor(conn: asyncpg.Connection, request: ChatRequest) -> str:
        """Who acted, for the triage log: the same words as the page's sign-in records."""
        who = await identity.resolve_sender(conn, request.platform, request.platform_user_id)
        name = who.username if who is not None else request.platform_user_id
        return f"{name} ({request.platform})"

    @staticmethod
    async def _admin_answer(
        conn: asyncpg.Connection, command: str, args: list[str], actor: str
    ) -> Answer | None:
        if command == "health":
            return admin_reports.health_answer(await admin_reports.health(conn))
        if command == "insights":
            return admin_reports.insights_answer(await admin_reports.insights(conn))
        if command != "learning":
            return None
        action = args[0].lower().replace("_", "-") if args else "list"
        if action == "list":
            return admin_reports.learning_list_answer(await admin_reports.learning_list(conn))
        if action in ("show", "resolve", "wont-fix") and len(args) >= 2:
            if action == "show":
                return admin_reports.learning_entry_answer(await admin_reports.learning_show(conn, args[1]))
            note = " ".join(args[2:]) or None
            status: Literal["resolved", "wont_fix"] = "resolved" if action == "resolve" else "wont_fix"
            entry = await admin_reports.learning_close(conn, args[1], status, note, actor)
            return parse_answer(
                f"Marked `{admin_reports.short_id(entry['id'])}` as {status.replace('_', ' ')}."
            )
        return None


def _link_instructions_reply(request: ChatRequest) -> Reply:
    """What a sender whose chat account is linked to no server user gets, whatever they asked."""
    return Reply(
        identity.link_instructions(request.platform, request.platform_user_id), kind="link_instructions"
    )


def _surely_a_request(question: str) -> bool:
    """ "request Dune", "can you get Dune for me?": a request whatever a search would find."""
    intent = request_intent(question)
    return intent is not None and intent.certain
