"""The small platform-neutral types that chat adapters and core exchange.

An adapter turns a platform event into a ``ChatRequest`` (or a
``ReactionEvent``), hands it to ``core.assistant.Assistant`` and renders the
``Reply`` it gets back. Nothing here knows a platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol
from uuid import UUID

from core.answer import Answer, parse_answer, to_plain_text

Platform = Literal["discord", "matrix", "console"]
ReplyKind = Literal[
    "answer", "link_instructions", "link_question", "refused", "rate_limited", "error", "admin"
]
ReactionAction = Literal["added", "removed"]

THUMBS_UP = "👍"
WRONG = "❌"
FEEDBACK_EMOJI = (THUMBS_UP, WRONG)
# Variation selectors (text U+FE0E, emoji U+FE0F) and skin tones (U+1F3FB..U+1F3FF) that clients
# add to the same emoji: Element's quick 👍 is "👍" + U+FE0F, and a 👍🏽 is still a 👍.
_EMOJI_DECORATIONS = frozenset({"\ufe0e", "\ufe0f", *(chr(code) for code in range(0x1F3FB, 0x1F400))})

# The admin commands of ``ChatCore.admin_command`` and how each is written: every platform offers
# them (Matrix as ``!name``, the console as ``/name``, Discord as slash commands declared one by one).
ADMIN_COMMANDS: dict[str, str] = {
    "health": "health",
    "insights": "insights",
    "learning": "learning [list|show ID|resolve ID [note]|wont-fix ID [note]]",
    "requests": "requests",
}
NOT_ADMIN = "That command is only for admins of this server."
NOT_ADMIN_CHANNEL = "Admin commands work only in the admin channel."


def normalise_emoji(emoji: str) -> str:
    """The emoji without variation selectors or skin tones, so "👍\ufe0f" and "👍🏽" count as "👍"."""
    return "".join(char for char in emoji if char not in _EMOJI_DECORATIONS)


def admin_commands_usage(prefix: str) -> str:
    """The admin commands as a platform writes them: ``admin_commands_usage("!")`` → "`!health`, ..."."""
    return ", ".join(f"`{prefix}{usage}`" for usage in ADMIN_COMMANDS.values())


def admin_refusal(*, is_admin: bool, in_admin_channel: bool) -> str | None:
    """Why an admin command may not run for this sender here, or None when it may.

    Only admins, and only in an admin channel or room: an answer about the whole server must not
    land where members read it.
    """
    if not is_admin:
        return NOT_ADMIN
    if not in_admin_channel:
        return NOT_ADMIN_CHANNEL
    return None


@dataclass(frozen=True)
class ChatRequest:
    platform: Platform
    platform_user_id: str
    conversation_id: str
    text: str
    # True when the message arrived in a configured admin channel/room.
    is_admin_channel: bool = False
    # True for an explicit admin command (/health, !learning, marquee ask --admin).
    explicit_admin: bool = False
    # True when only the sender reads the conversation (a DM): where Marquee may ask
    # "are you <server user>?" without telling anyone else.
    is_direct_message: bool = False


@dataclass(frozen=True)
class ChartImage:
    """A PNG that shows what an answer says (sent next to the text, which stays complete on its own)."""

    png: bytes
    alt_text: str
    filename: str


@dataclass
class Reply:
    """What to send back.

    ``text`` is the Markdown-ish text as written; ``structured`` is the same
    answer as blocks, which is what adapters render for their surface.
    """

    text: str
    kind: ReplyKind = "answer"
    feedback_id: UUID | None = None
    confidence: float | None = None
    # Answers get 👍/❌ reactions; instructions, refusals and errors do not.
    wants_feedback_reactions: bool = False
    details: dict[str, object] = field(default_factory=dict)
    # Set when the answer was built as blocks; otherwise ``structured`` parses ``text``.
    answer: Answer | None = None
    # Short replies the asker may send next ("1", "yes", "cancel"); platforms with buttons show them
    # as buttons, and pressing one is exactly the same as typing it.
    quick_replies: tuple[str, ...] = ()
    # A chart of the answer's figures, when one says it better (``core.charts``); None when off or not drawn.
    chart: ChartImage | None = None

    @property
    def structured(self) -> Answer:
        answer = self.answer if self.answer is not None else parse_answer(self.text)
        if answer.confidence is None and self.confidence is not None and self.wants_feedback_reactions:
            answer = answer.with_confidence(self.confidence)
        return answer

    @property
    def plain_text(self) -> str:
        """The answer without any formatting marks (Matrix ``body``, ``marquee ask --json``)."""
        return to_plain_text(self.structured)


@dataclass(frozen=True)
class ReactionEvent:
    platform: Platform
    reply_message_id: str
    reactor_platform_user_id: str
    emoji: str
    action: ReactionAction


class ChatCore(Protocol):
    """What chat adapters call; implemented by ``core.assistant.Assistant``."""

    async def handle(self, request: ChatRequest) -> Reply:
        """Answer one message (or return link instructions, the "are you <user>?" link question, a refusal,
        a rate-limit note). A ``link_question`` reply may be rendered with a button that sends "yes"."""
        ...

    async def attach_reply(self, feedback_id: UUID, platform: Platform, reply_message_id: str) -> None:
        """Remember the platform id of the sent reply so reactions on it find the feedback row."""
        ...

    async def record_reaction(self, event: ReactionEvent) -> bool:
        """Apply a 👍/❌ added or removed; True when it changed a feedback row (only the asker counts)."""
        ...

    async def is_admin(self, platform: Platform, platform_user_id: str) -> bool: ...

    async def admin_command(self, request: ChatRequest, command: str, args: list[str]) -> Reply:
        """``health``, ``learning [list|show ID|resolve ID [note]|wont-fix ID [note]]``, ``insights``.

        Refuses (kind='refused') a sender who is not a linked admin or a request outside an admin channel.
        """
        ...

    async def link_account(
        self, request: ChatRequest, platform: Platform, platform_user_id: str, username: str
    ) -> Reply:
        """An admin links a chat identity to a server user."""
        ...

    async def set_privacy(self, request: ChatRequest, share_activity_with_admins: bool) -> Reply: ...

    async def set_notifications(self, request: ChatRequest, on: bool | None) -> Reply:
        """``/notify on|off``: whether the sender gets a DM when their requests change; None shows the setting."""
        ...
