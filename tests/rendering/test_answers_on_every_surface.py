"""Every tool's real answer, on the hand-built servers and a generated demo server, rendered on
every surface (Matrix HTML and body, Discord messages and embeds, the terminal, JSON) and checked
for structure: every list item its own item, no list line inside a paragraph, within Discord's
limits, the plain text readable on its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import asyncpg
import pytest
from offline_engine.fixture_server import build_fixture_server as build_engine_fixture
from tools.fixture_server import build_fixture_server as build_tools_fixture

from bot.database import with_database
from core.answer import to_markdown
from core.db import create_pool
from core.demo_data import DemoConfig, generate_demo_data

from .answers import report_answers, tool_answers
from .surfaces import check_every_surface

DEMO = DemoConfig(
    seed=5, users=8, items=120, days=60, now=datetime(2026, 11, 21, 20, tzinfo=UTC), timezone="UTC"
)


@pytest.fixture(scope="module")
def demo_url(postgres_admin_dsn: str, template_database: str) -> Iterator[str]:
    name = f"marquee_render_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(postgres_admin_dsn)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    async def create() -> None:
        await admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        pool = await create_pool(with_database(postgres_admin_dsn, name), max_size=2)
        try:
            await generate_demo_data(pool, DEMO)
        finally:
            await pool.close()

    asyncio.run(create())
    yield with_database(postgres_admin_dsn, name)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_every_tool_answer_on_the_demo_server_renders_well_everywhere(demo_url: str) -> None:
    pool = await create_pool(demo_url, max_size=3)
    try:
        answers = await tool_answers(pool, DEMO.timezone)
        reports = await report_answers(pool)
    finally:
        await pool.close()
    assert len(answers) >= 40
    rendered = {name: check_every_surface(name, text) for name, text in answers.items()}
    for name, report in reports.items():
        check_every_surface(name, to_markdown(report))
    # The demo server has data: most answers are lists, and those are the ones that went wrong before.
    assert sum(1 for answer in rendered.values() if answer.is_structured) >= 25


async def test_every_tool_answer_on_the_hand_built_servers_renders_well_everywhere(
    db_pool: asyncpg.Pool,
) -> None:
    await build_tools_fixture(db_pool)
    for name, text in (await tool_answers(db_pool)).items():
        check_every_surface(f"tools fixture: {name}", text)
    for name, report in (await report_answers(db_pool)).items():
        check_every_surface(f"tools fixture: {name}", to_markdown(report))


async def test_every_tool_answer_on_the_engine_fixture_renders_well_everywhere(db_pool: asyncpg.Pool) -> None:
    await build_engine_fixture(db_pool, datetime.now(UTC))
    for name, text in (await tool_answers(db_pool)).items():
        check_every_surface(f"engine fixture: {name}", text)


async def test_every_tool_answer_on_an_empty_server_renders_well_everywhere(db_pool: asyncpg.Pool) -> None:
    await db_pool.execute("INSERT INTO users (username, role) VALUES ('ann', 'user'), ('root', 'admin')")
    for name, text in (await tool_answers(db_pool)).items():
        check_every_surface(f"empty: {name}", text)
