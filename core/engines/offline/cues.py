"""Question shapes that name their tool outright, and the title or measure they carry.

Scoring words against examples (``router``) works for questions about a kind of
thing; a question about one title ("did I ever finish Breaking Bad", "is Dune
ready yet", "do we have Alien") or a plain count ("how many users are there")
has a shape that says which tool it needs and where the title sits. Each cue is
a pattern, the tool it implies, and optionally the parameter it fills.
The first cue that matches with a plausible title wins; the router still applies
the mode rules and the tool's parameter model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from core.engines.offline.titles import _clean

_TITLE = r"(?P<t>.+)"
_VERB_SEEN = r"(?:re)?(?:watch(?:ed|ing)?|seen?|saw|finish(?:ed)?|complete(?:d)?|start(?:ed)?)"
# Words that end a title in these shapes: "is Dune ready yet", "did I finish Dark or not".
_TITLE_TAIL = re.compile(
    r"\s+(?:yet|already|before|or\s+not|ever|again|at\s+all|completely|fully|for\s+me|"
    r"(?:still\s+)?pending|declined|approved|been\s+approved|ready(?:\s+to\s+watch)?|available|go\s+through|"
    r"done|coming\s+out|come\s+out|released?|air(?:s|ing)?|finished|do\s+we\s+have|is\s+on\s+the\s+server|how\s+big\s+is\s+it|on\s+disk|am\s+i\s+on|last\s+time|"
    r"(?:on|in)\s+(?:the\s+|our\s+)?(?:server|library|plex|jellyfin)|before\s+that|here|now)\b.*$"
    r"|\s+(?:is|are|was)$",
    re.IGNORECASE,
)
# Captures that are descriptions, not titles: "have I watched anything this week".
_NOT_TITLE_START = re.compile(
    r"^(?:each|every|librar(?:y|ies)|(?:the|our|my)\s+librar(?:y|ies)|the\s+server|in|on|at|over|during|since|for|up|but|and|or|to|with|from|typical|average|usual|latest|first|oldest|"
    r"newest|next|pending|open|whole|entire|a|overall|total|altogether|in\s+total|the\s+(?:stuff|things?|ones?|"
    r"titles?|requests?)|any|anything|something|stuff|much|enough|more|most|the\s+most|a\s+lot|everything|all|my|"
    r"what|which|this|that|it|them|recently|lately|today|tonight|yesterday|last|this|the\s+last|"
    r"a\s+(?:movie|film|show)|movies?|films?|shows?|series|episodes?|titles?|things?|good|new|some|one|"
    r"anyone|anybody|someone|everyone|nobody|people|users?|members?|requests?|the\s+(?:movies?|shows?)\b)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cue:
    tool: str
    pattern: re.Pattern[str]
    # Parameters the shape itself implies, e.g. {"measure": "count"}.
    params: dict[str, Any] = field(default_factory=dict)
    needs_title: bool = False


@dataclass(frozen=True)
class CueMatch:
    tool: str
    title: str | None
    params: dict[str, Any]
    phrase: str


def _c(tool: str, pattern: str, needs_title: bool = False, **params: Any) -> Cue:
    return Cue(tool, re.compile(pattern, re.IGNORECASE), params, needs_title)


CUES: tuple[Cue, ...] = (
    # --- out of the way first: counts and live sessions have no title -------------------------------
    _c("now_playing", r"\bnow\s+playing\b|\bcurrent(?:ly)?\s+(?:streams?|playing|streaming|watching)\b"),
    _c(
        "now_playing",
        r"(?:\b(?:watching|streaming|playing|streams?|online)\b|\b(?:anyone|anybody|someone|who'?s?|people)\b.*"
        r"\bon\s+(?:plex|jellyfin|the\s+server)\b).*\b(?:right\s+now|now|at\s+the\s+moment|currently|at\s+this\s+moment)\b",
    ),
    _c(
        "admin_counts",
        r"\b(?:each|per|every)\s+admins?\b.*\b(?:approv|declin)|\b(?:approvals?|declines?|decisions)\s+per\s+admin"
        r"|\bapprovals?\b.*\b(?:each|per|every)\s+admin|\bwhich\s+admin\s+(?:approved|declined)\s+how\s+many"
        r"|\bwho\s+(?:declined|rejected|denied|refused)\b|\bwhich\s+admin\s+(?:declined|rejected|denied)\b",
        measure="decisions",
    ),
    _c(
        "admin_counts",
        r"\b(?:how\s+many|number\s+of|count\s+of)\b(?!.*\b(?:i|me|my)\b).*\b(?:users?|people|members?|accounts?)\b.*"
        r"\b(?:active|used|using|watched|watching|streamed|played|logged|log|signed|sign|login|logins)\b",
        measure="active_users",
    ),
    _c(
        "admin_counts",
        r"^(?:how\s+many\s+|number\s+of\s+)?active\s+users?(?:\s+count)?\b",
        measure="active_users",
    ),
    _c("admin_counts", r"\bactive\s+user\s+count\b", measure="active_users"),
    _c(
        "admin_counts",
        r"\b(?:how\s+many|number\s+of|total\s+number\s+of|count\s+of)\s+(?:users?|members?|accounts?|people)\b"
        r"(?!.*\b(?:watch|request|rate|rating|log|sign)\w*\b)|\buser\s+count\b|\bcount\s+(?:the\s+)?(?:users|members)\b",
        measure="users",
    ),
    _c(
        "admin_counts",
        r"^(?!.*\b(?:rank|who|whose|top|most)\b).*\b(?:how\s+many|number\s+of|count\s+of)\b(?!.*\b(?:i|me|my)\b).*\brequests?\b"
        r"|\brequests?\s+(?:count|by\s+status)\b|\b(?:open|pending)\s+requests?\s+count\b",
        measure="requests",
    ),
    # --- the library --------------------------------------------------------------------------
    _c(
        "library_lookup",
        r"\b(?:biggest|largest|heaviest)\s+(?:files?|movies?|films?|titles?|shows?|items?)\b"
        r"|\b(?:takes?|taking|uses?)\s+(?:up\s+)?the\s+most\s+(?:space|storage|disk)\b",
        measure="biggest",
    ),
    _c("library_lookup", r"\boldest\s+(?:movies?|films?|titles?|shows?)\b", measure="oldest"),
    _c(
        "library_lookup",
        r"\b(?:newest|most\s+recent)\s+(?:movies?|films?|titles?|shows?)\b(?!.*\badded\b)"
        r"(?=.*\b(?:have|library|server|by\s+year)\b)",
        measure="newest",
    ),
    _c(
        "library_lookup",
        r"\b(?:how\s+many|number\s+of|count\s+of)\s+(?:movies|films|shows|series|tv\s+series|tv\s+shows|titles|"
        r"items|episodes)\b(?!.*\b(?:watch|seen|saw|added|add|each|per|month|week|left|request|delet|remov)\w*\b)"
        r"(?!.*\b(?:i|me|my)\b)"
        r"|\bhow\s+big\s+is\s+(?:our|the)\s+library\b",
        measure="count",
    ),
    _c(
        "library_lookup",
        r"\b(?:do|does)\s+(?:we|you(?:\s+guys)?|the\s+(?:server|library)|plex|jellyfin)\s+have\s+"
        r"(?:the\s+(?:movie|film|show|series)\s+)?" + _TITLE,
        needs_title=True,
    ),
    _c("library_lookup", r"\bhave\s+we\s+got\s+" + _TITLE, needs_title=True),
    _c(
        "library_lookup",
        r"\bhow\s+much\s+(?:space|storage|disk(?:\s+space)?)\s+(?:does|do|is)\s+(?P<t>.+?)\s+(?:take|use|need|taking|using)",
        needs_title=True,
    ),
    _c("library_lookup", r"^did\s+(?P<t>.+?)\s+(?:get|got|was)\s+added\b", needs_title=True),
    _c("library_lookup", r"\b(?:got\s+)?(?:any\s+)?(?:a\s+)?copy\s+of\s+" + _TITLE, needs_title=True),
    _c(
        "library_lookup",
        r"\b(?:which|what)\s+(?:version|quality|resolution|edition)\s+(?:of\s+)?(?:is\s+)?" + _TITLE,
        needs_title=True,
    ),
    _c(
        "library_lookup",
        r"\b(?:how\s+big\s+is|file\s+size\s+of|size\s+of)\s+(?!the\s+library|our\s+library)" + _TITLE,
        needs_title=True,
    ),
    _c(
        "library_lookup",
        r"\bis\s+(?:there\s+)?(?P<t>.+?)\s+(?:on|in)\s+(?:the\s+|our\s+)?(?:server|library|plex|jellyfin)\b",
        needs_title=True,
    ),
    # --- a request by its title ---------------------------------------------------------------
    _c("request_status", r"\b(?:the\s+)?movie\s+i\s+requested,?\s+" + _TITLE, needs_title=True),
    _c("request_status", r"\brequest(?:ed)?\s+(?:for|of)\s+" + _TITLE, needs_title=True),
    _c(
        "request_status",
        r"^i\s+(?:have\s+)?requested\s+(?P<t>[^,?]+?)\s*(?:,|\?|\s+(?:is|has|did)\b)",
        needs_title=True,
    ),
    _c("request_status", r"\b(?:my|the)\s+(?P<t>.+?)\s+request\b", needs_title=True),
    _c("request_status", r"\bstatus\s+of\s+(?:my\s+)?(?:request\s+)?" + _TITLE, needs_title=True),
    _c(
        "request_status",
        r"^(?:is|has)\s+(?P<t>.+?)\s+(?:ready|available|been\s+added|arrived)\b",
        needs_title=True,
    ),
    _c(
        "request_status",
        r"\bwhen\s+will\s+(?P<t>.+?)\s+be\s+(?:available|ready|added|here)\b",
        needs_title=True,
    ),
    _c(
        "request_status",
        r"\bdid\s+(?:they|someone|anyone|you|an\s+admin|the\s+admins?)\s+(?:approve|decline|reject|add)\s+"
        + _TITLE,
        needs_title=True,
    ),
    # --- one title, for the asker ----------------------------------------------------------------
    _c(
        "title_facts",
        r"\bwhen\s+(?:was|is)\s+(?:the\s+)?(?:last|first)\s+time\s+i\s+" + _VERB_SEEN + r"\s+" + _TITLE,
        needs_title=True,
    ),
    _c("title_facts", r"\b(?:last|first)\s+time\s+i\s+" + _VERB_SEEN + r"\s+" + _TITLE, needs_title=True),
    _c(
        "title_facts",
        r"\bwhen\s+did\s+i\s+(?:last\s+|first\s+)?(?:start\s+watching|start|watch|see|finish)\s+" + _TITLE,
        needs_title=True,
    ),
    _c("title_facts", r"\bwhen\s+i\s+was\s+watching\s+" + _TITLE, needs_title=True),
    _c(
        "title_facts",
        r"\bhow\s+(?:many\s+times|often)\s+(?:did|have)\s+i\s+(?:re)?(?:watch(?:ed)?|seen?|saw)\s+" + _TITLE,
        needs_title=True,
    ),
    _c(
        "title_facts",
        r"\b(?:what|which)\s+(?:rating|score|stars?|grade)\s+did\s+i\s+give(?:\s+to)?\s+" + _TITLE,
        needs_title=True,
    ),
    _c(
        "title_facts",
        r"\bwhat\s+did\s+i\s+(?:rate|score|give)\s+(?!up\b)(?!.*\b(?:usually|average|most)\b)" + _TITLE,
        needs_title=True,
    ),
    _c("title_facts", r"\bmy\s+(?:rating|score)\s+(?:for|of)\s+" + _TITLE, needs_title=True),
    _c("title_facts", r"\bwhat\s+episode\s+of\s+(?P<t>.+?)\s+am\s+i\s+on\b", needs_title=True),
    _c(
        "title_facts",
        r"\bhow\s+many\s+(?:episodes|eps)\s+of\s+(?P<t>.+?)\s+(?:have|did)\s+i\s+(?:seen|see|watched|watch|finished)\b",
        needs_title=True,
    ),
    _c("title_facts", r"\bwhat\s+did\s+i\s+think\s+(?:of|about)\s+" + _TITLE, needs_title=True),
    _c("title_facts", r"^did\s+i\s+(?:like|love|enjoy|hate)\s+" + _TITLE, needs_title=True),
    _c("title_facts", r"^(?:is|have\s+i)\s+(?P<t>.+?)\s+finished\s+(?:for\s+me|by\s+me)\b", needs_title=True),
    _c(
        "title_facts",
        r"\b(?:have|did)\s+i\s+(?:ever\s+)?(?:rate|rated|score|scored|review|reviewed)\s+" + _TITLE,
        needs_title=True,
    ),
    _c(
        "title_facts",
        r"\b(?:next\s+episode|episode\s+am\s+i\s+on|where\s+am\s+i|how\s+far\s+am\s+i|how\s+far\s+did\s+i\s+get)\s+"
        r"(?:of|in|with)\s+" + _TITLE,
        needs_title=True,
    ),
    _c(
        "title_facts",
        r"\b(?:have|did|had|has)\s+i\s+(?:ever\s+|already\s+|even\s+|actually\s+)?"
        + _VERB_SEEN
        + r"\s+(?:watching\s+)?(?:all\s+(?:of\s+)?)?"
        + _TITLE,
        needs_title=True,
    ),
    _c(
        "title_facts",
        r"^(?:i\s+)?(?:have\s+)?(?:already\s+)?(?:watched|seen|see)\s+(?P<t>.+?)(?:\s+(?:yet|already|before))?\s*\?$",
        needs_title=True,
    ),
)


def _title_from(match: re.Match[str]) -> str | None:
    raw = next((v for k, v in match.groupdict().items() if k.startswith("t") and v), None)
    if raw is None:
        return None
    title = _clean(raw)
    for _ in range(3):
        trimmed = _TITLE_TAIL.sub("", title).strip(" ?!.,;:\"'“”")
        if trimmed == title:
            break
        title = trimmed
    title = re.sub(r"^(?:the\s+(?:movie|film|show|series)\s+)", "", title, flags=re.IGNORECASE).strip()
    if not title or _NOT_TITLE_START.match(title) or not re.search(r"[a-z0-9]", title, re.IGNORECASE):
        return None
    return title


def find_cue(question: str) -> CueMatch | None:
    """The first cue whose shape the question has (with a plausible title where one is needed)."""
    text = " ".join(question.replace("’", "'").split())
    for cue in CUES:
        match = cue.pattern.search(text)
        if match is None:
            continue
        title = _title_from(match) if cue.needs_title else None
        if cue.needs_title and title is None:
            continue
        return CueMatch(cue.tool, title, dict(cue.params), match.group(0))
    return None
