"""Turning a service's payload into a validated model, or a clear reason it was refused."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class PayloadError(Exception):
    """The delivery cannot be used; ``status`` is the 4xx to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def media_type_of(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def require_content_type(content_type: str, allowed: tuple[str, ...], source: str) -> None:
    if media_type_of(content_type) not in allowed:
        raise PayloadError(
            f"{source} webhooks must be sent as {' or '.join(allowed)}, not {media_type_of(content_type) or 'nothing'}",
            status=415,
        )


# No service nests its payload more than a dozen levels; Python's json module recurses once per
# level and fails with RecursionError somewhere near a thousand.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


def check_json_depth(text: str, source: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``max_depth`` before any parser recurses into it."""
    # Only the brackets outside strings count: strings are dropped, then everything else.
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    if len(brackets) <= max_depth:
        return
    depth = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        if depth > max_depth:
            raise PayloadError(f"{source} webhook body is nested deeper than {max_depth} levels")


def decode_json_object(body: bytes, source: str) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError(f"{source} webhook body is not UTF-8 text") from None
    check_json_depth(text, source)
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"{source} webhook body is not valid JSON ({exc})") from None
    except RecursionError:  # the depth check should make this unreachable; a 4xx all the same
        raise PayloadError(f"{source} webhook body is nested too deeply") from None
    if not isinstance(decoded, dict):
        raise PayloadError(f"{source} webhook body must be a JSON object")
    return decoded


def validate(model: type[ModelT], data: Any, source: str) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(
            f"{source} webhook is missing or has a bad field ({first_validation_error(exc)})", 422
        ) from None


def first_validation_error(exc: ValidationError) -> str:
    """The first field pydantic refused and why, as ``path.to.field: message`` (``body`` for the whole payload)."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"
