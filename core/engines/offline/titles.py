"""Find the title a question is about: "something like 'Alien'", "similar to The Office", "finish Severance".

Only the words are found here; matching them to a library item (typos
included) is the tools' job, through the pg_trgm title index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_QUOTED = re.compile(r"[\"“”«](?P<a>[^\"“”«»]{1,120})[\"“”»]|(?<![a-z])['‘](?P<b>[^'‘’]{1,120})['’](?![a-z])")
_CUE = (
    # "like" is a title cue only after a noun ("movies like Alien", "anything like it"), never in "I'd like".
    r"(?:(?:something|anything|stuff|more|others?|one|ones|movies?|films?|shows?|series|titles?|things?|"
    r"what'?s|whats|picks?|recommendations?)\s+(?:just\s+|kind\s+of\s+|a\s+bit\s+|a\s+lot\s+)?like|"
    r"similar\s+to|along\s+the\s+lines\s+of|in\s+the\s+(?:vein|style|spirit)\s+of|"
    r"reminiscent\s+of|comparable\s+to|(?:if|since|because|as)\s+i\s+(?:liked|loved|enjoyed)|"
    r"i\s+(?:really\s+|just\s+)?(?:liked|loved|enjoyed|adored)|"
    r"(?:same|similar)\s+(?:vibe|feel|style)\s+as)"
)
_SIMILAR = re.compile(rf"\b{_CUE}\s+(?P<title>.+)$", re.IGNORECASE)
_FINISH = re.compile(
    r"\b(?:finish(?:ing)?|complete|completing|(?:be\s+)?done\s+with|through|left\s+(?:of|in)|remaining\s+(?:of|in)|"
    r"to\s+go\s+(?:of|in)|catch(?:ing)?\s+up\s+(?:on|with))\s+(?P<title>.+)$",
    re.IGNORECASE,
)
_EPISODES_OF = re.compile(
    r"\b(?:episodes?|seasons?|eps)\s+(?:of|in)\s+(?P<title>.+?)"
    r"(?:\s+(?:do|does|are|is|have|has|left|remain\w*|to\s+go|until|before|should)\b.*)?$",
    re.IGNORECASE,
)
# Words that end a title when they follow it: "like Alien but newer", "finish Severance at this pace".
_TRAILING = re.compile(
    r"\s*,.*$|\s+(?:but|what\s+else|and\s+want|please|pls|thanks|thank\s+you|at\s+this\s+(?:pace|rate)|at\s+my\s+(?:pace|rate)|"
    r"if\s+i|when\s+i|from\s+my|in\s+my|on\s+(?:my|the)\s+(?:server|library|plex)|tonight|today|"
    r"this\s+(?:week|weekend|evening)|for\s+(?:me|tonight)|that\s+i|i\s+haven'?t|maybe|instead|again)\b.*$",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^(?:the\s+(?:movie|film|show|series|tv\s+show)\s+|watching\s+|season\s+\d+\s+of\s+)", re.I
)
# "finish this series", "like it": no title, the tool works it out from viewing.
_NOT_A_TITLE = {
    "",
    "this",
    "it",
    "that",
    "them",
    "this series",
    "this show",
    "the series",
    "the show",
    "my show",
    "my series",
    "my shows",
    "what i'm watching",
    "what im watching",
    "what i am watching",
    "the one i'm watching",
    "my current show",
    "this season",
    "the season",
    "everything",
    "stuff",
    "that one",
    "those",
    "these",
    "what i watch",
    "what i like",
    "what i watched",
    "the last one",
    "something",
}


@dataclass(frozen=True)
class TitleMention:
    title: str
    # The question with the title taken out, so its words do not sway the router.
    rest: str


# "the shows I'm in the middle of", "my shows": a description, not a title.
_DESCRIPTION = re.compile(
    r"^(?:the\s+|my\s+|all\s+(?:the\s+|my\s+)?)?(?:shows?|series|ones?|things?|stuff|episodes?|seasons?)\b",
    re.I,
)


def _clean(raw: str) -> str:
    title = _TRAILING.sub("", raw.strip())
    title = re.sub(r"[\s?!.,;:]+$", "", title)
    title = _LEADING.sub("", title).strip(" \"'“”‘’")
    return title


def find_title(question: str) -> TitleMention | None:
    """The title named in the question, if any: quoted first, then after 'like', then after 'finish'."""
    quoted = _QUOTED.search(question)
    if quoted is not None:
        title = (quoted.group("a") or quoted.group("b") or "").strip()
        if title:
            rest = (question[: quoted.start()] + " " + question[quoted.end() :]).strip()
            return TitleMention(title, rest)
    for pattern in (_SIMILAR, _EPISODES_OF, _FINISH):
        match = pattern.search(question)
        if match is None:
            continue
        title = _clean(match.group("title"))
        if (
            title.lower() in _NOT_A_TITLE
            or _DESCRIPTION.match(title)
            or not re.search(r"[a-z0-9]", title, re.I)
        ):
            continue
        at = question.find(title, match.start("title"))
        rest = question[:at] + " " + question[at + len(title) :] if at >= 0 else question[: match.start()]
        return TitleMention(title, " ".join(rest.split()))
    return None
