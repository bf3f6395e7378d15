"""Sonarr and Radarr webhooks: deletions (with the space they freed) into ``deletion_log``.

Shapes follow the *arr "Webhook" connection payloads: ``eventType`` plus
``movie``/``movieFile`` (Radarr) or ``series``/``episodes``/``episodeFile``
(Sonarr); sizes are bytes. The ``Test`` event and every event other than a
deletion are logged as ignored.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from adapters.media.payload import PayloadError, decode_json_object, require_content_type, validate
from core.ingest.records import DeletionRecord, MediaType
from core.ingest.webhooks import WebhookEvent


class _ArrModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)


class ArrFile(_ArrModel):
    relative_path: str | None = Field(default=None, alias="relativePath")
    size: int | None = None


class ArrTitle(_ArrModel):
    title: str
    year: int | None = None
    tmdb_id: str | None = Field(default=None, alias="tmdbId")
    tvdb_id: str | None = Field(default=None, alias="tvdbId")
    imdb_id: str | None = Field(default=None, alias="imdbId")

    def catalogue_ids(self) -> dict[str, str]:
        ids = {"tmdb": self.tmdb_id, "tvdb": self.tvdb_id, "imdb": self.imdb_id}
        return {key: value for key, value in ids.items() if value and value != "0"}


class ArrEpisode(_ArrModel):
    season_number: int | None = Field(default=None, alias="seasonNumber")
    episode_number: int | None = Field(default=None, alias="episodeNumber")
    title: str | None = None


class RadarrWebhook(_ArrModel):
    event_type: str = Field(alias="eventType")
    movie: ArrTitle | None = None
    movie_file: ArrFile | None = Field(default=None, alias="movieFile")
    deleted_files: bool | None = Field(default=None, alias="deletedFiles")
    movie_folder_size: int | None = Field(default=None, alias="movieFolderSize")
    delete_reason: str | None = Field(default=None, alias="deleteReason")


class SonarrWebhook(_ArrModel):
    event_type: str = Field(alias="eventType")
    series: ArrTitle | None = None
    episodes: list[ArrEpisode] = Field(default_factory=list)
    episode_file: ArrFile | None = Field(default=None, alias="episodeFile")
    deleted_files: bool | None = Field(default=None, alias="deletedFiles")
    delete_reason: str | None = Field(default=None, alias="deleteReason")


def _deletion(
    title: ArrTitle, media_type: MediaType, size: int | None, at: datetime, reason: str
) -> DeletionRecord:
    return DeletionRecord(
        title=title.title,
        media_type=media_type,
        file_size_bytes=size if size is None or size >= 0 else None,
        deleted_at=at,
        reason=reason,
        catalogue_ids=title.catalogue_ids(),
    )


def parse_radarr_webhook(body: bytes, content_type: str, received_at: datetime) -> WebhookEvent:
    require_content_type(content_type, ("application/json",), "Radarr")
    hook = validate(RadarrWebhook, decode_json_object(body, "radarr"), "radarr")
    event = hook.event_type
    if event not in ("MovieFileDelete", "MovieDelete"):
        return WebhookEvent(event, note="not a deletion")
    if hook.movie is None:
        raise PayloadError(f"Radarr {event} webhook has no movie", status=422)
    if event == "MovieDelete":
        if not hook.deleted_files:
            return WebhookEvent(event, note="removed from Radarr, files kept")
        deletion = _deletion(
            hook.movie, "movie", hook.movie_folder_size, received_at, "movie deleted in Radarr"
        )
    else:
        if hook.movie_file is None:
            raise PayloadError("Radarr MovieFileDelete webhook has no movieFile", status=422)
        reason = f"file deleted in Radarr ({hook.delete_reason or 'manual'})"
        deletion = _deletion(hook.movie, "movie", hook.movie_file.size, received_at, reason)
    return WebhookEvent(event, deletions=(deletion,))


def parse_sonarr_webhook(body: bytes, content_type: str, received_at: datetime) -> WebhookEvent:
    require_content_type(content_type, ("application/json",), "Sonarr")
    hook = validate(SonarrWebhook, decode_json_object(body, "sonarr"), "sonarr")
    event = hook.event_type
    if event not in ("EpisodeFileDelete", "SeriesDelete"):
        return WebhookEvent(event, note="not a deletion")
    if hook.series is None:
        raise PayloadError(f"Sonarr {event} webhook has no series", status=422)
    if event == "SeriesDelete":
        if not hook.deleted_files:
            return WebhookEvent(event, note="removed from Sonarr, files kept")
        return WebhookEvent(
            event, deletions=(_deletion(hook.series, "show", None, received_at, "series deleted in Sonarr"),)
        )
    if hook.episode_file is None:
        raise PayloadError("Sonarr EpisodeFileDelete webhook has no episodeFile", status=422)
    episodes = ", ".join(f"S{e.season_number or 0:02d}E{e.episode_number or 0:02d}" for e in hook.episodes)
    deletion = DeletionRecord(
        title=f"{hook.series.title} {episodes}".strip(),
        media_type="episode",
        file_size_bytes=hook.episode_file.size,
        deleted_at=received_at,
        reason=f"episode file deleted in Sonarr ({hook.delete_reason or 'manual'})",
    )
    return WebhookEvent(event, deletions=(deletion,))
