"""Elliptical follow-ups: "and the month before?", "what about Severance?", "only movies", "and for bob?".

A follow-up is understood against the conversation's previous understood
question (its tool and slots, re-derived from the earlier turn by the same
router): the slots the follow-up names replace the earlier ones, the rest are
kept. The resolved question then goes through exactly the checks a fresh one
does — the mode of the tool, the tool's parameter model, the scoped runner — so
a member asking "and for bob?" gets the same refusal as for "what did bob watch".
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timedelta

from core.engines.offline.date_ranges import DateRange
from core.engines.offline.router import Route, Router, Slots
from core.engines.offline.titles import TitleMention
from core.scope import Mode

# Words that open an elliptical question.
_MARKER = re.compile(
    r"^\s*(?:and|but|also|ok(?:ay)?|so|then|now|what\s+about|how\s+about|and\s+what\s+about|same\s+(?:for|with)|"
    r"only|just|same\s+but|what\s+if)\b",
    re.IGNORECASE,
)
MAX_WORDS = 8
UNHONOURED_CHANGE_PENALTY = 0.2
# At most this many earlier questions are followed back ("and the month before that?" after two follow-ups).
MAX_DEPTH = 4
_BEFORE = re.compile(
    r"\b(?:the\s+)?(?:(week|month|year)\s+before(?:\s+that)?|previous\s+(week|month|year)|(week|month|year)\s+prior)\b",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^\s*(?:(?:and|but|also|ok|okay|so|then|now|what|about|how|same|for|with|only|just|if|in|on|at|during|"
    r"over|since|from|to|user|member)\b\s*)+",
    re.IGNORECASE,
)
_TRAILING = re.compile(r"(?:\s+(?:too|as\s+well|instead|please|pls|then|ones?))+\s*$", re.IGNORECASE)
_EMPTY = {"", "the", "ones", "the ones", "one", "those", "them", "that"}
_USERNAME = re.compile(r"^[a-z0-9_.-]{2,32}$", re.IGNORECASE)
TITLE_FIELDS = ("title", "like_title", "similar_to", "show_title", "query")


def is_elliptical(question: str, fresh: Route) -> bool:
    """A short question that leans on the one before it."""
    words = question.split()
    if len(words) > MAX_WORDS or fresh.by_cue or fresh.out_of_domain is not None:
        return False
    if _MARKER.match(question) or _BEFORE.search(question):
        return True
    slots = fresh.slots
    # The old rule, kept: a short question the router cannot place but that names a slot.
    return fresh.kind == "unsupported" and any(
        (slots.period, slots.title, slots.genre, slots.media_type, slots.username, slots.status)
    )


def _shift_back(period: DateRange, unit: str, phrase: str) -> DateRange:
    """The same-length window one week/month/year before ``period``."""
    start, end = period.start, period.end
    if unit == "week":
        new_start, new_end = start - timedelta(days=7), start
    elif unit == "month":
        first = start.date().replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        new_start = datetime.combine(previous, time.min, start.tzinfo)
        new_end = datetime.combine(first, time.min, start.tzinfo) if start.date().day == 1 else start
    else:
        new_start = start.replace(year=start.year - 1)
        new_end = end.replace(year=end.year - 1) if (end - start).days > 300 else start
    last = new_end - timedelta(microseconds=1)
    label = f"the {unit} before ({new_start.day} {new_start:%b %Y} – {last.day} {last:%b %Y})"
    return DateRange(new_start, new_end, phrase, label)


def resolve(
    router: Router, question: str, fresh: Route, earlier: Route, mode: Mode, now: datetime
) -> Route | None:
    """The earlier question with what the follow-up changes, or None when it changes nothing."""
    if earlier.tool is None or earlier.kind != "tool":
        return None
    tool = earlier.tool
    fields = tool.params.model_fields
    new = fresh.slots
    changes: dict[str, object] = {}
    before = _BEFORE.search(question)
    if before is not None and earlier.slots.period is not None:
        unit = (before.group(1) or before.group(2) or before.group(3)).lower()
        changes["period"] = _shift_back(earlier.slots.period, unit, before.group(0))
    elif new.period is not None:
        changes["period"] = new.period
    else:
        # "what about in october": without the opening words the period reads on its own.
        period = router.dates.find(_MARKER.sub("", question), now)
        if period is not None:
            changes["period"] = period
            new = replace(new, period=period)
    for name in ("media_type", "genre", "status", "measure"):
        value = getattr(new, name)
        if value is not None:
            changes[name] = value
    if new.title is not None:
        changes["title"] = new.title
    # Whatever is left after the slots and filler words: a name ("and for bob?") or a title ("what about Dark?").
    left = question
    for phrase in (getattr(new.period, "phrase", None), before.group(0) if before else None):
        if phrase:
            left = re.sub(re.escape(phrase), " ", left, flags=re.IGNORECASE)
    left = " ".join(left.replace("?", " ").replace("!", " ").replace(",", " ").split())
    left = _TRAILING.sub("", _LEADING.sub("", left)).strip(" .")
    kinds = re.compile(r"\b(?:movies?|films?|shows?|series|episodes?|tv)\b", re.IGNORECASE)
    if new.media_type is not None or new.status is not None or new.genre is not None:
        left = " ".join(kinds.sub(" ", left).split()) if new.media_type else ""
    if left.lower() in _EMPTY:
        left = ""
    target = tool
    if left and "title" not in changes:
        takes_user = "username" in fields
        takes_title = any(f in fields for f in TITLE_FIELDS)
        if takes_user and _USERNAME.match(left):
            changes["username"] = left.lower()
        elif takes_title:
            changes["title"] = TitleMention(left, "")
        elif _USERNAME.match(left) and re.search(r"\bfor\s+" + re.escape(left), question, re.IGNORECASE):
            # "and for bob?" after a question about the asker's own viewing: a question about another member.
            member_tool = router.tools.get("user_watch_activity")
            if member_tool is None:
                return None
            if mode not in member_tool.modes:
                return Route("needs_admin", tool=member_tool, score=earlier.score, slots=new)
            target = member_tool
            changes["username"] = left.lower()
        else:
            return None
    if not changes:
        return None
    merged: Slots = replace(earlier.slots, **changes)  # type: ignore[arg-type]
    params, dropped, missing = router.parameters(target, merged)
    # The follow-up asked for exactly this change; a tool that cannot make it answers the earlier question.
    unhonoured_change = len(dropped) > len(earlier.dropped)
    return replace(
        earlier,
        tool=target,
        params=params,
        dropped=dropped,
        missing_required=missing,
        slots=merged,
        # A follow-up is only as sure as the question it follows, and a little less.
        score=earlier.score - (UNHONOURED_CHANGE_PENALTY if unhonoured_change else 0.05),
        example=earlier.example,
    )
