"""A local Discord for tests: the gateway (websocket) and the REST API on 127.0.0.1.

The real discord.py client connects to it: ``start()`` points discord.py's
REST base and default gateway at this server. The gateway answers HELLO and
IDENTIFY with READY and GUILD_CREATE, and a test pushes real API v10 dispatch
payloads (MESSAGE_CREATE, MESSAGE_REACTION_ADD/REMOVE, INTERACTION_CREATE).
Every REST call is recorded, answered with the payload Discord would send and
``Content-Type: application/json`` exactly (discord.py only parses JSON when
the header is exactly that).
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord.gateway
import discord.http
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

DISCORD_EPOCH_MS = 1_420_070_400_000
HEARTBEAT_INTERVAL_MS = 41_250

# Gateway opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes)
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 9, 10, 11
GUILD_TEXT, DM = 0, 1

# ``python -c MARQUEE_RUN_AGAINST_FAKE PORT``: the real ``marquee run`` in its own process, with only
# discord.py's REST and gateway addresses pointed at a fake on PORT.
MARQUEE_RUN_AGAINST_FAKE = """
import sys
import discord.gateway, discord.http, yarl
port = sys.argv[1]
discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{port}/")
from bot.cli import main
sys.exit(main(["run"]))
"""
EPHEMERAL = 64


async def start_marquee_run(
    discord_port: int, *, cwd: Path, env: dict[str, str], **streams: Any
) -> asyncio.subprocess.Process:
    """``marquee run`` in its own process, its Discord being the fake on ``discord_port``.

    ``streams`` are ``asyncio.create_subprocess_exec``'s ``stdin``/``stdout``/``stderr``.
    """
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", MARQUEE_RUN_AGAINST_FAKE, str(discord_port), cwd=cwd, env=env, **streams
    )


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())


def user_payload(user_id: int, username: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": None if bot else username.title(),
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
    }


@dataclass(frozen=True)
class UploadedFile:
    """One ``files[n]`` part of a multipart/form-data upload."""

    part_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    method: str
    path: str  # after /api/v10
    query: dict[str, str]
    # The JSON body (for an upload: its ``payload_json`` part).
    body: Any
    # What the fake answered (None for 204 No Content).
    response: Any = None
    files: list[UploadedFile] = field(default_factory=list)


@dataclass
class FakeDiscord:
    """One bot, one guild with an admin channel, an allowed channel and another channel."""

    bot_id: int = 1_100_000_000_000_000_001
    application_id: int = 1_100_000_000_000_000_001
    guild_id: int = 1_200_000_000_000_000_001
    admin_channel_id: int = 1_300_000_000_000_000_001
    allowed_channel_id: int = 1_300_000_000_000_000_002
    other_channel_id: int = 1_300_000_000_000_000_003
    admin_role_id: int = 1_400_000_000_000_000_001
    requests: list[RecordedRequest] = field(default_factory=list)
    identify: dict[str, Any] | None = None
    # Answer every REST call with 401, as Discord does for a reset or mistyped token.
    refuse_token: bool = False
    # Channels where the bot lacks Embed Links: a message with an embed gets 403 / 50013.
    no_embed_channel_ids: set[int] = field(default_factory=set)
    # Channels where the bot lacks Attach Files: a message with a file gets 403 / 50013.
    no_attach_channel_ids: set[int] = field(default_factory=set)
    # Users the bot can look up (GET /users/{id}) and open a DM with (POST /users/@me/channels).
    known_users: dict[int, dict[str, Any]] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._counter = 0
        self._sequence = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self._saved: tuple[str, yarl.URL] | None = None
        self._request_arrived = asyncio.Condition()
        self._interaction_channels: dict[str, int] = {}
        self.ready = asyncio.Event()
        self.bot_user = user_payload(self.bot_id, "marquee", bot=True)

    # --- server life cycle -------------------------------------------------------------

    async def start(self) -> None:
        await self._serve(port=0)
        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = f"http://127.0.0.1:{self.port}/api/v10"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{self.port}/")

    async def _serve(self, port: int) -> None:
        app = web.Application()
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def go_offline(self) -> None:
        """Discord disappears: sockets drop and nothing listens on the port until ``come_back``."""
        self.ready.clear()
        for ws in list(self._sockets):
            await ws.close(code=4000, message=b"network lost")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def come_back(self) -> None:
        await self._serve(port=self.port)

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._saved is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved

    # --- ids and payloads ----------------------------------------------------------------

    def snowflake(self) -> int:
        self._counter += 1
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (self._counter & 0xFFF)

    def channel_payload(self, channel_id: int, name: str) -> dict[str, Any]:
        return {
            "id": str(channel_id),
            "type": GUILD_TEXT,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": 0,
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def guild_payload(self) -> dict[str, Any]:
        role = {
            "id": str(self.guild_id),
            "name": "@everyone",
            "permissions": "2248473465835073",
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        admin_role = {**role, "id": str(self.admin_role_id), "name": "Server admins", "position": 1}
        return {
            "id": str(self.guild_id),
            "name": "Movie night",
            "icon": None,
            "owner_id": "1500000000000000009",
            "unavailable": False,
            "member_count": 3,
            "large": False,
            "features": [],
            "roles": [role, admin_role],
            "emojis": [],
            "stickers": [],
            "channels": [
                self.channel_payload(self.admin_channel_id, "marquee-admin"),
                self.channel_payload(self.allowed_channel_id, "ask-marquee"),
                self.channel_payload(self.other_channel_id, "general"),
            ],
            "threads": [],
            "members": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": _now_iso(),
            "preferred_locale": "en-US",
            "premium_tier": 0,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_flags": 0,
            "afk_timeout": 300,
        }

    def member_payload(self, user: dict[str, Any], roles: list[int]) -> dict[str, Any]:
        return {
            "user": user,
            "roles": [str(role) for role in roles],
            "nick": None,
            "avatar": None,
            "joined_at": _now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }

    def message_payload(
        self,
        channel_id: int,
        author: dict[str, Any],
        content: str,
        *,
        guild: bool = False,
        mentions: list[dict[str, Any]] | None = None,
        flags: int = 0,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(message_id or self.snowflake()),
            "type": 0,
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions or [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "reactions": [],
            "pinned": False,
            "flags": flags,
            "components": [],
        }
        if guild:
            payload["guild_id"] = str(self.guild_id)
        return payload

    # --- pushing gateway events ---------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        await asyncio.wait_for(self.ready.wait(), timeout=10)
        self._sequence += 1
        frame = json.dumps({"op": DISPATCH, "t": event, "s": self._sequence, "d": data})
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.send_str(frame)

    async def send_dm(
        self, author: dict[str, Any], content: str, *, channel_id: int | None = None
    ) -> dict[str, Any]:
        """A member DMs the bot; returns the MESSAGE_CREATE payload."""
        channel = channel_id or int(author["id"]) + 7
        payload = self.message_payload(channel, author, content)
        await self.dispatch("MESSAGE_CREATE", payload)
        return payload

    async def send_guild_message(
        self,
        channel_id: int,
        author: dict[str, Any],
        content: str,
        *,
        mention_bot: bool = True,
        roles: list[int] = (),
    ) -> dict[str, Any]:
        text = f"<@{self.bot_id}> {content}" if mention_bot else content
        payload = self.message_payload(
            channel_id, author, text, guild=True, mentions=[self.bot_user] if mention_bot else []
        )
        payload["member"] = {k: v for k, v in self.member_payload(author, list(roles)).items() if k != "user"}
        await self.dispatch("MESSAGE_CREATE", payload)
        return payload

    async def react(
        self, user_id: int, channel_id: int, message_id: int | str, emoji: str, *, removed: bool = False
    ) -> None:
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(channel_id),
            "message_id": str(message_id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if not removed:
            data["burst_colors"] = []
            data["message_author_id"] = str(self.bot_id)
        await self.dispatch("MESSAGE_REACTION_REMOVE" if removed else "MESSAGE_REACTION_ADD", data)

    async def slash_command(
        self,
        name: str,
        user: dict[str, Any],
        *,
        channel_id: int | None,
        options: list[dict[str, Any]] | None = None,
        roles: list[int] = (),
        resolved: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE for a chat-input command, in a guild channel or (channel_id None) a DM."""
        interaction_id = self.snowflake()
        data: dict[str, Any] = {
            "id": str(self.snowflake()),
            "name": name,
            "type": 1,
            "options": options or [],
        }
        if resolved:
            data["resolved"] = resolved
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": 2,
            "data": data,
            "token": f"interaction-token-{interaction_id}",
            "version": 1,
            "locale": "en-US",
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "attachment_size_limit": 10_485_760,
        }
        if channel_id is None:
            dm_id = int(user["id"]) + 7
            payload["channel_id"] = str(dm_id)
            payload["channel"] = {"id": str(dm_id), "type": DM, "last_message_id": None, "flags": 0}
            payload["user"] = user
            payload["context"] = 1
        else:
            payload["guild_id"] = str(self.guild_id)
            payload["guild_locale"] = "en-US"
            payload["channel_id"] = str(channel_id)
            payload["channel"] = self.channel_payload(channel_id, "channel")
            member = self.member_payload(user, list(roles))
            member["permissions"] = "2248473465835073"
            payload["member"] = member
            payload["context"] = 0
        self._interaction_channels[payload["token"]] = int(payload["channel_id"])
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def press_button(
        self, user: dict[str, Any], message: dict[str, Any], custom_id: str, *, in_guild: bool = False
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE for a button (component type 2) on ``message``, pressed in a DM, or with
        ``in_guild`` in the guild channel the message is in (the presser then arrives as a member)."""
        interaction_id = self.snowflake()
        dm_id = int(message["channel_id"])
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": 3,
            "data": {"custom_id": custom_id, "component_type": 2},
            "message": message,
            "token": f"interaction-token-{interaction_id}",
            "version": 1,
            "locale": "en-US",
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "attachment_size_limit": 10_485_760,
            "channel_id": str(dm_id),
            "channel": {"id": str(dm_id), "type": DM, "last_message_id": None, "flags": 0},
            "user": user,
            "context": 1,
        }
        if in_guild:
            del payload["user"]
            payload["guild_id"] = str(self.guild_id)
            payload["guild_locale"] = "en-US"
            payload["channel"] = self.channel_payload(dm_id, "channel")
            member = self.member_payload(user, [])
            member["permissions"] = "2248473465835073"
            payload["member"] = member
            payload["context"] = 0
        self._interaction_channels[payload["token"]] = dm_id
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    # --- waiting for what the bot did ---------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[RecordedRequest], bool], *, count: int = 1, within: float = 20
    ) -> list[RecordedRequest]:
        async def enough() -> list[RecordedRequest]:
            async with self._request_arrived:
                while True:
                    found = [r for r in self.requests if predicate(r)]
                    if len(found) >= count:
                        return found
                    await self._request_arrived.wait()

        return await asyncio.wait_for(enough(), timeout=within)

    def calls(self, method: str, path_start: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_start)]

    # --- the gateway --------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}, "s": None, "t": None}
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == HEARTBEAT:
                    # A real network's latency: discord.py measures it from a timestamp its heartbeat thread
                    # sets just after sending, so an instant ACK would read as one interval "behind".
                    await asyncio.sleep(0.05)
                    await ws.send_json({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
                elif op == IDENTIFY:
                    self.identify = frame["d"]
                    await self._send_ready(ws)
                elif op == RESUME:
                    # No session memory here: ask for a fresh IDENTIFY, as Discord does for an expired session.
                    await ws.send_json({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
        finally:
            self._sockets.remove(ws)
        return ws

    async def _send_ready(self, ws: web.WebSocketResponse) -> None:
        self._sequence += 1
        ready = {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": f"session-{self.snowflake()}",
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/",
            "shard": [0, 1],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        await ws.send_json({"op": DISPATCH, "t": "READY", "s": self._sequence, "d": ready})
        self._sequence += 1
        await ws.send_json(
            {"op": DISPATCH, "t": "GUILD_CREATE", "s": self._sequence, "d": self.guild_payload()}
        )
        self.ready.set()

    # --- the REST API ------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        files: list[UploadedFile] = []
        if request.content_type == "multipart/form-data":
            body, files = await _read_upload(request)
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if request.content_type == "application/json" and raw else raw.decode()
        recorded = RecordedRequest(request.method, path, dict(request.query), body, files=files)
        status, payload = self._answer(recorded)
        recorded.response = payload
        if payload is None:
            response = web.Response(status=status)
        else:
            response = web.Response(status=status, text=json.dumps(payload))
            # discord.py parses JSON only when the header is exactly this (no charset).
            response.headers["Content-Type"] = "application/json"
        async with self._request_arrived:
            self.requests.append(recorded)
            self._request_arrived.notify_all()
        return response

    def _answer(self, call: RecordedRequest) -> tuple[int, Any]:
        parts = call.path.strip("/").split("/")
        if self.refuse_token:
            return 401, {"message": "401: Unauthorized", "code": 0}
        if call.method == "GET" and call.path == "/users/@me":
            return _ok(self.bot_user)
        if call.method == "GET" and parts[0] == "users" and len(parts) == 2 and parts[1].isdigit():
            user = self.known_users.get(int(parts[1]))
            return _ok(user) if user is not None else (404, {"message": "Unknown User", "code": 10013})
        if call.method == "POST" and call.path == "/users/@me/channels":
            recipient = self.known_users.get(int(call.body["recipient_id"]))
            if recipient is None:
                return 400, {"message": "Invalid Recipient(s)", "code": 50033}
            # The DM channel of a member is the one send_dm uses for them.
            dm = {"id": str(int(recipient["id"]) + 7), "type": 1, "last_message_id": None, "flags": 0,
                  "recipients": [recipient]}  # fmt: skip
            return _ok(dm)
        if call.method == "GET" and call.path == "/oauth2/applications/@me":
            return _ok(self._application())
        if call.method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            return _ok(
                [
                    {
                        **command,
                        "id": str(self.snowflake()),
                        "application_id": str(self.application_id),
                        "version": "1",
                    }
                    for command in call.body
                ]
            )
        if call.method == "POST" and parts[0] == "channels" and parts[-1] == "typing":
            return (204, None)
        if call.method in ("POST", "PATCH") and (parts[0] == "webhooks" or parts[-1] == "messages"):
            invalid = invalid_message_body(call.body)
            if invalid is not None:
                return 400, {"message": "Invalid Form Body", "code": 50035, "errors": invalid}
        if call.method == "POST" and parts[0] == "channels" and parts[-1] == "messages":
            channel_id = int(parts[1])
            if channel_id in self.no_embed_channel_ids and call.body.get("embeds"):
                return 403, {"message": "Missing Permissions", "code": 50013}
            if channel_id in self.no_attach_channel_ids and call.files:
                return 403, {"message": "Missing Permissions", "code": 50013}
            in_guild = channel_id in (self.admin_channel_id, self.allowed_channel_id, self.other_channel_id)
            message = self.message_payload(
                channel_id, self.bot_user, call.body.get("content") or "", guild=in_guild
            )
            message["components"] = call.body.get("components", [])
            message["embeds"] = call.body.get("embeds") or []
            message["attachments"] = self.attachments(channel_id, call)
            return _ok(message)
        if call.method == "PUT" and parts[0] == "channels" and "reactions" in parts:
            return (204, None)
        if call.method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            flags = (call.body.get("data") or {}).get("flags", 0)
            return _ok(
                {
                    "interaction": {
                        "id": parts[1],
                        "type": 2,
                        "response_message_loading": call.body.get("type") == 5,
                        "response_message_ephemeral": bool(flags & EPHEMERAL),
                    },
                    "resource": {"type": call.body.get("type")},
                }
            )
        if call.method == "POST" and parts[0] == "webhooks":
            message = self.message_payload(
                self._interaction_channels.get(parts[2], 0),
                self.bot_user,
                call.body.get("content") or "",
                flags=call.body.get("flags", 0) or 0,
            )
            message["embeds"] = call.body.get("embeds") or []
            message["components"] = call.body.get("components", [])
            message["attachments"] = self.attachments(self._interaction_channels.get(parts[2], 0), call)
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
            return _ok(message)
        return 404, {"message": "404: Not Found", "code": 0}

    def attachments(self, channel_id: int, call: RecordedRequest) -> list[dict[str, Any]]:
        """The message's ``attachments`` as Discord returns them: each upload named by ``attachments[].id``."""
        uploads = {upload.part_name: upload for upload in call.files}
        stored = []
        for entry in call.body.get("attachments") or []:
            upload = uploads.get(f"files[{entry['id']}]")
            if upload is None:
                continue
            attachment_id = self.snowflake()
            url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{upload.filename}"
            stored.append(
                {
                    "id": str(attachment_id),
                    "filename": entry.get("filename") or upload.filename,
                    "size": len(upload.data),
                    "url": url,
                    "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                    # Discord names the type from the file itself (discord.py uploads as octet-stream).
                    "content_type": mimetypes.guess_type(upload.filename)[0] or upload.content_type,
                    **({"description": entry["description"]} if entry.get("description") else {}),
                }
            )
        return stored

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": "Marquee",
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": user_payload(1_500_000_000_000_000_009, "owner"),
            "team": None,
            "bot": self.bot_user,
            "interactions_endpoint_url": None,
            "tags": [],
        }


def _ok(payload: Any) -> tuple[int, Any]:
    return 200, payload


# Discord's documented limits for a message and its embeds
# (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
MESSAGE_CONTENT_LIMIT = 2000
EMBED_LIMITS = {"title": 256, "description": 4096, "fields": 25, "field.name": 256, "field.value": 1024}
EMBED_FOOTER_LIMIT = 2048
EMBEDS_TOTAL_LIMIT = 6000


async def _read_upload(request: web.Request) -> tuple[dict[str, Any], list[UploadedFile]]:
    """A multipart/form-data message: the JSON in ``payload_json`` and the ``files[n]`` parts, as Discord reads them."""
    body: dict[str, Any] = {}
    files: list[UploadedFile] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        assert isinstance(part, BodyPartReader)
        if part.name == "payload_json":
            body = json.loads(await part.text())
        elif part.name and part.name.startswith("files["):
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            files.append(UploadedFile(part.name, part.filename or "", content_type, bytes(await part.read())))
    return body, files


def invalid_message_body(body: Any) -> dict[str, Any] | None:
    """What Discord would refuse in a create-message body (the ``errors`` of a 50035), or None."""
    if not isinstance(body, dict):
        return None
    errors: dict[str, Any] = {}
    content = body.get("content") or ""
    embeds = body.get("embeds") or []
    if len(content) > MESSAGE_CONTENT_LIMIT:
        errors["content"] = "BASE_TYPE_MAX_LENGTH"
    if not content and not embeds and not body.get("attachments"):
        errors["content"] = "empty message"
    total = 0
    for index, embed in enumerate(embeds):
        fields = embed.get("fields") or []
        sizes = {
            "title": len(embed.get("title") or ""),
            "description": len(embed.get("description") or ""),
            "fields": len(fields),
        }
        for name, size in sizes.items():
            if size > EMBED_LIMITS[name]:
                errors[f"embeds.{index}.{name}"] = "BASE_TYPE_MAX_LENGTH"
        footer = len((embed.get("footer") or {}).get("text") or "")
        if footer > EMBED_FOOTER_LIMIT:
            errors[f"embeds.{index}.footer"] = "BASE_TYPE_MAX_LENGTH"
        for number, item in enumerate(fields):
            name, value = item.get("name") or "", item.get("value") or ""
            if not name or len(name) > EMBED_LIMITS["field.name"]:
                errors[f"embeds.{index}.fields.{number}.name"] = "BASE_TYPE_MAX_LENGTH"
            if not value or len(value) > EMBED_LIMITS["field.value"]:
                errors[f"embeds.{index}.fields.{number}.value"] = "BASE_TYPE_MAX_LENGTH"
            total += len(name) + len(value)
        total += sizes["title"] + sizes["description"] + footer
    if total > EMBEDS_TOTAL_LIMIT:
        errors["embeds"] = "MAX_EMBED_SIZE_EXCEEDED"
    return errors or None
