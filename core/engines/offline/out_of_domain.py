"""Questions no media-server data can answer, and what data would.

Weather, sport, maths, chit-chat, a device's capabilities, running the server:
the router must not squeeze them into the nearest tool ("what's the weather" is
not a title question). Each topic says, for the learning queue, what the asker
wanted and which source would have to be added to answer it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class OutOfDomain:
    topic: str
    # For the learning queue: the data or capability that would answer it.
    would_need: str


_TOPICS: tuple[tuple[str, str, str], ...] = (
    (
        "the weather",
        r"\b(?:weather|forecast|rain(?:ing)?|snow(?:ing)?|sunny|temperature\s+outside)\b",
        "a weather service; this is not about the media server",
    ),
    (
        "a device's playback capabilities",
        r"\b(?:can|does|will|would)\s+(?:my|the|a)\s+(?:\w+\s+)?(?:tv|phone|chromecast|roku|firestick|fire\s+stick|"
        r"apple\s+tv|shield|laptop|ipad|tablet|console|xbox|playstation|ps5|browser)\b.*\b(?:play|support|handle|stream|do)\b"
        r"|\b(?:4k|hdr|hevc|h\.?265|dolby\s+vision|atmos|codec)\b",
        "client device capabilities (Plex/Jellyfin client profiles or transcode decisions per device)",
    ),
    (
        "server hardware",
        r"\b(?:cpu|ram|memory|gpu|temperature|uptime|load\s+average)\b",
        "host metrics (CPU, memory, temperature) from the machine running the media server",
    ),
    (
        "running the server",
        r"^\s*(?:restart|reboot|upgrade|update|install|ban|kick|delete\s+user|send\s+a\s+message|reset)\b"
        r"|\bhow\s+(?:do|can)\s+i\s+(?:install|reset|change|set\s+up|setup|configure)\b|\bpassword\b",
        "actions on the server or accounts, which Marquee does not perform",
    ),
    (
        "prices and money",
        r"\b(?:price|cost|costs|bitcoin|stock|usd|eur|gbp|dollars?|euros?|subscription\s+fee)\b",
        "prices or market data; not media-server data",
    ),
    (
        "sport and news",
        r"\b(?:who\s+won|the\s+game|the\s+match|score\s+of|news|election|president|prime\s+minister)\b",
        "news or sport results; not media-server data",
    ),
    (
        "general knowledge",
        r"\b(?:capital\s+of|how\s+tall|how\s+old\s+are\s+you|who\s+made\s+you|meaning\s+of\s+life|what\s+time\s+is\s+it|"
        r"translate|recipe|lasagna|pizza|book\s+a\s+table|set\s+an?\s+alarm|timer|wifi|wi-fi|mount\s+\w+|dream)\b"
        r"|^\s*what'?s\s+\d+\s*[-+*/x]\s*\d+",
        "general knowledge or assistant tasks outside the media server",
    ),
    (
        "a joke, a story or a song",
        r"\b(?:joke|poem|story|song|sing|riddle)\b",
        "nothing: Marquee answers questions about the media server only",
    ),
    (
        "small talk",
        r"^\s*(?:hi|hello|hey|yo|thanks|thank\s+you|thx|ty|lol|ok|okay|cool|nice|bye|good\s+(?:morning|night))\W*$",
        "nothing: small talk",
    ),
)
_COMPILED = tuple((topic, re.compile(pattern, re.IGNORECASE), need) for topic, pattern, need in _TOPICS)


def out_of_domain(question: str) -> OutOfDomain | None:
    """The topic when the question is plainly not about the media server, else None."""
    for topic, pattern, need in _COMPILED:
        if pattern.search(question):
            return OutOfDomain(topic, need)
    return None
