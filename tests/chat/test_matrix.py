"""The Matrix bot against a real Synapse, driven by real matrix-nio clients, answering with the real Assistant:
replies, reactions, admin commands, invites, encryption, charts. Its life cycle (restarts, outages, stopping)
is in test_matrix_lifecycle.py.

One Synapse serves each test worker (``synapse`` in conftest.py); every test has its
own accounts, its own database and its own bot data directory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from nio import (
    DownloadResponse,
    RoomEncryptedImage,
    RoomMessageImage,
)
from nio.crypto.attachments import decrypt_attachment

from adapters.chat.matrix_bot import DECLINED_NOTICE
from adapters.chat.matrix_commands import addressed_question, invite_allowed, parse_command
from adapters.chat.matrix_rendering import reply_content, strip_reply_fallback

from .matrix_people import (
    QUESTION,
    Person,
    bot_account,
    bot_settings,
    eventually,
    feedback_of,
    link,
    person,
    rating_becomes,
    running_bot,
    wrong_becomes,
)
from .synapse_server import SynapseServer


async def test_a_dm_is_answered_as_a_formatted_reply_and_the_askers_reactions_are_feedback(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice, person(synapse, "bob", tmp_path) as bob:
        await link(db_pool, "alice", alice.user_id)
        await link(db_pool, "bob", bob.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id)

            question = await alice.say(room, QUESTION)
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the answer")
            content = answer.source["content"]
            assert content["msgtype"] == "m.text"
            assert content["format"] == "org.matrix.custom.html"
            assert content["formatted_body"].startswith("<")
            assert content["body"] and "<p>" not in content["body"]
            row = await feedback_of(db_pool, answer.event_id)
            assert row is not None and row["user_message"] == QUESTION
            assert content["body"] == row["ai_response"]

            bot_reactions = await alice.sync_until(
                lambda: (
                    found
                    if len(
                        found := {
                            event.key
                            for _, event in alice.reactions
                            if event.sender == bot_id and event.reacts_to == answer.event_id
                        }
                    )
                    == 2
                    else None
                ),
                "the bot's 👍 and ❌",
            )
            assert bot_reactions == {"👍", "❌"}

            sharing = await alice.say(room, "!privacy on")
            await alice.sync_until(alice.reply_to(sharing, bot_id), "the privacy confirmation")
            assert await db_pool.fetchval(
                "SELECT share_activity_with_admins FROM users WHERE username = 'alice'"
            )

            # Someone else's 👍 is not feedback. The bot handles a sync's events in order, so once it
            # has replied to a later command it has seen the reaction.
            await alice.client.room_invite(room, bob.user_id)
            await bob.sync_until(lambda: room if room in bob.client.invited_rooms else None, "bob's invite")
            await bob.client.join(room)
            await bob.react(room, answer.event_id, "👍")
            barrier = await alice.say(room, "!help")
            await alice.sync_until(alice.reply_to(barrier, bot_id), "the reply to !help")
            row = await feedback_of(db_pool, answer.event_id)
            assert row is not None and row["user_rating"] is None

            # Element's 👍 carries a variation selector; it is the same 👍.
            thumbs_up = await alice.react(room, answer.event_id, "👍\ufe0f")
            await eventually(
                rating_becomes(db_pool, answer.event_id, 5), "the 👍 to land on the feedback row"
            )

            await alice.client.room_redact(room, thumbs_up)
            await eventually(rating_becomes(db_pool, answer.event_id, None), "the redaction to undo the 👍")


async def test_a_list_answer_arrives_in_element_as_a_real_list(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    await db_pool.executemany(
        "INSERT INTO media_items (title, media_type, year, added_at) VALUES ($1, 'movie', 2024, now())",
        [("Alien <Romulus>",), ("**Heat**",), ("- Up",)],
    )
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id)
            question = await alice.say(room, "what got added to the library recently?")
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the answer")
    html = answer.source["content"]["formatted_body"]
    assert html.count("<ul>") == 1 and html.count("<li>") == 3
    assert "<li>Alien &lt;Romulus&gt; (2024) (movie)</li>" in html
    assert "<li>**Heat** (2024) (movie)</li>" in html and "<li>- Up (2024) (movie)</li>" in html
    # The plain body reads on its own: the list starts on a line of its own, after a blank line.
    assert "movies and 0 episodes across 0 shows.\n\n- " in answer.body and "**" in answer.body


async def test_admin_commands_answer_admins_in_the_admin_room_and_refuse_members(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    await db_pool.execute(
        "INSERT INTO ai_learning_queue (question, why_failed) VALUES ('how much bandwidth did I use?', 'no_data')"
    )
    async with person(synapse, "admin", tmp_path) as admin, person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "admin", admin.user_id, role="admin")
        await link(db_pool, "alice", alice.user_id)
        admin_room = await admin.open_room([bot_id, alice.user_id], direct=False)
        await alice.sync_until(
            lambda: admin_room if admin_room in alice.client.invited_rooms else None, "invite"
        )
        await alice.client.join(admin_room)
        settings = bot_settings(
            synapse,
            account,
            tmp_path / "data",
            database_url,
            matrix_admin_rooms=[admin_room],
            matrix_allowed_users=[admin.user_id, alice.user_id],
        )
        async with running_bot(settings, db_pool):
            await admin.sync_until(admin.has_joined(admin_room, bot_id), "the bot to join the admin room")

            command = await admin.say(admin_room, "!learning")
            listing = await admin.sync_until(admin.reply_to(command, bot_id), "the learning queue")
            assert "how much bandwidth did I use?" in listing.body

            refused = await alice.say(admin_room, "!learning")
            refusal = await alice.sync_until(alice.reply_to(refused, bot_id), "the refusal")
            assert "only for admins" in refusal.body
            assert "bandwidth" not in refusal.body

            # In the admin room a question must address the bot; it is then asked in admin mode.
            localpart = bot_id[1:].split(":")[0]
            question = await admin.send(
                admin_room,
                "m.room.message",
                {
                    "msgtype": "m.text",
                    "body": f"{localpart}: who watched the most this month?",
                    "m.mentions": {"user_ids": [bot_id]},
                },
            )
            answer = await admin.sync_until(admin.reply_to(question, bot_id), "the admin-mode answer")
            mode = await db_pool.fetchval(
                "SELECT mode FROM ai_conversation_feedback WHERE reply_message_id = $1", answer.event_id
            )
            assert mode == "admin"

            await db_pool.execute("INSERT INTO users (username) VALUES ('carol')")
            linking = await admin.say(admin_room, "!link @carol:elsewhere.example carol")
            await admin.sync_until(admin.reply_to(linking, bot_id), "the link confirmation")
            linked = await db_pool.fetchval(
                "SELECT u.username FROM chat_accounts c JOIN users u ON u.id = c.user_id "
                "WHERE c.platform = 'matrix' AND c.platform_user_id = '@carol:elsewhere.example'"
            )
            assert linked == "carol"


async def test_invites_from_users_and_homeservers_not_allowed_are_declined(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice, person(synapse, "mallory", tmp_path) as mallory:
        settings = bot_settings(
            synapse,
            account,
            tmp_path / "data",
            database_url,
            matrix_allowed_users=[alice.user_id],
            matrix_allowed_homeservers=["friends.example"],
        )
        async with running_bot(settings, db_pool):
            room = await mallory.open_room([bot_id])
            await mallory.sync_until(mallory.membership_of(room, bot_id, "leave"), "the bot to decline")
            # A short notice says why, before the bot leaves.
            [(_, notice)] = [(r, e) for r, e in mallory.notices if r == room and e.sender == bot_id]
            assert notice.body == DECLINED_NOTICE
            allowed_room = await alice.open_room([bot_id])
            await alice.sync_until(alice.has_joined(allowed_room, bot_id), "the bot to join alice's DM")
    assert not any(room_id == room for room_id, _ in mallory.messages if _.sender == bot_id)


def test_the_invite_rule_allows_listed_users_and_homeservers_and_by_default_the_bots_own() -> None:
    bot = "@marquee:home.example"
    assert invite_allowed("@alice:home.example", [], [], bot)
    assert not invite_allowed("@eve:elsewhere.example", [], [], bot)
    assert invite_allowed("@bob:friends.example", ["@alice:home.example"], ["friends.example"], bot)
    assert invite_allowed("@alice:home.example", ["@alice:home.example"], ["friends.example"], bot)
    assert not invite_allowed("@carol:home.example", ["@alice:home.example"], ["friends.example"], bot)


async def test_an_encrypted_dm_is_decrypted_and_answered_encrypted(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path, encrypted=True) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id, encrypted=True)
            question = await alice.say(room, QUESTION)
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the encrypted answer")
            assert answer.decrypted
            assert answer.source["content"]["formatted_body"]
            assert await feedback_of(db_pool, answer.event_id) is not None
            # The bot's read receipt is on the question.
            await alice.sync_until(
                lambda: True if bot_id in alice.read_by.get(question, set()) else None, "the read receipt"
            )

            # Element encrypts reactions in an encrypted room: they count, and redacting one undoes it.
            wrong = await alice.react_encrypted(room, answer.event_id, "❌")
            await eventually(wrong_becomes(db_pool, answer.event_id, True), "the encrypted ❌ to count")
            await alice.client.room_redact(room, wrong)
            await eventually(wrong_becomes(db_pool, answer.event_id, False), "the redaction to undo the ❌")
            thumbs_up = await alice.react_encrypted(room, answer.event_id, "👍\ufe0f")
            await eventually(rating_becomes(db_pool, answer.event_id, 5), "the encrypted 👍 to count")
            await alice.client.room_redact(room, thumbs_up)
            await eventually(rating_becomes(db_pool, answer.event_id, None), "the redaction to undo the 👍")
        assert (tmp_path / "data" / "matrix" / "store").is_dir()


def test_replies_render_markdown_as_html_and_never_pass_raw_html_through() -> None:
    # The shape real answers have: the list right after its intro line.
    content = reply_content("**Alien** <script>alert(1)</script>:\n- one\n- two", "$question")
    assert content["body"] == "Alien <script>alert(1)</script>:\n\n- one\n- two"
    assert content["formatted_body"] == (
        "<p><strong>Alien</strong> &lt;script&gt;alert(1)&lt;/script&gt;:</p><ul><li>one</li><li>two</li></ul>"
    )
    assert content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$question"}}

    in_thread = reply_content("yes", "$question", thread_root="$root")
    assert in_thread["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": "$question"},
    }


def test_replies_and_commands_are_read_the_way_clients_send_them() -> None:
    assert strip_reply_fallback("> <@bob:example.org> earlier\n> text\n\nand what about this?") == (
        "and what about this?"
    )
    assert parse_command("!learning resolve 3f2a added the bandwidth table") == (
        "learning",
        ["resolve", "3f2a", "added the bandwidth table"],
    )
    assert parse_command("!Health") == ("health", [])
    assert parse_command("!link @carol:example.org carol") == ("link", ["@carol:example.org", "carol"])


def test_in_a_shared_room_only_messages_addressed_to_the_bot_are_questions() -> None:
    names = ["@marquee:home.example", "Marquee", "marquee"]
    assert addressed_question("Marquee: what is new?", names, mentioned=False) == "what is new?"
    assert (
        addressed_question("hey marquee, what is new?", names, mentioned=False) == "hey marquee, what is new?"
    )
    assert addressed_question("what is new?", names, mentioned=True) == "what is new?"
    assert addressed_question("what is new?", names, mentioned=False) is None
    assert addressed_question("marqueeing is fun", names, mentioned=False) is None


async def test_a_follow_up_in_a_matrix_dm_reuses_the_last_understood_question(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id)
            first = await alice.say(room, "what did I watch last month?")
            answer = await alice.sync_until(alice.reply_to(first, bot_id), "the answer")
            # The first exchange is stored before the follow-up reads the conversation.
            await eventually(lambda: feedback_of(db_pool, answer.event_id), "the stored exchange")
            follow_up = await alice.say(room, "and the month before?")
            reply = await alice.sync_until(alice.reply_to(follow_up, bot_id), "the follow-up answer")
            body = reply.source["content"]["body"]
            assert "the month before (" in body
            assert "I can't answer" not in body


async def seed_plays(pool: asyncpg.Pool, username: str) -> None:
    """Three evenings of plays (20:00 UTC) and one morning (08:00 UTC)."""
    await pool.execute(
        """
        WITH film AS (INSERT INTO media_items (title, media_type, year) VALUES ('Arrival', 'movie', 2016) RETURNING id)
        INSERT INTO watch_history (user_id, media_item_id, started_at, stopped_at, watched_seconds, percent_complete)
        SELECT u.id, film.id, day + interval '20 hours', day + interval '22 hours', 7200, 100
        FROM users u, film, generate_series(now()::date - 3, now()::date - 1, interval '1 day') AS day
        WHERE u.username = $1
        UNION ALL
        SELECT u.id, film.id, now()::date - 2 + interval '8 hours', now()::date - 2 + interval '9 hours', 3600, 50
        FROM users u, film WHERE u.username = $1
        """,
        username,
    )


def image_reply_to(person: Person, event_id: str, sender: str) -> Callable[[], Any]:
    def found() -> Any:
        return next(
            (
                image
                for _, image in person.images
                if image.sender == sender
                and (image.source["content"].get("m.relates_to") or {})
                .get("m.in_reply_to", {})
                .get("event_id")
                == event_id
            ),
            None,
        )

    return found


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain DM", "encrypted DM"])
async def test_an_answer_a_chart_says_better_comes_with_an_m_image_after_the_complete_text(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path, encrypted: bool
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path, encrypted=encrypted) as alice:
        await link(db_pool, "alice", alice.user_id)
        await seed_plays(db_pool, "alice")
        settings = bot_settings(synapse, account, tmp_path / "data", database_url)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id, encrypted=encrypted)
            question = await alice.say(room, "when do I watch the most?")
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the text answer")
            image = await alice.sync_until(image_reply_to(alice, question, bot_id), "the chart")

            assert "20:00" in answer.body  # the text says it all on its own
            content = image.source["content"]
            assert content["msgtype"] == "m.image"
            assert content["filename"] == "when-you-watch.png"
            assert content["body"].startswith("Bar charts of hours watched per hour of the day")
            assert content["info"]["mimetype"] == "image/png" and content["info"]["w"] == 800
            assert isinstance(image, RoomEncryptedImage if encrypted else RoomMessageImage)
            downloaded = await alice.client.download(image.url)
            assert isinstance(downloaded, DownloadResponse), downloaded
            png = downloaded.body
            if encrypted:
                assert not png.startswith(b"\x89PNG")  # the homeserver holds only ciphertext
                png = decrypt_attachment(png, image.key["k"], image.hashes["sha256"], image.iv)
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == content["info"]["size"]
            # 👍/❌ stay on the text answer, which is what feedback rates.
            assert await feedback_of(db_pool, answer.event_id) is not None


async def test_with_chat_charts_off_the_answer_comes_alone(
    synapse: SynapseServer, db_pool: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    account = await bot_account(synapse)
    bot_id = account[0]
    async with person(synapse, "alice", tmp_path) as alice:
        await link(db_pool, "alice", alice.user_id)
        await seed_plays(db_pool, "alice")
        settings = bot_settings(synapse, account, tmp_path / "data", database_url, chat_charts=False)
        async with running_bot(settings, db_pool):
            room = await alice.open_dm_with(bot_id)
            question = await alice.say(room, "when do I watch the most?")
            answer = await alice.sync_until(alice.reply_to(question, bot_id), "the text answer")

            def bot_reactions() -> bool | None:
                on_answer = [
                    e for _, e in alice.reactions if e.sender == bot_id and e.reacts_to == answer.event_id
                ]
                return True if len(on_answer) >= 2 else None

            # The bot reacts after it would have sent a chart.
            await alice.sync_until(bot_reactions, "the bot's reactions")
            assert "20:00" in answer.body and not alice.images
