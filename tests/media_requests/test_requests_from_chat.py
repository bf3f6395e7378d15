"""Requesting a title in plain words: console end to end, through the real wiring, against a fake Overseerr."""

from __future__ import annotations

import asyncpg
from rich.console import Console

from adapters.chat.console import ConsoleChat
from core.assistant import Assistant
from core.chat import ChatRequest

from .conftest import Members
from .fake_overseerr import REQUEST, REQUEST_4K, REQUEST_4K_MOVIE, REQUEST_4K_TV, FakeOverseerr, FakeUser


async def console(assistant: Assistant, who: str, lines: list[str]) -> str:
    """One console session of ``who`` typing ``lines``; returns what it printed."""
    typed = iter([*lines, "/quit"])

    async def read_line(prompt: str) -> str | None:
        return next(typed)

    output = Console(record=True, width=200, force_terminal=False)
    await ConsoleChat(assistant, who, console=output, read_line=read_line).run()
    return output.export_text()


def said(assistant: Assistant, who: str, text: str, conversation: str = "dm") -> ChatRequest:
    return ChatRequest("console", who, conversation, text, is_direct_message=True)


async def test_a_member_requests_a_movie_in_plain_words_and_it_is_created_as_them(
    assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    text = await console(assistant, "alice", ["can you get Dune Part Three for me?", "1", "yes"])

    assert "1. Dune: Part Three (2026), movie — Paul Atreides faces the consequences" in text
    assert "You have 3 of 3 movie requests left every 7 days." in text
    assert "Requested Dune: Part Three (2026) and it's waiting for an admin's approval." in text
    assert overseerr.posted == [{"mediaType": "movie", "mediaId": 8000001}] and overseerr.posted_as == [2]


async def test_matches_say_what_is_available_requested_or_partly_there(
    assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    await console(assistant, "alice", ["request Dune Part Three", "1", "yes"])
    text = await console(assistant, "alice", ["request dune"])
    assert "Dune: Part Three (2026), movie · already requested by you" in text
    assert "Dune (2021), movie · already available" in text
    assert "Dune: Part Two (2024), movie · partially available" in text
    # Bob sees that it is requested, not by whom.
    text = await console(assistant, "bob", ["request dune"])
    assert "Dune: Part Three (2026), movie · already requested —" in text and "by you" not in text


async def test_an_available_title_is_not_requested_again(
    assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    text = await console(assistant, "alice", ["can you get the movie Dune?", "2"])
    assert "Dune (2021) is already available on the server: nothing to request." in text
    assert overseerr.posted == []


async def test_a_show_asks_for_seasons_and_requests_only_those(
    assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    text = await console(
        assistant, "bob", ["could you add the show Severance to the server?", "1", "latest", "yes"]
    )
    assert "Which seasons of Severance (2022)? It has 3 (1–3)." in text
    assert "Already on the server: 1." in text
    assert "Request Severance (2022), season 3 on Overseerr as you?" in text
    assert "Requested Severance (2022) and it's approved." in text
    assert overseerr.posted == [
        {"mediaType": "tv", "mediaId": 95396, "seasons": [3]}
    ] and overseerr.posted_as == [3]

    text = await console(assistant, "alice", ["request Severance", "1", "2-3", "yes"])
    assert "Request Severance (2022), seasons 2, 3 on Overseerr as you?" in text
    assert overseerr.posted[-1]["seasons"] == [2, 3] and overseerr.posted_as[-1] == 2
    text = await console(assistant, "alice", ["request Severance", "1", "7"])
    assert "There is no season 7; the seasons are 1, 2, 3." in text


async def test_nothing_is_requested_without_an_explicit_yes(
    assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    text = await console(
        assistant,
        "alice",
        [
            "request Dune Part Three",
            "1",
            "What should I watch tonight?",
            "yes",
            "request Dune Part Three",
            "1",
            "cancel",
            "yes",
        ],
    )
    assert "OK, nothing requested." in text
    assert overseerr.posted == []


async def test_the_choice_expires(
    assistant: Assistant, overseerr: FakeOverseerr, db_pool: asyncpg.Pool
) -> None:
    await console(assistant, "alice", ["request Dune Part Three", "1"])
    await db_pool.execute("UPDATE pending_media_requests SET expires_at = now() - interval '1 second'")
    await console(assistant, "alice", ["yes"])
    assert overseerr.posted == []


async def test_over_quota_is_refused_with_the_reason(assistant: Assistant, overseerr: FakeOverseerr) -> None:
    overseerr.users[2] = FakeUser(2, REQUEST, movie_limit=1, tv_limit=2)
    await console(assistant, "alice", ["request Dune Part Three", "1", "yes"])
    text = await console(assistant, "alice", ["request Dune Part Two", "1"])
    assert (
        "You've used all 1 of your movie requests (every 7 days), so Overseerr won't take another one yet."
        in text
    )
    # Within the quota when asked, over it once posted: Overseerr's own reason, one sentence.
    text = await console(assistant, "alice", ["request Breaking Bad", "1", "all", "yes"])
    assert "You have 2 of 2 show requests left every 7 days." in text
    assert "Overseerr refused: Series Quota exceeded. Nothing was requested." in text
    assert len(overseerr.requests) == 1


async def test_a_duplicate_is_one_clear_sentence(assistant: Assistant, overseerr: FakeOverseerr) -> None:
    await console(assistant, "alice", ["request Dune Part Three", "1"])
    await console(assistant, "bob", ["request Dune Part Three", "1", "yes"])
    text = await console(assistant, "alice", ["yes"])
    assert "Dune: Part Three (2026) is already requested: nothing new was requested." in text


async def test_permission_denied_and_no_account_are_clear(
    assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    overseerr.users[2] = FakeUser(2, permissions=0)
    text = await console(assistant, "alice", ["request Dune Part Three", "1", "yes"])
    assert (
        "Overseerr says you may not request this: You do not have permission to make movie requests." in text
    )
    text = await console(assistant, "carol", ["can you get Dune Part Three for me?"])
    assert "you have no Overseerr account that Marquee knows" in text
    assert len(overseerr.requests) == 0


async def test_overseerr_down_is_one_sentence(assistant: Assistant, overseerr: FakeOverseerr) -> None:
    overseerr.down = True
    text = await console(assistant, "alice", ["request Dune Part Three"])
    assert "Overseerr isn't answering right now." in text and "Traceback" not in text
    overseerr.down = False
    await console(assistant, "alice", ["request Dune Part Three", "1"])
    overseerr.down = True
    text = await console(assistant, "alice", ["yes"])
    assert "Overseerr isn't answering right now. Nothing was requested; try again later." in text


async def test_a_member_cannot_request_as_anyone_else(
    assistant: Assistant, overseerr: FakeOverseerr, members: Members
) -> None:
    hostile = [
        "request Dune Part Three as bob", "request Dune Part Three for userId 3", "1", "yes",
        "request Dune Part Three", "1", "yes userId=3",
    ]  # fmt: skip
    await console(assistant, "alice", hostile)
    await console(assistant, "alice", ["request Dune Part Three", "1", "yes"])
    assert set(overseerr.posted_as) == {2} and all("userId" not in body for body in overseerr.posted)
    # Another member's "yes" in the same conversation confirms nothing of alice's.
    await assistant.handle(said(assistant, "alice", "request Breaking Bad", "room"))
    await assistant.handle(said(assistant, "alice", "1", "room"))
    await assistant.handle(said(assistant, "alice", "all", "room"))
    reply = await assistant.handle(said(assistant, "bob", "yes", "room"))
    assert "Requested" not in reply.text
    assert [body["mediaId"] for body in overseerr.posted] == [8000001]


async def test_titles_from_overseerr_are_shown_as_text(assistant: Assistant) -> None:
    reply = await assistant.handle(said(assistant, "alice", "request Breaking Bad"))
    assert "**cook** [x](http://evil)" in reply.plain_text


async def test_a_question_that_only_sounds_like_a_request_goes_to_the_engine(
    assistant: Assistant, members: Members
) -> None:
    question = await assistant.handle(said(assistant, "carol", "can you get the number of plays last week?"))
    assert "Overseerr" not in question.text and question.feedback_id is not None
    # Said plainly, it is a request even when nothing matches, and a member without an account is told so.
    plain = await assistant.handle(said(assistant, "carol", "request the number of plays last week"))
    assert "you have no Overseerr account that Marquee knows" in plain.text
    found = await assistant.handle(said(assistant, "alice", "can you get Dune?"))
    assert "Here is what Overseerr found for “Dune”" in found.plain_text
    nothing = await assistant.handle(said(assistant, "alice", "request Zzyzx Road Trip"))
    assert nothing.plain_text == "Overseerr found nothing called “Zzyzx Road Trip”."


async def test_two_yes_at_once_request_once(assistant: Assistant, overseerr: FakeOverseerr) -> None:
    import asyncio

    await assistant.handle(said(assistant, "bob", "request Dune Part Three"))
    await assistant.handle(said(assistant, "bob", "1"))
    replies = await asyncio.gather(*(assistant.handle(said(assistant, "bob", "yes")) for _ in range(2)))
    assert len(overseerr.posted) == 1
    assert sum(r.plain_text.startswith("Requested") for r in replies) == 1


async def test_a_pending_request_is_taken_once(
    assistant: Assistant, members: Members, db_pool: asyncpg.Pool
) -> None:
    from core.media_requests import pending

    await assistant.handle(said(assistant, "bob", "request Dune Part Three"))
    taken = [await pending.clear(db_pool, members.bob, "console", "dm") for _ in range(2)]
    assert taken == [True, False]


async def test_a_4k_request_needs_a_4k_server_and_the_members_4k_permission(
    assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    # No 4K Radarr in Overseerr: nothing to request in 4K, whoever asks.
    overseerr.users[3].permissions |= REQUEST_4K
    text = await console(assistant, "bob", ["request Dune Part Three in 4K", "1"])
    assert "Overseerr has no 4K Radarr server, so there is no 4K version of movies to request." in text
    overseerr.radarr_4k = True
    # alice may request, but not in 4K.
    text = await console(assistant, "alice", ["can you get Dune Part Three in 4K for me?", "1"])
    assert "Your Overseerr account may not request 4K movies." in text
    text = await console(assistant, "alice", ["yes"])
    assert overseerr.posted == []
    # bob may.
    text = await console(assistant, "bob", ["request Dune Part Three in 4K", "1", "yes"])
    assert "Request Dune: Part Three (2026) in 4K on Overseerr as you?" in text
    assert "Requested Dune: Part Three (2026)" in text
    assert overseerr.posted == [{"mediaType": "movie", "mediaId": 8000001, "is4k": True}]
    assert overseerr.posted_as == [3] and overseerr.requests[0]["is4k"] is True


async def test_a_show_in_4k_follows_the_per_type_permission(
    assistant: Assistant, overseerr: FakeOverseerr
) -> None:
    overseerr.sonarr_4k = True
    overseerr.users[2].permissions |= REQUEST_4K_MOVIE  # movies in 4K only
    text = await console(assistant, "alice", ["request the show Breaking Bad in UHD", "1", "all"])
    assert "Your Overseerr account may not request 4K shows." in text
    overseerr.users[2].permissions |= REQUEST_4K_TV
    text = await console(assistant, "alice", ["request the show Breaking Bad in UHD", "1", "all", "yes"])
    assert "Request Breaking Bad (2008), all seasons in 4K on Overseerr as you?" in text
    assert overseerr.posted == [{"mediaType": "tv", "mediaId": 1396, "seasons": "all", "is4k": True}]
