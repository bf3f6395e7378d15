"""The offline engine's corpus reliability table is on the page, held-out part apart, next to the runtime one."""

from __future__ import annotations

import re

import aiohttp
import asyncpg

from adapters.http.server import RunningServer
from core import insights_access
from core.engines.offline.corpus_reliability import corpus_reliability

from .conftest import Seeded, base_url


async def page_html(pool: asyncpg.Pool, server: RunningServer, seeded: Seeded) -> str:
    async with pool.acquire() as conn:
        token = await insights_access.issue_sign_in_link(conn, user_id=seeded.admin, actor="root (discord)")
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url(server), cookie_jar=jar) as http:
        async with http.post(insights_access.SIGN_IN_PATH, data={"token": token}) as signed_in:
            assert signed_in.status == 200
        async with http.get(insights_access.PAGE_PATH) as page:
            return await page.text()


def table(html: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert match, table_id
    return match.group(1)


async def test_the_corpus_reliability_table_shows_held_out_and_tuning_apart(
    db_pool: asyncpg.Pool, seeded: Seeded, server: RunningServer
) -> None:
    report = corpus_reliability()
    assert report is not None
    html = await page_html(db_pool, server, seeded)

    calibration = html[
        html.index('<section id="calibration">') : html.index(
            "</section>", html.index('<section id="calibration">')
        )
    ]
    assert 'id="corpus-reliability"' in calibration  # next to the runtime calibration
    held_out, tuning = report.parts
    for part, table_id, label in (
        (held_out, "corpus-held-out", "Held-out"),
        (tuning, "corpus-tuning", "Tuning"),
    ):
        body = table(html, table_id)
        assert f"{label} questions: {part.questions}" in body
        assert f"confidently wrong {part.confidently_wrong} " in body
        rows = re.findall(r"<tr><td>([\d.]+)–([\d.]+)</td><td class=\"num\">(\d+)</td>", body)
        assert [(float(low), float(high), int(n)) for low, high, n in rows] == [
            (b.low, b.high, b.questions) for b in part.bands
        ]
