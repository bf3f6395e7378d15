"""The AI-insights page in a real headless Chromium, light and dark, phone and desktop: how it looks.

Screenshots of every section at phone and desktop width go to tests/artifacts/insights/.
"""

from __future__ import annotations

import asyncpg
import pytest
from one_loop_per_module import _function_scoped_runner  # noqa: F401 (the module's tests share one loop)
from playwright.async_api import Browser, expect

from adapters.http.server import RunningServer

from .browser import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    SECTIONS,
    browser,
    link_for,
    needs_chromium,
    shared_browser,
    sign_in,
)
from .conftest import Seeded, base_url

__all__ = ["browser", "shared_browser"]  # fixtures: one Chromium for the module, a clean browser per test
pytestmark = needs_chromium


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_screenshots_of_every_section(
    browser: Browser,
    server: RunningServer,
    db_pool: asyncpg.Pool,
    seeded: Seeded,
    viewport: dict[str, int],
    scheme: str,
) -> None:
    context = await browser.new_context(viewport=viewport, color_scheme=scheme)  # type: ignore[arg-type]
    page = await context.new_page()
    await sign_in(page, server, await link_for(db_pool, seeded.admin))
    await page.goto(base_url(server) + "/admin/ai-insights?status=any")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = "phone" if viewport is PHONE else "desktop"
    # nothing sticks out sideways on a phone: the page scrolls only vertically
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    for section in SECTIONS:
        path = ARTIFACTS / f"{section}-{width}-{scheme}.png"
        await page.locator(f"#{section}").screenshot(path=str(path))
        assert path.stat().st_size > 1000
    await page.screenshot(path=str(ARTIFACTS / f"page-{width}-{scheme}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_chat_charts_draw_under_the_strict_csp_in_light_and_dark(
    browser: Browser,
    server: RunningServer,
    db_pool: asyncpg.Pool,
    seeded: Seeded,
    viewport: dict[str, int],
    scheme: str,
) -> None:
    context = await browser.new_context(viewport=viewport, color_scheme=scheme)  # type: ignore[arg-type]
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    await sign_in(page, server, await link_for(db_pool, seeded.admin))

    charts = page.locator("#charts svg.mpl")
    await expect(charts).to_have_count(5)
    for index in range(5):
        box = await charts.nth(index).bounding_box()
        assert box is not None and 250 < box["width"] <= viewport["width"] and box["height"] > 150
    label_colour = await page.evaluate(
        "getComputedStyle(document.querySelector('#chart-storage-by-library svg.mpl text.fg-fill')).fill"
    )
    background = await page.evaluate(
        "getComputedStyle(document.querySelector('#chart-storage-by-library svg.mpl path.bg-fill')).fill"
    )
    # Text follows the page's colours: dark on light, light on dark, never black on a dark card.
    assert (label_colour == "rgb(28, 29, 33)") if scheme == "light" else (label_colour == "rgb(230, 231, 235)")
    assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(28, 30, 36)")
    await expect(page.locator("#chart-storage-by-library")).to_contain_text('TV <script>alert("x")</scri…')
    assert refused == []
    width = "phone" if viewport is PHONE else "desktop"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.locator("#chart-watch-time-by-hour").screenshot(path=str(ARTIFACTS / f"chart-by-hour-{width}-{scheme}.png"))
