"""Recognising "can you get Dune for me?" in plain words: the title asked for, or None.

Checked before any engine answers, so it stays narrow: a question about the
member's own viewing ("can you get my top shows?") is not a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.media_requests.service import MediaKind

_ASK = re.compile(
    r"""^(?:(?:hey|hi|ok|okay)\s+)?(?:marquee[,:]?\s+)?(?:please\s+)?
    (?P<verb>
        (?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?(?:get|request|add|grab|download)(?:\s+me)?
      | (?:can|could|may)\s+i\s+(?:please\s+)?(?:request|get|have)
      | i(?:'d|\s+would)\s+like\s+(?:to\s+request|you\s+to\s+(?:get|request|add))
      | i\s+want\s+to\s+request
      | (?:please\s+)?(?:request|get\s+me|grab\s+me|add)
    )\s+(?P<query>.+?)\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING = re.compile(
    r"""(?:\s+(?:for\s+me|please|pls|to\s+(?:the\s+)?(?:server|library|plex|jellyfin|overseerr|jellyseerr)
    |on\s+(?:the\s+)?(?:server|plex|jellyfin)))+\s*$|[\s?.!]+$""",
    re.IGNORECASE | re.VERBOSE,
)
# "in 4K", "in UHD" at the end of the title: the 4K version (Overseerr's separate 4K server).
_IN_4K = re.compile(r"\s+(?:in\s+)?(?:4k|uhd|ultra\s*hd|2160p)$", re.IGNORECASE)
_KIND = re.compile(r"^(?:the\s+)?(?P<kind>movie|film|show|tv\s+show|series)\s+", re.IGNORECASE)
# Words of an analytics question, never of a title request.
_NOT_A_TITLE = re.compile(
    r"\b(?:my|mine|stats?|statistics|watched|watching|recommend\w*|list|how|what|which|who|top|most|"
    r"history|minutes|hours|report|health|insights)\b",
    re.IGNORECASE,
)


_CERTAIN_VERB = re.compile(r"\b(?:request|download)\b", re.IGNORECASE)
_CERTAIN_TAIL = re.compile(
    r"\b(?:for\s+me|to\s+(?:the\s+)?(?:server|library|plex|jellyfin|overseerr|jellyseerr))\b", re.IGNORECASE
)


@dataclass(frozen=True)
class RequestIntent:
    query: str
    kind: MediaKind | None = None
    # "request X", "get me the movie X", "add X to the server": surely a request, answered even when
    # nothing matches. "can you get X" may be a question ("can you get the plays of last week"): it is
    # a request only when the search finds something, otherwise the engine answers it.
    certain: bool = True
    in_4k: bool = False


def request_intent(text: str) -> RequestIntent | None:
    """The title a message asks to request, with "movie"/"show" when it says so; None otherwise."""
    match = _ASK.match(text.strip())
    if match is None:
        return None
    certain = bool(_CERTAIN_VERB.search(match.group("verb")) or _CERTAIN_TAIL.search(match.group("query")))
    query = match.group("query")
    previous = None
    in_4k = False
    while previous != query:
        previous = query
        query = _TRAILING.sub("", query).strip()
        if _IN_4K.search(query):
            in_4k = True
            query = _IN_4K.sub("", query).strip()
    kind: MediaKind | None = None
    said_kind = _KIND.match(query)
    if said_kind is not None:
        kind = "movie" if said_kind.group("kind").lower() in ("movie", "film") else "tv"
        query = query[said_kind.end() :].strip()
    query = query.strip("\"'“”‘’ ")
    if not query or len(query) > 120 or _NOT_A_TITLE.search(query):
        return None
    return RequestIntent(query, kind, certain, in_4k)
