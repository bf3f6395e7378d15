"""Marquee on Discord: DMs, mentions, reactions and slash commands, translated to and from core.

Members DM the bot (or mention it in an allowed channel); the answer comes
back as an embed when it is a list or a report (plain Markdown where the bot
may not embed links), otherwise as Markdown split to Discord's 2,000-character
limit, with 👍 and ❌ added so that a reaction by the asker rates it. Slash commands: ``/ask``, ``/privacy`` for
everyone; ``/link``, ``/health``, ``/learning``, ``/insights`` for admins,
answered only in the admin channel. Every interaction is deferred at once and
answered by follow-up, so a slow answer never hits Discord's 3-second limit.

Intents (all non-privileged):

- ``guilds``: the channel and role cache, so a mention in a server channel
  resolves its channel and an admin's roles can be checked;
- ``dm_messages`` and ``guild_messages``: DMs and mentions;
- ``dm_reactions`` and ``guild_reactions``: 👍/❌ on answers.

``message_content`` is not needed: Discord sends the content of DMs and of
messages that mention the bot without it. No member list, no presences.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

import discord
from discord import app_commands

from adapters.chat.discord_rendering import DiscordMessage, discord_messages, plain_messages
from core.chat import (
    FEEDBACK_EMOJI,
    ChartImage,
    ChatCore,
    ChatRequest,
    ReactionEvent,
    Reply,
    admin_refusal,
    normalise_emoji,
)
from core.media_requests.notifications import Outbox

log = logging.getLogger(__name__)

PLATFORM: Literal["discord"] = "discord"
MISSING_PERMISSIONS = 50013  # Discord's JSON error code
LINK_CONSENT_ID = "marquee:link-consent:yes"
# A quick-reply button sends its text as if typed: "marquee:say:2", "marquee:say:yes".
QUICK_REPLY_ID = "marquee:say:{text}"
_QUICK_REPLY_LABELS = {
    "yes": "Yes, request it",
    "confirm": "Yes, do it",
    "cancel": "Cancel",
    "all": "All seasons",
    "latest": "Latest season",
}


def refusal_of_credentials(exc: Exception) -> str | None:
    """What to fix when ``exc`` (from starting the bot) means Discord refused it, so retrying cannot help."""
    if isinstance(exc, discord.LoginFailure):
        return "Discord refused the token; check MARQUEE_DISCORD_TOKEN"
    if isinstance(exc, discord.HTTPException) and exc.status in (401, 403):
        return f"Discord refused the bot ({exc.status}); check MARQUEE_DISCORD_TOKEN"
    return None


@dataclass(frozen=True)
class DiscordConfig:
    token: str
    admin_channel_id: int | None = None
    admin_role_id: int | None = None
    allowed_channel_ids: frozenset[int] = field(default_factory=frozenset)
    # Seconds discord.py waits for GUILD_CREATE events before "ready".
    guild_ready_timeout: float = 2.0
    # Seconds a shutdown waits for answers that are being built.
    shutdown_grace_seconds: float = 30.0
    # Seconds before identifying again after Discord dropped the session: Discord allows one
    # IDENTIFY per 5 s, the wait discord.py makes by default.
    reidentify_delay_seconds: float = 5.0

    def is_admin_channel(self, channel_id: int | None) -> bool:
        return channel_id is not None and channel_id == self.admin_channel_id


def discord_intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.dm_messages = True
    intents.guild_messages = True
    intents.dm_reactions = True
    intents.guild_reactions = True
    return intents


class _OneLinePerOutage(logging.Filter):
    """discord.py logs a traceback for every reconnect attempt; Marquee logs one line per outage instead."""

    def __init__(self) -> None:
        super().__init__()
        self.outage = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Attempting a reconnect"):
            return True
        if not self.outage:
            self.outage = True
            error = record.exc_info[1] if record.exc_info else None
            cause = f"{type(error).__name__}: {error}" if error is not None else "unknown cause"
            log.warning("discord: connection lost (%s); reconnecting in the background", cause)
        return False


class MarqueeDiscordClient(discord.Client):
    """The discord.py client; each handler is a few lines of translation around one core call."""

    def __init__(self, core: ChatCore, config: DiscordConfig) -> None:
        # Marquee never joins voice: discord.py's start-up warnings about missing voice libraries are noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=discord_intents(),
            guild_ready_timeout=config.guild_ready_timeout,
            # Nothing mentioned in an answer should ping anyone.
            allowed_mentions=discord.AllowedMentions.none(),
            max_messages=None,
            chunk_guilds_at_startup=False,
        )
        self.core = core
        self.config = config
        self.tree = app_commands.CommandTree(self)
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._accepting = True
        self.connected = asyncio.Event()
        self._outage_log = _OneLinePerOutage()
        logging.getLogger("discord.client").addFilter(self._outage_log)
        _register_commands(self)

    # --- life cycle ---------------------------------------------------------------

    async def setup_hook(self) -> None:
        # Persistent (fixed custom id, no timeout): the button works on questions sent before a restart.
        self.add_view(LinkConsentView(self))
        # Quick-reply buttons keep working after a restart: their text is in their custom id.
        self.add_dynamic_items(QuickReplyButton)
        synced = await self.tree.sync()
        log.info("discord: registered %d slash commands", len(synced))

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(self.config.reidentify_delay_seconds)

    async def on_ready(self) -> None:
        user = self.user
        log.info(
            "discord: connected as %s (id %s) in %d server(s)",
            user,
            user.id if user else "?",
            len(self.guilds),
        )
        self.connected.set()
        self._back_online()

    async def on_resumed(self) -> None:
        self._back_online()

    def _back_online(self) -> None:
        if self._outage_log.outage:
            self._outage_log.outage = False
            log.info("discord: reconnected")

    async def close(self) -> None:
        logging.getLogger("discord.client").removeFilter(self._outage_log)
        await super().close()

    async def drain(self) -> None:
        """Stop taking new messages and wait for answers in flight (at most the grace period)."""
        self._accepting = False
        pending = [task for task in self._in_flight if not task.done()]
        if pending:
            log.info("discord: waiting for %d answer(s) in flight", len(pending))
            _, still_running = await asyncio.wait(pending, timeout=self.config.shutdown_grace_seconds)
            if still_running:
                log.warning("discord: %d answer(s) not finished at shutdown", len(still_running))

    async def wait_idle(self) -> None:
        """Return once no handler is running (handlers already scheduled run first)."""
        await asyncio.sleep(0)
        while pending := [task for task in self._in_flight if not task.done()]:
            await asyncio.wait(pending)

    async def _tracked(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run one handler, remembered as in flight until it ends.

        Core's calls are the error boundary of a message; what is left here is Discord refusing a call,
        and a last-resort ``log.exception`` for a bug in this adapter.
        """
        if not self._accepting:
            return
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await work()
        except discord.Forbidden as exc:
            log.warning(
                "discord: no permission to answer there (%s); check the bot's channel permissions", exc.text
            )
        except discord.HTTPException as exc:
            log.warning(
                "discord: Discord refused a call (HTTP %s, code %s): %s", exc.status, exc.code, exc.text
            )
        except Exception:
            log.exception("discord: handling an event failed")
        finally:
            if task is not None:
                self._in_flight.discard(task)

    # --- messages ---------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return
        text = self.question_in(message)
        if not text:  # not for us, or nothing but an attachment or the mention
            return
        await self._tracked(lambda: self._answer_message(message, text))

    def question_in(self, message: discord.Message) -> str | None:
        """The question of a DM, or of a mention in an allowed channel; None for everything else."""
        assert self.user is not None
        if message.guild is None:
            return message.content.strip()
        allowed = self.config.allowed_channel_ids | (
            {self.config.admin_channel_id} if self.config.admin_channel_id else set()
        )
        if message.channel.id not in allowed or not any(m.id == self.user.id for m in message.mentions):
            return None
        return re.sub(rf"<@!?{self.user.id}>", "", message.content).strip()

    async def _answer_message(self, message: discord.Message, text: str) -> None:
        request = ChatRequest(
            platform=PLATFORM,
            platform_user_id=str(message.author.id),
            conversation_id=str(message.channel.id),
            text=text,
            is_admin_channel=self.config.is_admin_channel(message.channel.id),
            is_direct_message=message.guild is None,
        )
        # core.handle is the error boundary: it always returns a reply, an apology at worst.
        async with contextlib.AsyncExitStack() as stack:
            # The typing indicator is a nicety: failing to show it must not cost the answer.
            with contextlib.suppress(discord.HTTPException):
                await stack.enter_async_context(message.channel.typing())
            reply = await self.core.handle(request)
        view = LinkConsentView(self) if reply.kind == "link_question" else quick_reply_view(reply)
        sent = await self._send_reply(message.channel, reply, reference=message, view=view)
        await self._offer_feedback(reply, sent)

    async def _send_reply(
        self,
        channel: discord.abc.Messageable,
        reply: Reply,
        *,
        reference: discord.Message | None = None,
        view: discord.ui.View | None = None,
    ) -> list[discord.Message]:
        """A list or report as an embed, prose as Markdown; plain messages where embeds are not allowed."""
        messages = discord_messages(reply.structured)
        try:
            return await self._send_messages(channel, messages, reference, view, reply.chart)
        except discord.Forbidden as exc:
            # 50013 Missing Permissions: the channel does not let the bot embed links.
            if exc.code != MISSING_PERMISSIONS or not any(m.embed for m in messages):
                raise
            log.info(
                "discord: cannot send an embed in channel %s (%s); sending plain text", channel, exc.code
            )
            return await self._send_messages(
                channel, plain_messages(reply.structured), reference, view, reply.chart
            )

    async def _send_messages(
        self,
        channel: discord.abc.Messageable,
        messages: list[DiscordMessage],
        reference: discord.Message | None,
        view: discord.ui.View | None = None,
        chart: ChartImage | None = None,
    ) -> list[discord.Message]:
        sent: list[discord.Message] = []
        for index, message in enumerate(messages):
            last = index == len(messages) - 1
            options: dict[str, Any] = {}
            if message.embed:
                options["embed"] = discord.Embed.from_dict(message.embed)
            if view is not None and last:
                options["view"] = view  # buttons go under the last part
            # Only the first part replies to the question: one quote is enough.
            ref = reference if index == 0 and reference is not None and reference.guild is not None else None
            if ref is not None:
                # A deleted question must not cost the answer.
                options.update(reference=ref.to_reference(fail_if_not_exists=False), mention_author=False)
            if chart is not None and last:
                sent.append(await self._send_with_chart(channel, message.content, options, chart))
            else:
                sent.append(await channel.send(message.content, **options))
        return sent

    @staticmethod
    async def _send_with_chart(
        channel: discord.abc.Messageable, content: str | None, options: dict[str, Any], chart: ChartImage
    ) -> discord.Message:
        """The last part with the chart attached; without it where the bot may not attach files."""
        try:
            return await channel.send(content, file=chart_file(chart), **options)
        except discord.Forbidden as exc:
            if exc.code != MISSING_PERMISSIONS:
                raise
            try:
                message = await channel.send(content, **options)
            except discord.Forbidden:
                raise exc from None  # not the file: the caller's fallback (no embeds) takes over
            log.info("discord: cannot attach a chart in channel %s; sent the answer without it", channel)
            return message

    async def _offer_feedback(self, reply: Reply, sent: list[discord.Message]) -> None:
        """Add 👍 and ❌ to the last part of an answer and tell core which message carries them."""
        if not sent or not reply.wants_feedback_reactions or reply.feedback_id is None:
            return
        carrier = sent[-1]
        await self.core.attach_reply(reply.feedback_id, PLATFORM, str(carrier.id))
        for emoji in FEEDBACK_EMOJI:
            await carrier.add_reaction(emoji)

    async def send_direct_message(self, platform_user_id: str, text: str) -> str | bool:
        """One notification as a DM, with 👍/❌ under it like an answer: the id of the message carrying
        them (the member's reactions on it are recorded); False when Discord refuses (the member closed
        DMs, or left every server the bot is in)."""
        try:
            user = self.get_user(int(platform_user_id)) or await self.fetch_user(int(platform_user_id))
            channel = user.dm_channel or await user.create_dm()
            sent = await self._send_reply(channel, Reply(text))
            for emoji in FEEDBACK_EMOJI:
                await sent[-1].add_reaction(emoji)
        except (discord.Forbidden, discord.NotFound, ValueError) as exc:
            log.info("discord: could not DM %s a notification (%s)", platform_user_id, type(exc).__name__)
            return False
        return str(sent[-1].id)

    async def send_to_channel(self, channel_id: str, text: str) -> bool:
        """One announcement (new media of a library) in the channel the settings name for it."""
        try:
            channel = self.get_channel(int(channel_id)) or await self.fetch_channel(int(channel_id))
            if not isinstance(channel, discord.abc.Messageable):
                return False
            await self._send_reply(channel, Reply(text))
        except (discord.Forbidden, discord.NotFound, ValueError) as exc:
            log.warning("discord: could not post an announcement in %s (%s)", channel_id, type(exc).__name__)
            return False
        return True

    async def send_to_admin_channel(self, text: str) -> bool:
        """One alert (an integration failing or recovering) in the admin channel."""
        assert self.config.admin_channel_id is not None
        try:
            channel = self.get_channel(self.config.admin_channel_id) or await self.fetch_channel(
                self.config.admin_channel_id
            )
            if not isinstance(channel, discord.abc.Messageable):
                return False
            await self._send_reply(channel, Reply(text))
        except (discord.Forbidden, discord.NotFound) as exc:
            log.warning("discord: could not post an alert in the admin channel (%s)", type(exc).__name__)
            return False
        return True

    # --- reactions ----------------------------------------------------------------------

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, "added")

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction(payload, "removed")

    async def _reaction(
        self, payload: discord.RawReactionActionEvent, action: Literal["added", "removed"]
    ) -> None:
        if self.user is not None and payload.user_id == self.user.id:
            return
        emoji = normalise_emoji(str(payload.emoji))
        if emoji not in FEEDBACK_EMOJI:
            return
        event = ReactionEvent(
            platform=PLATFORM,
            reply_message_id=str(payload.message_id),
            reactor_platform_user_id=str(payload.user_id),
            emoji=emoji,
            action=action,
        )
        await self._tracked(lambda: self._record(event))

    async def _record(self, event: ReactionEvent) -> None:
        changed = await self.core.record_reaction(event)
        log.debug(
            "discord: reaction %s %s on %s changed=%s",
            event.emoji,
            event.action,
            event.reply_message_id,
            changed,
        )

    # --- slash commands ---------------------------------------------------------------------

    def request_for(
        self, interaction: discord.Interaction, text: str, *, explicit_admin: bool = False
    ) -> ChatRequest:
        return ChatRequest(
            platform=PLATFORM,
            platform_user_id=str(interaction.user.id),
            conversation_id=str(interaction.channel_id or interaction.user.id),
            text=text,
            is_admin_channel=self.config.is_admin_channel(interaction.channel_id),
            explicit_admin=explicit_admin,
            is_direct_message=interaction.guild_id is None,
        )

    async def admin_refusal(self, interaction: discord.Interaction) -> str | None:
        """Why this interaction may not run an admin command, or None when it may (``core.chat.admin_refusal``).

        Holders of the configured admin role count as admins here; core checks its own admins again.
        """
        role_id = self.config.admin_role_id
        has_admin_role = (
            role_id is not None
            and isinstance(interaction.user, discord.Member)
            and any(role.id == role_id for role in interaction.user.roles)
        )
        is_admin = has_admin_role or await self.core.is_admin(PLATFORM, str(interaction.user.id))
        return admin_refusal(
            is_admin=is_admin, in_admin_channel=self.config.is_admin_channel(interaction.channel_id)
        )

    async def respond(
        self,
        interaction: discord.Interaction,
        work: Callable[[], Awaitable[Reply]],
        *,
        ephemeral: bool = True,
        admin_only: bool = False,
    ) -> None:
        """Defer at once, then answer by follow-up (``_tracked`` logs what fails in Discord's calls)."""

        async def run() -> None:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
            if admin_only:
                refusal = await self.admin_refusal(interaction)
                if refusal is not None:
                    log.info(
                        "discord: refused /%s for user %s", _command_name(interaction), interaction.user.id
                    )
                    await interaction.followup.send(refusal, ephemeral=True)
                    return
            reply = await work()  # a core call: its own error boundary turns failures into replies
            sent: list[discord.Message] = []
            messages = discord_messages(reply.structured)
            view = quick_reply_view(reply)
            for index, message in enumerate(messages):
                options: dict[str, Any] = {"ephemeral": ephemeral, "wait": True}
                if view is not None and index == len(messages) - 1:
                    options["view"] = view
                if reply.chart is not None and index == len(messages) - 1:
                    # A follow-up may always carry files (it is the application's own webhook).
                    options["file"] = chart_file(reply.chart)
                if message.embed is not None:
                    embed = discord.Embed.from_dict(message.embed)
                    sent.append(await interaction.followup.send(embed=embed, **options))
                else:
                    sent.append(await interaction.followup.send(message.content or "…", **options))
            if not ephemeral:
                await self._offer_feedback(reply, sent)

        await self._tracked(run)


def chart_file(chart: ChartImage) -> discord.File:
    """A chart as an upload, its alt text as the attachment's description (what screen readers say)."""
    return discord.File(io.BytesIO(chart.png), filename=chart.filename, description=chart.alt_text[:1024])


class LinkConsentView(discord.ui.View):
    """The *Yes, that's me* button under core's "Are you <user>?" question: the same as replying "yes"."""

    def __init__(self, client: MarqueeDiscordClient) -> None:
        super().__init__(timeout=None)
        self.client = client

    @discord.ui.button(label="Yes, that's me", style=discord.ButtonStyle.success, custom_id=LINK_CONSENT_ID)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        # Core decides: it links only the presser's own account, only after asking it, only in a DM.
        request = self.client.request_for(interaction, "yes")
        await self.client.respond(interaction, lambda: self.client.core.handle(request), ephemeral=False)


class QuickReplyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:say:(?P<text>[a-z0-9]{1,12}(?: [0-9]{1,2})?)",
):
    """A button that sends its text for the presser, exactly as if they typed it (core decides what it means
    for them: a number picks from *their* pending choice, "yes" confirms *their* request)."""

    def __init__(self, text: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=_QUICK_REPLY_LABELS.get(text, text.capitalize() if " " in text else text),
                style=discord.ButtonStyle.success
                if text in ("yes", "confirm") or text.startswith("approve ")
                else discord.ButtonStyle.danger
                if text.startswith("decline ")
                else discord.ButtonStyle.secondary
                if text == "cancel"
                else discord.ButtonStyle.primary,
                custom_id=QUICK_REPLY_ID.format(text=text),
            )
        )
        self.text = text

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> QuickReplyButton:
        return cls(match["text"])

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        assert isinstance(client, MarqueeDiscordClient)
        request = client.request_for(interaction, self.text)
        await client.respond(interaction, lambda: client.core.handle(request), ephemeral=False)


def quick_reply_view(reply: Reply) -> discord.ui.View | None:
    """Buttons for a reply's quick replies (discord.py puts five in a row), or None."""
    # A word, or a word and a number ("approve 2": the admin's /requests buttons).
    texts = [t for t in reply.quick_replies if re.fullmatch(r"[a-z0-9]{1,12}(?: [0-9]{1,2})?", t)][:10]
    if not texts:
        return None
    view = discord.ui.View(timeout=None)
    for text in texts:
        view.add_item(QuickReplyButton(text))
    return view


def _command_name(interaction: discord.Interaction) -> str:
    command = interaction.command
    return command.qualified_name if command is not None else "?"


def admin_command(
    name: str, description: str
) -> Callable[[Callable[..., Coroutine[Any, Any, None]]], app_commands.Command[Any, ..., None]]:
    """A slash command hidden from members (default permissions) and checked again in code at run time."""

    def decorate(func: Callable[..., Coroutine[Any, Any, None]]) -> app_commands.Command[Any, ..., None]:
        hidden = app_commands.guild_only()(app_commands.default_permissions(manage_guild=True)(func))
        return app_commands.command(name=name, description=description)(hidden)

    return decorate


def _register_commands(client: MarqueeDiscordClient) -> None:
    core = client.core
    tree = client.tree

    @tree.command(name="ask", description="Ask Marquee about your viewing or the library.")
    @app_commands.describe(question="Your question", ephemeral="Only you see the answer")
    async def ask(interaction: discord.Interaction, question: str, ephemeral: bool = False) -> None:
        request = client.request_for(interaction, question)
        await client.respond(interaction, lambda: core.handle(request), ephemeral=ephemeral)

    @tree.command(name="notify", description="Get a DM when your requests are approved, declined or ready.")
    @app_commands.describe(on="on: tell me (default); off: don't")
    async def notify(interaction: discord.Interaction, on: bool) -> None:
        request = client.request_for(interaction, f"/notify on={on}")
        await client.respond(interaction, lambda: core.set_notifications(request, on))

    @tree.command(name="privacy", description="Choose whether admins may see which titles you watched.")
    @app_commands.describe(share="Share your viewing activity with the server's admins")
    async def privacy(interaction: discord.Interaction, share: bool) -> None:
        request = client.request_for(interaction, f"/privacy share={share}")
        await client.respond(interaction, lambda: core.set_privacy(request, share))

    @admin_command("link", "Link a Discord member to a user of the media server.")
    @app_commands.describe(member="The Discord member", username="Their username on the media server")
    async def link(interaction: discord.Interaction, member: discord.User, username: str) -> None:
        request = client.request_for(interaction, f"/link {member.id} {username}", explicit_admin=True)
        await client.respond(
            interaction,
            lambda: core.link_account(request, PLATFORM, str(member.id), username),
            admin_only=True,
        )

    @admin_command("health", "Marquee's health: syncs, webhooks, answers and the learning queue.")
    async def health(interaction: discord.Interaction) -> None:
        request = client.request_for(interaction, "/health", explicit_admin=True)
        await client.respond(interaction, lambda: core.admin_command(request, "health", []), admin_only=True)

    @admin_command("insights", "What members ask, how well Marquee answers, and what data is missing.")
    async def insights(interaction: discord.Interaction) -> None:
        request = client.request_for(interaction, "/insights", explicit_admin=True)
        await client.respond(
            interaction, lambda: core.admin_command(request, "insights", []), admin_only=True
        )

    @admin_command("requests", "Requests waiting for approval in Overseerr, with approve/decline buttons.")
    async def requests(interaction: discord.Interaction) -> None:
        request = client.request_for(interaction, "/requests", explicit_admin=True)
        await client.respond(
            interaction, lambda: core.admin_command(request, "requests", []), ephemeral=False, admin_only=True
        )

    @admin_command("learning", "The learning queue: questions Marquee could not answer well.")
    @app_commands.describe(
        action="list, show, resolve or wont-fix",
        item="The queue item's id (show, resolve, wont-fix)",
        note="A note",
    )
    @app_commands.choices(
        action=[
            app_commands.Choice(name=value, value=value) for value in ("list", "show", "resolve", "wont-fix")
        ]
    )
    async def learning(
        interaction: discord.Interaction,
        action: str = "list",
        item: str | None = None,
        note: str | None = None,
    ) -> None:
        args = [action, *([item] if item else []), *([note] if note else [])]
        request = client.request_for(interaction, "/learning " + " ".join(args), explicit_admin=True)
        await client.respond(
            interaction, lambda: core.admin_command(request, "learning", args), admin_only=True
        )

    for command in (link, health, insights, learning, requests):
        tree.add_command(command)


class DiscordBot:
    """Start and stop Marquee's Discord client; what ``marquee run`` holds."""

    def __init__(self, core: ChatCore, config: DiscordConfig, outbox: Outbox | None = None) -> None:
        self.config = config
        self.client = MarqueeDiscordClient(core, config)
        self._runner: asyncio.Task[None] | None = None
        self._outbox = outbox
        self._notifier: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in (a wrong token fails here, once) and connect in the background, reconnecting after losses."""
        await self.client.login(self.config.token)
        self._runner = asyncio.create_task(self._connect(), name="discord-gateway")
        if self._outbox is not None:
            self._notifier = asyncio.create_task(
                self._outbox.run(
                    PLATFORM,
                    self.client.send_direct_message,
                    self.client.connected.is_set,
                    self.client.send_to_admin_channel if self.config.admin_channel_id is not None else None,
                    self.client.send_to_channel,
                ),
                name="discord-notifications",
            )

    async def _connect(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired as exc:
            log.error("discord: the gateway refused the intents: %s", exc)
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:
                log.error("discord: the gateway refused the token (4004); check MARQUEE_DISCORD_TOKEN")
            else:
                log.error("discord: the gateway closed the connection (code %s); not reconnecting", exc.code)

    async def stop(self) -> None:
        """Finish the answers in flight, then close the connection."""
        if self._notifier is not None:
            self._notifier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._notifier
        await self.client.drain()
        await self.client.close()
        if self._runner is not None:
            try:
                await asyncio.wait_for(self._runner, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                pass
            except Exception:
                log.exception("discord: the gateway task ended with an error")
        log.info("discord: disconnected")
