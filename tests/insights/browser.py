"""What the AI-insights page's browser tests share: Debian's Chromium driven by Playwright, signing in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from adapters.http.server import RunningServer
from core import insights_access

from .conftest import Seeded, base_url

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "insights"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SECTIONS = ("struggles", "missing-data", "satisfaction", "calibration", "charts", "queue", "actions")

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium); nothing is downloaded",
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_browser() -> AsyncIterator[Browser]:
    """One Chromium for the module: starting one costs about a second, a fresh context a few ms."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browser(shared_browser: Browser) -> AsyncIterator[Browser]:
    """The module's Chromium; the contexts (cookies, storage, pages) a test opens are closed after it."""
    yield shared_browser
    for context in shared_browser.contexts:
        await context.close()


async def link_for(pool: asyncpg.Pool, user_id: object, ttl: timedelta = timedelta(minutes=10)) -> str:
    async with pool.acquire() as conn:
        token = await insights_access.issue_sign_in_link(conn, user_id=user_id, actor="root (discord)", ttl=ttl)  # type: ignore[arg-type]
    return token


async def sign_in(page: Page, server: RunningServer, token: str) -> None:
    await page.goto(insights_access.sign_in_url(base_url(server), token))
    await page.click("#sign-in")


async def signed_in_page(browser: Browser, server: RunningServer, pool: asyncpg.Pool, seeded: Seeded, viewport: dict[str, int] = DESKTOP) -> Page:
    page = await (await browser.new_context(viewport=viewport)).new_page()  # type: ignore[arg-type]
    await sign_in(page, server, await link_for(pool, seeded.admin))
    await expect(page.locator("#notice")).to_have_text("Signed in.")
    return page


async def entry(pool: asyncpg.Pool, entry_id: object) -> asyncpg.Record:
    return await pool.fetchrow("SELECT * FROM ai_learning_queue WHERE id = $1", entry_id)
