"""The offline engine's own sentences: the period intro, hedges, refusals and "I can't answer that yet"."""

from __future__ import annotations

from collections.abc import Sequence

# Below this confidence the answer says how the question was read, so a wrong guess is easy to spot.
HEDGE_BELOW = 0.6


def first_sentence(text: str) -> str:
    head = text.strip().split(". ")[0].split("\n")[0].rstrip(".")
    return head[:1].lower() + head[1:] if head else head


def with_period(text: str, period_label: str | None) -> str:
    """Start the answer with the period the question named, e.g. 'For last month (1 Oct – 31 Oct 2026):'."""
    if not period_label:
        return text
    return f"_For {period_label}:_\n{text}"


def hedge(text: str, confidence: float, reading: str) -> str:
    """Say how the question was read when the match was weak."""
    if confidence >= HEDGE_BELOW:
        return text
    return f"I'm not sure I understood, so I read this as “{reading.rstrip('?.')}”.\n\n{text}"


def cant_answer(suggestions: Sequence[str]) -> str:
    lines = [
        "I can't answer that yet. I've noted the question so the server admins can see what people "
        "ask for and what data would help."
    ]
    if suggestions:
        lines.append("Things I can answer, for example:")
        lines.extend(f"- {s}" for s in suggestions)
    return "\n".join(lines)


def needs_admin_mode(is_admin: bool) -> str:
    if is_admin:
        return (
            "That is a server-wide admin question. I answer those only in admin mode: ask in the admin "
            "channel, or use `marquee ask --admin`."
        )
    return (
        "That question is about other members or the server's operation, which only the server admins "
        "can ask about. I can answer questions about your own viewing and requests."
    )


def needs_personal_mode() -> str:
    return (
        "That is a question about your own viewing, and admin mode works with server-wide totals. "
        "Ask me in a direct message instead."
    )


def which_title(example: str) -> str:
    return f'Which title do you mean? Name it, in quotes if it is a common phrase, for example: "{example}"'


def which_user(example: str) -> str:
    return f'Which user do you mean? Give their server username, for example: "{example}"'


def tool_failed(reason: str) -> str:
    return f"I couldn't look that up: {reason.rstrip('.')}."


def unhonoured(text: str, reading: str, dropped: Sequence[str]) -> str:
    """Name the parts of the question the answer could not take into account."""
    return f"I read this as “{reading.rstrip('?.')}” — I couldn't take {', '.join(dropped)} into account.\n\n{text}"


def out_of_domain(topic: str) -> str:
    return (
        f"I can't answer that: I only know this media server's library, viewing and requests, "
        f"nothing about {topic}. I've noted the question for the admins."
    )
