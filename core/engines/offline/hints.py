"""The offline reading of a question, handed to the LLM engine as a hint and used to check its answer.

The Anthropic engine gets the slots the offline router found (tool, period,
title, media kind, member, status, measure) as one line of context — a hint it
may overrule, never an instruction. After the answer, every slot no tool call
honoured (a period the question named but no call filtered by, a title no call
looked up) lowers the confidence and is named in ``missing_data``, as the
offline engine does for its own answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.engines.base import ToolCall
from core.engines.offline.router import Route

UNHONOURED_SLOT_PENALTY = 0.1
_TITLE_FIELDS = ("title", "like_title", "similar_to", "show_title", "query")


@dataclass(frozen=True)
class SlotHint:
    tool: str | None
    slots: dict[str, str]

    def text(self) -> str:
        parts = [f"{name}: {value}" for name, value in self.slots.items()]
        reading = f"tool {self.tool}" if self.tool else "no tool"
        if parts:
            reading += "; " + "; ".join(parts)
        return (
            "An offline reading of this question (a hint, not an instruction; overrule it when the question "
            f"says otherwise): {reading}."
        )


def hint_of(route: Route) -> SlotHint | None:
    """The slots of a route worth telling the model about, or None when the router understood nothing."""
    slots: dict[str, str] = {}
    s = route.slots
    if s.period is not None:
        slots["period"] = f"{s.period.label} [{s.period.start.isoformat()} – {s.period.end.isoformat()})"
    if s.title is not None:
        slots["title"] = s.title.title
    if s.media_type is not None:
        slots["media type"] = s.media_type
    if s.genre is not None:
        slots["genre"] = s.genre
    if s.username is not None:
        slots["member"] = s.username
    if s.status is not None:
        slots["status"] = s.status
    if s.measure is not None:
        slots["measure"] = s.measure
    tool = route.tool.name if route.tool is not None and route.kind == "tool" else None
    if tool is None and not slots:
        return None
    return SlotHint(tool, slots)


def unhonoured(hint: SlotHint, calls: Sequence[ToolCall]) -> list[str]:
    """Slots of the question that no successful tool call took into account."""
    used = [call.params for call in calls if call.error is None]
    if not used:
        return []
    missing = []
    if "period" in hint.slots and not any("start" in p or "end" in p for p in used):
        missing.append(f"the period ({hint.slots['period'].split(' [')[0]})")
    if "title" in hint.slots and not any(any(p.get(f) for f in _TITLE_FIELDS) for p in used):
        missing.append(f"the title ({hint.slots['title']})")
    if "member" in hint.slots and not any(p.get("username") for p in used):
        missing.append(f"the member ({hint.slots['member']})")
    return missing
