"""What every media service's settings have: where it is, how often to sync, how long one call may take.

Each service's settings type adds its key under the service's own word for it
(Plex's ``token``, the others' ``api_key``) and its own load settings. Field
names are also the names of Marquee's settings: ``bot.integrations`` fills a
field ``f`` of service ``s`` from ``MARQUEE_<S>_<F>`` when that setting exists
(``MARQUEE_PLEX_TOKEN``, ``MARQUEE_TAUTULLI_PAGE_SIZE``), else the interval and
the timeout from ``MARQUEE_SYNC_INTERVAL_SECONDS`` and
``MARQUEE_MEDIA_TIMEOUT_SECONDS``, else the default here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    url: str
    interval_seconds: int = 900
    # Per HTTP call.
    timeout_seconds: float = 30.0
