"""The Matrix HTML of real answers, laid out by a real browser engine (Debian's chromium through
Playwright), the way Element shows ``formatted_body``: every list item on its own line, hostile
titles shown as text. Screenshots go to ``MARQUEE_TEST_ARTIFACTS`` (default ``tests/artifacts/``)."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tools.fixture_server import build_fixture_server

from adapters.chat.matrix_rendering import reply_content
from core.answer import Answer, parse_answer

from .answers import report_answers, tool_answers
from .surfaces import model_items

CHROMIUM = os.environ.get("MARQUEE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("MARQUEE_TEST_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))
HOSTILE_TITLE = '<script>alert("x")</script> **Bold** [link](http://evil.example) - not a list'

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason=f"chromium not found at {CHROMIUM} (apt-get install chromium)"
)

# Roughly Element's message body: its font, sizes and list indentation.
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: Inter, "Noto Sans", sans-serif; font-size: 15px; line-height: 22px; color: #17191c;
       background: #fff; margin: 0; padding: 16px; width: 640px; }}
.sender {{ color: #0dbd8b; font-weight: 600; margin-bottom: 4px; }}
.mx_EventTile_body h4 {{ font-size: 1.1em; margin: 0 0 6px; }}
.mx_EventTile_body p {{ margin: 0 0 8px; }}
.mx_EventTile_body ul, .mx_EventTile_body ol {{ margin: 0 0 8px; padding-left: 24px; }}
.mx_EventTile_body code {{ font-family: monospace; background: #f4f6fa; padding: 0 2px; border-radius: 3px; }}
</style></head><body><div class="sender">Marquee</div><div class="mx_EventTile_body">{html}</div></body></html>"""


async def _answers(pool: asyncpg.Pool) -> dict[str, Answer]:
    server = await build_fixture_server(pool)
    await pool.execute(
        "INSERT INTO media_items (title, media_type, year, added_at) VALUES ($1, 'movie', 2024, $2)",
        HOSTILE_TITLE,
        server.now,
    )
    texts = await tool_answers(pool)
    reports = await report_answers(pool)
    chosen = {
        name.replace("/", "-"): parse_answer(texts[name])
        for name in (
            "recommend_tonight/personal",
            "unwatched_content/personal",
            "new_in_library/personal",
            "storage_by_library/admin",
            "power_users/admin",
        )
    }
    return {**chosen, "health": reports["health"], "insights": reports["insights"]}


async def test_lists_of_real_answers_are_laid_out_one_item_per_line_in_chromium(
    db_pool: asyncpg.Pool,
) -> None:
    from playwright.async_api import async_playwright

    answers = await _answers(db_pool)
    await asyncio.to_thread(ARTIFACTS.mkdir, parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 680, "height": 400})
            item_texts: dict[str, list[str]] = {}
            for name, answer in answers.items():
                html = reply_content(answer, "$question")["formatted_body"]
                await page.set_content(PAGE.format(html=html))
                layout: dict[str, Any] = await page.evaluate(
                    """() => ({
                        items: [...document.querySelectorAll('li')].map(li => ({
                            top: li.getBoundingClientRect().top,
                            display: getComputedStyle(li).display,
                            text: li.innerText,
                        })),
                        scripts: document.querySelectorAll('.mx_EventTile_body script').length,
                        links: document.querySelectorAll('.mx_EventTile_body a').length,
                        text: document.querySelector('.mx_EventTile_body').innerText,
                    })"""
                )
                await page.screenshot(path=str(ARTIFACTS / f"matrix-{name}.png"), full_page=True)
                items = layout["items"]
                assert len(items) == model_items(answer), name
                assert all(item["display"] == "list-item" for item in items), name
                tops = [item["top"] for item in items]
                assert tops == sorted(tops) and len(set(tops)) == len(tops), f"{name}: items share a line"
                assert layout["scripts"] == 0 and layout["links"] == 0, name
                item_texts[name] = [item["text"] for item in items]
        finally:
            await browser.close()
    # The hostile title is shown exactly as typed, inside one list item.
    assert sum(HOSTILE_TITLE in text for text in item_texts["new_in_library-personal"]) == 1
