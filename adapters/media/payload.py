"""Turning a service's payload into a validated model, or a clear reason it was refused."""

from __future__ import annotations

import json
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


def decode_json_object(body: bytes, source: str) -> dict[str, Any]:
    try:
        decoded = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"{source} webhook body is not valid JSON ({exc})") from None
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
