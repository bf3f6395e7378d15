"""Render time of the /admin/ai-insights page over a busy learning history.

    python benchmarks/insights_page.py                     # 10,000 answers, 1,000 queue entries
    python benchmarks/insights_page.py --feedback 50000 --queue 5000 --runs 20

Seeds a throwaway database (see scratch_postgres.py), serves the page on a
loopback port and times full GET requests of a signed-in admin (queries and
template, as a browser gets it), plus the queries alone. Target: ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.http.insights_page import COOKIE_NAME, InsightsPageConfig
from adapters.http.server import WebhookConfig, build_app, start_http_server
from benchmarks.scratch_postgres import create_scratch_database, drop_scratch_database, scratch_server
from bot.database import with_database
from core import insights_access, insights_page
from core.db import create_pool
from core.migrations import apply_migrations

TYPES = ["stats", "requests", "discovery", "operations", "social", "other"]
MISSING = ["bandwidth_logs", "content_requests", "media_items.metadata.genres", "media_items.file_size_bytes",
           "user_stats", "content_requests.approved_by_user_id", "playback_sessions"]  # fmt: skip
WHY = ["missing_data", "low_confidence", "user_reported_wrong", "ambiguous_query"]


async def seed(conn: asyncpg.Connection, feedback_rows: int, queue_rows: int, rng: random.Random) -> None:
    queue = [
        (
            f"question {n} about {rng.choice(TYPES)} and {rng.choice(MISSING)}", rng.choice(TYPES),
            rng.choice(WHY), rng.sample(MISSING, rng.randint(0, 2)), rng.randint(1, 5), rng.randint(1, 40),
            rng.choice(["pending"] * 6 + ["in_progress", "resolved", "wont_fix"]), rng.randint(0, 5),
            timedelta(days=rng.uniform(0, 90)),
        )
        for n in range(queue_rows)
    ]  # fmt: skip
    await conn.executemany(
        """INSERT INTO ai_learning_queue (question, question_type, why_failed, missing_tables, priority,
               times_asked, status, times_reported_wrong, last_asked_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() - $9::interval)""",
        queue,
    )
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM ai_learning_queue")]
    rows = []
    for n in range(feedback_rows):
        confidence = round(min(1.0, max(0.0, rng.gauss(0.7, 0.2))), 2)
        rows.append(
            (
                f"q{n}", "answer", confidence, 5 if rng.random() < 0.3 else None, rng.random() < 0.15,
                rng.random() < (0.4 - confidence / 3), rng.choice(TYPES), rng.choice(["anthropic", "offline"]),
                rng.choice(["personal", "admin"]), rng.choice(ids) if rng.random() < 0.3 else None,
                timedelta(days=rng.uniform(0, 120)), ["a Tautulli connection"] if rng.random() < 0.1 else None,
            )
        )  # fmt: skip
    await conn.executemany(
        """INSERT INTO ai_conversation_feedback (user_message, ai_response, confidence_score, user_rating,
               user_followed_up, user_reported_wrong, question_type, engine, mode, learning_queue_id, created_at,
               could_improve_with)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() - $11::interval, $12)""",
        rows,
    )
    await conn.execute("ANALYZE")


async def run(args: argparse.Namespace, admin_dsn: str) -> None:
    name = await create_scratch_database(admin_dsn)
    dsn = with_database(admin_dsn, name)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()
        pool = await create_pool(dsn, max_size=4)
        try:
            async with pool.acquire() as conn:
                await seed(conn, args.feedback, args.queue, random.Random(args.seed))
                token = await insights_access.issue_sign_in_link(conn, user_id=None, actor="benchmark")
                session_token, _ = await insights_access.redeem_sign_in_link(conn, token)
            server = await start_http_server(
                build_app(pool, WebhookConfig(), InsightsPageConfig()), "127.0.0.1", 0
            )
            try:
                url = f"http://127.0.0.1:{server.port}/admin/ai-insights?status=any&days=90"
                pages, queries = [], []
                async with aiohttp.ClientSession(cookies={COOKIE_NAME: session_token}) as http:
                    for attempt in range(args.runs + 1):
                        started = time.perf_counter()
                        async with http.get(url) as response:
                            body = await response.read()
                            assert response.status == 200, response.status
                        if attempt:  # the first request warms caches and prepared statements
                            pages.append((time.perf_counter() - started) * 1000)
                        async with pool.acquire() as conn:
                            started = time.perf_counter()
                            await insights_page.load_page(conn, insights_page.QueueFilter(None), 90, "UTC")
                            queries.append((time.perf_counter() - started) * 1000)
            finally:
                await server.stop()
        finally:
            await pool.close()
    finally:
        await drop_scratch_database(admin_dsn, name)
    print(f"page size:         {len(body) / 1024:,.0f} KiB")
    print(f"queries alone:     median {statistics.median(queries):.0f} ms, max {max(queries):.0f} ms")
    print(
        f"full page render:  median {statistics.median(pages):.0f} ms, max {max(pages):.0f} ms "
        f"over {args.runs} requests (target ≤ 300 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feedback", type=int, default=10_000, help="answers (ai_conversation_feedback rows)")
    parser.add_argument("--queue", type=int, default=1_000, help="learning-queue entries")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"insights page: {args.feedback:,} answers, {args.queue:,} queue entries")
    with scratch_server() as admin_dsn:
        asyncio.run(run(args, admin_dsn))


if __name__ == "__main__":
    main()
