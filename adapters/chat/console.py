"""The console chat: the same core path as Discord and Matrix, in a terminal.

Every line is a ``ChatRequest`` on platform ``console``; answers are rendered
as Markdown. ``/up`` and ``/wrong`` react to the last answer exactly like 👍 and
❌ on a chat platform (``/undo`` takes the last reaction back); admins switch
admin mode with ``/admin`` and run ``/health``, ``/learning ...`` and
``/insights``.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

from rich.console import Console
from rich.text import Text

from adapters.chat.console_rendering import answer_rich
from core.answer import parse_answer
from core.chat import (
    ADMIN_COMMANDS,
    THUMBS_UP,
    WRONG,
    ChartImage,
    ChatCore,
    ChatRequest,
    ReactionEvent,
    Reply,
    admin_commands_usage,
)
from core.errors import APOLOGY

HELP = f"""\
Ask anything about your server, e.g. *What should I watch tonight?*

- `/up`, `/wrong` — 👍 or ❌ on the last answer; `/undo` takes your last reaction back
- `/privacy on|off` — let admins see which titles you watched (or not)
- `/notify [on|off]` — a message when your requests are approved, declined or ready (default on)
- *can you get Dune for me?* — request a title; reply with a number, then *yes*
- `/admin` — switch admin mode on or off (admins only)
- {admin_commands_usage("/")} — admin reports
- `approve N` / `decline N: reason` — after `/requests`, decide a request (admins)
- `/quit` — leave
"""

ReadLine = Callable[[str], Awaitable[str | None]]

log = logging.getLogger(__name__)


async def read_stdin_line(prompt: str) -> str | None:
    """One line from the terminal without blocking the event loop; None at end of input."""
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


@dataclass
class _LastAnswer:
    feedback_id: UUID
    message_id: str


def save_chart(chart: ChartImage) -> str:
    """Write the PNG to a new temporary file (readable by its owner only) and return its path."""
    stem = chart.filename.removesuffix(".png")
    with tempfile.NamedTemporaryFile(prefix=f"marquee-{stem}-", suffix=".png", delete=False) as file:
        file.write(chart.png)
    return file.name


class ConsoleChat:
    def __init__(
        self,
        core: ChatCore,
        platform_user_id: str,
        *,
        admin_mode: bool = False,
        console: Console | None = None,
        read_line: ReadLine = read_stdin_line,
        conversation_id: str = "console",
    ) -> None:
        self.core = core
        self.platform_user_id = platform_user_id
        self.admin_mode = admin_mode
        self.console = console or Console()
        self.read_line = read_line
        self.conversation_id = conversation_id
        self._replies = 0
        # Reply ids must be unique for the platform across sessions (feedback rows outlive
        # them), so each session numbers its replies under its own token.
        self._session = uuid4().hex[:12]
        self._last: _LastAnswer | None = None
        self._last_reaction: str | None = None

    def _request(self, text: str, *, admin_place: bool = False) -> ChatRequest:
        # The terminal is the operator's own, private place: admin commands typed here count as
        # sent in the admin channel (the Assistant still refuses them to non-admins).
        return ChatRequest(
            platform="console",
            platform_user_id=self.platform_user_id,
            conversation_id=self.conversation_id,
            text=text,
            is_admin_channel=self.admin_mode or admin_place,
            is_direct_message=True,
        )

    def show(self, reply: Reply) -> None:
        self.console.print(answer_rich(reply.structured))
        if reply.wants_feedback_reactions and reply.confidence is not None:
            self.console.print(f"[dim]confidence {reply.confidence:.2f} · /up or /wrong[/dim]")

    async def run(self) -> None:
        self.console.print(answer_rich(parse_answer(HELP)))
        while True:
            line = await self.read_line("admin> " if self.admin_mode else "you> ")
            if line is None:
                return
            line = line.strip()
            if not line:
                continue
            if line in ("/quit", "/exit", "/q"):
                return
            try:
                await self.handle_line(line)
            except Exception:
                # One failed line (the database went away, a bug) must not end the session.
                log.exception("console: handling a line failed")
                self.console.print(APOLOGY)

    async def handle_line(self, line: str) -> None:
        if line.startswith("/"):
            await self._command(line[1:].split())
            return
        reply = await self.core.handle(self._request(line))
        if reply.feedback_id is not None:
            self._replies += 1
            message_id = f"{self.conversation_id}:{self._session}:{self._replies}"
            await self.core.attach_reply(reply.feedback_id, "console", message_id)
            self._last = _LastAnswer(reply.feedback_id, message_id)
            self._last_reaction = None
        self.show(reply)
        if reply.chart is not None:
            # A terminal shows no pictures: the chart is saved where an image viewer can open it.
            path = await asyncio.to_thread(save_chart, reply.chart)
            self.console.print(Text(f"A chart of this answer: {path}", style="dim"))

    async def _react(self, emoji: str, action: str) -> bool:
        assert self._last is not None
        event = ReactionEvent("console", self._last.message_id, self.platform_user_id, emoji, action)  # type: ignore[arg-type]
        return await self.core.record_reaction(event)

    async def _command(self, words: list[str]) -> None:
        command, args = (words[0].lower(), words[1:]) if words else ("help", [])
        if command in ("up", "wrong", "undo"):
            if self._last is None:
                self.console.print("There is no answer to react to yet.")
                return
            if command == "undo":
                if self._last_reaction is None:
                    self.console.print("Nothing to undo.")
                    return
                await self._react(self._last_reaction, "removed")
                self._last_reaction = None
                self.console.print("Reaction removed.")
                return
            emoji = THUMBS_UP if command == "up" else WRONG
            changed = await self._react(emoji, "added")
            self._last_reaction = emoji
            self.console.print(
                ("Thanks! " if emoji == THUMBS_UP else "Noted, I'll learn from it. ")
                if changed
                else "Already recorded."
            )
        elif command == "privacy" and args and args[0].lower() in ("on", "off"):
            self.show(await self.core.set_privacy(self._request(""), args[0].lower() == "on"))
        elif command == "notify" and (not args or args[0].lower() in ("on", "off")):
            self.show(
                await self.core.set_notifications(
                    self._request(""), args[0].lower() == "on" if args else None
                )
            )
        elif command == "admin":
            if not await self.core.is_admin("console", self.platform_user_id):
                self.console.print("Admin mode is only for admins of this server.")
                return
            self.admin_mode = not self.admin_mode
            self.console.print(f"Admin mode {'on' if self.admin_mode else 'off'}.")
        elif command in ADMIN_COMMANDS:
            self.show(await self.core.admin_command(self._request("", admin_place=True), command, args))
        else:
            self.console.print(answer_rich(parse_answer(HELP)))
