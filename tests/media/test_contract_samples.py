"""The parsers accept the samples of the services' own documentation (copied into payloads/)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from adapters.media import overseerr, plex
from adapters.media.plex import ACCOUNTS, HISTORY_PAGE, ITEMS_PAGE

from .fakes import PAYLOADS

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_plex_tv_episodes_sample_parses_into_episode_records() -> None:
    page = ITEMS_PAGE.validate_json((PAYLOADS / "plex-tv-episodes.json").read_bytes())
    records = [plex.media_record(item, "TV Shows") for item in page.media_container.metadata]
    pilot = records[0]
    assert pilot is not None
    assert (pilot.title, pilot.media_type, pilot.parent_external_id) == ("Pilot", "episode", "22")
    assert (pilot.season_number, pilot.episode_number, pilot.duration_seconds) == (1, 1, 5)
    assert pilot.file_size_bytes == 13_400_382 and pilot.added_at == datetime.fromtimestamp(1579514154, UTC)


def test_plex_accounts_and_history_samples_parse() -> None:
    accounts = ACCOUNTS.validate_json((PAYLOADS / "plex-accounts.json").read_bytes()).media_container.accounts
    users = [plex.user_record(account) for account in accounts]
    assert [u.username if u else None for u in users] == [None, "PlexUser", "Kids"]
    history = HISTORY_PAGE.validate_json(
        (PAYLOADS / "plex-history.json").read_bytes()
    ).media_container.metadata
    plays = [plex.play_record(entry) for entry in history]
    assert plays[0] is not None and plays[0].item_external_id == "218860" and plays[0].user_external_id == "1"
    assert sum(p is None for p in plays) == 6  # entries of deleted items carry no ratingKey


def test_plex_legacy_agent_guids_give_catalogue_ids() -> None:
    page = ITEMS_PAGE.validate_python(
        {"MediaContainer": {"Metadata": [
            {"ratingKey": 1, "title": "The 100", "type": "show", "guid": "com.plexapp.agents.thetvdb://268592?lang=en"},
            {"ratingKey": 2, "title": "Heat", "type": "movie", "guid": "com.plexapp.agents.imdb://tt0113277?lang=en"},
        ]}}
    )  # fmt: skip
    assert [plex.catalogue_ids(item) for item in page.media_container.metadata] == [
        {"tvdb": "268592"},
        {"imdb": "tt0113277"},
    ]


def test_plex_webhook_sample_parses_as_an_ignored_play() -> None:
    body = (PAYLOADS / "plex-webhook-media-play.json").read_bytes()
    multipart = b'--X\r\nContent-Disposition: form-data; name="payload"\r\n\r\n' + body + b"\r\n--X--\r\n"
    event = plex.parse_webhook(multipart, "multipart/form-data; boundary=X", NOW)
    assert event.event_type == "media.play" and event.ignored


def test_overseerr_default_template_rendered_parses() -> None:
    template = (PAYLOADS / "overseerr-webhook-template.json").read_text()
    # Render it the way Overseerr does: {{media}}/{{request}} become their block names, values become strings.
    values = {"notification_type": "MEDIA_PENDING", "subject": "Heat (1995)", "media_type": "movie",
              "media_tmdbid": "949", "request_id": "7", "requestedBy_username": "bob",
              "requestedBy_email": "bob@example.com", "requestedBy_settings_discordId": ""}  # fmt: skip
    rendered = template.replace('"{{extra}}": []', '"extra": []')
    rendered = re.sub(r'"\{\{(media|request|issue|comment)\}\}"', r'"\1"', rendered)
    rendered = re.sub(r"\{\{(\w+)\}\}", lambda m: values.get(m.group(1), ""), rendered)
    body = json.loads(rendered)
    event = overseerr.parse_webhook("overseerr", json.dumps(body).encode(), "application/json", NOW)
    (request,) = event.requests
    assert (request.title, request.status, request.tmdb_id, request.source_request_id) == (
        "Heat",
        "pending",
        949,
        "7",
    )
    # The requestedBy_* fields are the requester's own edits: they name nobody.
    assert request.requester is None
