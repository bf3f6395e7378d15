"""Who gets a sign-in link and what the link and its session allow, without a browser."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from datetime import timedelta

import aiohttp
import asyncpg
import pytest

from adapters.http.insights_page import InsightsPageConfig
from adapters.http.server import WebhookConfig, build_app, start_http_server
from bot.integrations import IntegrationsService, insights_page_config
from bot.settings import Settings, SettingsError, load_settings
from core import insights_access
from core.assistant import Assistant, AssistantConfig
from core.chat import ChatRequest

from .conftest import ADMIN_DISCORD, MEMBER_DISCORD, Seeded

LINK = re.compile(r"<?(https?://[^>\s]+/admin/ai-insights/sign-in\?token=([A-Za-z0-9_-]+))>?")


def assistant(pool: asyncpg.Pool, base: str = "https://marquee.example.org") -> Assistant:
    config = AssistantConfig(insights_page=insights_access.SignInLinkConfig(base, timedelta(minutes=10)))
    # admin commands use no engine and no tools
    return Assistant(pool, None, lambda scope: None, config=config)  # type: ignore[arg-type,return-value]


def in_channel(user: str, *, admin_channel: bool = True) -> ChatRequest:
    return ChatRequest("discord", user, "admin-room", "/insights", admin_channel, False)


async def test_an_admin_asking_insights_in_the_admin_channel_gets_a_one_time_link_for_themselves(
    db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    reply = await assistant(db_pool).admin_command(in_channel(ADMIN_DISCORD), "insights", [])

    assert reply.kind == "admin"
    assert "**AI learning insights" in reply.text  # the text report stays complete on its own
    match = LINK.search(reply.text)
    assert match and match.group(1).startswith("https://marquee.example.org/admin/ai-insights/sign-in?token=")
    assert "valid 10 minutes" in reply.text
    link = await db_pool.fetchrow("SELECT * FROM insights_sign_in_links")
    assert link["user_id"] == seeded.admin and link["actor"] == "root (discord)"
    assert link["token_hash"] != match.group(2).encode()  # stored hashed
    async with db_pool.acquire() as conn:
        _token, session = await insights_access.redeem_sign_in_link(conn, match.group(2))
    assert session.actor == "root (discord)"


async def test_a_member_or_an_admin_outside_the_admin_channel_gets_no_link(
    db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    member = await assistant(db_pool).admin_command(in_channel(MEMBER_DISCORD), "insights", [])
    elsewhere = await assistant(db_pool).admin_command(
        in_channel(ADMIN_DISCORD, admin_channel=False), "insights", []
    )

    assert member.kind == elsewhere.kind == "refused"
    assert "sign-in" not in member.text + elsewhere.text
    assert await db_pool.fetchval("SELECT count(*) FROM insights_sign_in_links") == 0


async def test_links_and_sessions_expire_and_sessions_end(db_pool: asyncpg.Pool, seeded: Seeded) -> None:
    async with db_pool.acquire() as conn:
        token = await insights_access.issue_sign_in_link(conn, user_id=seeded.admin, actor="root")
        session_token, _ = await insights_access.redeem_sign_in_link(conn, token, timedelta(hours=12))
        assert await insights_access.session_for(conn, session_token) is not None
        await conn.execute("UPDATE insights_sessions SET expires_at = now() - interval '1 second'")
        assert await insights_access.session_for(conn, session_token) is None

        token = await insights_access.issue_sign_in_link(conn, user_id=seeded.admin, actor="root")
        session_token, _ = await insights_access.redeem_sign_in_link(conn, token)
        await insights_access.end_session(conn, session_token)
        assert await insights_access.session_for(conn, session_token) is None
        with pytest.raises(insights_access.SignInRefused, match="not valid"):
            await insights_access.redeem_sign_in_link(conn, "made-up-token")
        assert await insights_access.session_for(conn, "x" * 500) is None


async def test_https_public_url_makes_the_cookie_secure_and_the_token_never_reaches_the_logs(
    db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    app = build_app(db_pool, WebhookConfig(), InsightsPageConfig(secure_cookie=True))
    server = await start_http_server(app, "127.0.0.1", 0)
    try:
        async with db_pool.acquire() as conn:
            token = await insights_access.issue_sign_in_link(conn, user_id=seeded.admin, actor="root")
        url = f"http://127.0.0.1:{server.port}/admin/ai-insights/sign-in"
        async with aiohttp.ClientSession() as http:
            async with http.get(url, params={"token": token}) as shown:
                assert shown.status == 200
                assert shown.headers["Referrer-Policy"] == "no-referrer"
                assert "frame-ancestors 'none'" in shown.headers["Content-Security-Policy"]
            async with http.post(url, data={"token": token}, allow_redirects=False) as signed_in:
                assert signed_in.status == 303
                cookie = signed_in.headers["Set-Cookie"]
    finally:
        await server.stop()
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Max-Age=43200" in cookie
    logged = await db_pool.fetch("SELECT endpoint FROM api_logs")
    assert logged and all(token not in row["endpoint"] for row in logged)


def test_public_url_setting_shapes_the_links(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("MARQUEE_"):
            monkeypatch.delenv(key)
    assert load_settings().public_base_url == "http://localhost:8787"
    assert load_settings(http_host="10.0.0.5", http_port=9000).public_base_url == "http://10.0.0.5:9000"
    assert load_settings(public_url="https://media.example.org/marquee/").public_base_url == (
        "https://media.example.org/marquee"
    )
    with pytest.raises(SettingsError, match="MARQUEE_PUBLIC_URL"):
        load_settings(public_url="media.example.org")
    with pytest.raises(SettingsError, match="MARQUEE_INSIGHTS_LINK_MINUTES"):
        load_settings(insights_link_minutes=0)


async def test_marquee_insights_link_prints_a_working_link_for_the_host(
    database_url: str, db_pool: asyncpg.Pool, tmp_path: object
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARQUEE_")}
    env.update({"MARQUEE_DATABASE_URL": database_url, "MARQUEE_PUBLIC_URL": "https://marquee.example.org"})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "insights", "--link",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(tmp_path),
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)

    assert process.returncode == 0, stderr.decode()
    url = stdout.decode().splitlines()[0]
    assert url.startswith("https://marquee.example.org/admin/ai-insights/sign-in?token=")
    async with db_pool.acquire() as conn:
        _token, session = await insights_access.redeem_sign_in_link(conn, url.split("token=")[1])
    assert session.actor == insights_access.HOST_ACTOR and session.user_id is None


async def test_hostile_questions_and_notes_are_shown_as_text(db_pool: asyncpg.Pool, seeded: Seeded) -> None:
    hostile = '<script>alert("q")</script><img src=x onerror=alert(1)>'
    async with db_pool.acquire() as conn:
        await conn.execute(
            "UPDATE ai_learning_queue SET question = $1, resolution_note = $1, missing_tables = ARRAY[$1]"
            " WHERE id = $2",
            hostile,
            seeded.genres,
        )
        token = await insights_access.issue_sign_in_link(conn, user_id=seeded.admin, actor=hostile)
        session_token, _ = await insights_access.redeem_sign_in_link(conn, token)
    server = await start_http_server(build_app(db_pool, WebhookConfig(), InsightsPageConfig()), "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession(cookies={"marquee_insights": session_token}) as http:
            async with http.get(f"http://127.0.0.1:{server.port}/admin/ai-insights?status=any") as page:
                assert page.status == 200
                body = await page.text()
    finally:
        await server.stop()
    assert "<script>" not in body and "<img" not in body
    assert "&lt;script&gt;alert(&#34;q&#34;)&lt;/script&gt;" in body


def test_the_page_settings_follow_the_public_url_and_the_session_hours() -> None:
    https = insights_page_config(
        Settings(_env_file=None, public_url="https://marquee.example.org", insights_session_hours=2, timezone="Asia/Tokyo")  # type: ignore[call-arg]
    )
    plain = insights_page_config(Settings(_env_file=None, public_url="http://192.168.1.5:8787"))  # type: ignore[call-arg]

    assert https.secure_cookie and not plain.secure_cookie
    assert https.session_ttl == timedelta(hours=2) and https.timezone == "Asia/Tokyo"


async def test_marquee_runs_server_serves_the_page(db_pool: asyncpg.Pool) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    service = IntegrationsService(db_pool, Settings(_env_file=None, http_host="127.0.0.1", http_port=port))  # type: ignore[call-arg]
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/admin/ai-insights") as page:
                assert page.status == 401
                assert "ask /insights in the admin channel" in await page.text()
    finally:
        await service.stop()
