"""Split a Markdown reply into messages that fit a platform's length limit.

Discord refuses messages over 2,000 characters. A reply is cut, in order of
preference, at a blank line outside a code block, at a line end outside a code
block, at any line end, at a space, and only as a last resort inside a word. A
code block cut in two is closed at the end of one message and reopened (with
its language) at the start of the next, so both render as code.
"""

from __future__ import annotations

import re

DISCORD_MESSAGE_LIMIT = 2000

_FENCE = re.compile(r"^\s*(```+|~~~+)(.*)$")
# A break is only worth taking if it keeps at least this share of the limit in
# the message; otherwise a worse kind of break further on is better.
_MIN_FILL = 0.5


def split_markdown(text: str, limit: int = DISCORD_MESSAGE_LIMIT) -> list[str]:
    """The parts of ``text``, each at most ``limit`` characters, in order; empty text gives no parts."""
    if limit < 40:
        raise ValueError("limit too small to split Markdown sensibly")
    text = text.strip("\n")
    parts: list[str] = []
    open_fence: str | None = None  # the opening line of a code block carried over from the last part
    while text:
        if open_fence is not None:
            text = f"{open_fence}\n{text}"
        if len(text) <= limit:
            parts.append(text)
            break
        cut, fence_at_cut = _best_cut(text, limit)
        part = text[:cut].rstrip()
        rest = text[cut:]
        if fence_at_cut is not None:
            part = f"{part}\n{_closing(fence_at_cut)}"
            rest = rest.lstrip("\n")
            first_line, _, after = rest.partition("\n")
            if first_line.strip() == _closing(fence_at_cut):
                # The block ended right at the cut: do not reopen it only to close it.
                rest, fence_at_cut = after, None
        rest = rest.lstrip() if fence_at_cut is None else rest
        if part.strip():
            parts.append(part)
        open_fence = fence_at_cut if rest.strip() else None
        text = rest if rest.strip() else ""
    return parts


def _closing(opening_line: str) -> str:
    match = _FENCE.match(opening_line)
    return match.group(1) if match else "```"


def _best_cut(text: str, limit: int) -> tuple[int, str | None]:
    """Where to cut ``text`` (an index ≤ limit) and the code block open at that point, if any."""
    # Room for "\n```" when a part ends inside a code block.
    reserve = 8
    blank_outside = line_outside = line_inside = -1
    fence_at: dict[int, str | None] = {}
    open_fence: str | None = None
    position = 0
    for line in text.split("\n"):
        end = position + len(line)  # index of the "\n" after this line
        if end > limit:
            break
        fence = _FENCE.match(line)
        if fence is not None:
            if open_fence is None:
                open_fence = line.strip()
            elif fence.group(1)[0] == _closing(open_fence)[0] and not fence.group(2).strip():
                open_fence = None
        fence_at[end] = open_fence
        if open_fence is None:
            line_outside = end
            if not line.strip():
                blank_outside = end
        elif end <= limit - reserve:
            line_inside = end
        position = end + 1
    for candidate in (blank_outside, line_outside):
        if candidate >= limit * _MIN_FILL:
            return candidate, None
    if line_inside >= limit * _MIN_FILL:
        return line_inside, fence_at[line_inside]
    # One line longer than what is left: cut at a space, or inside the word.
    inside = _fence_state_at(text, limit)
    room = limit - reserve if inside is not None else limit
    space = text.rfind(" ", 0, room)
    cut = space if space > 0 and space >= room * _MIN_FILL else room
    return cut, _fence_state_at(text, cut)


def _fence_state_at(text: str, index: int) -> str | None:
    """The opening line of the code block that is open at ``index`` of ``text``, if any."""
    open_fence: str | None = None
    for line in text[:index].split("\n")[:-1]:
        fence = _FENCE.match(line)
        if fence is None:
            continue
        if open_fence is None:
            open_fence = line.strip()
        elif fence.group(1)[0] == _closing(open_fence)[0] and not fence.group(2).strip():
            open_fence = None
    return open_fence
