"""One kind of "safe to show" failure: every expected failure is a ``UserFacingError`` with a reason."""

from __future__ import annotations

import pytest

from bot.cli import CommandError
from bot.settings import SettingsError
from core.admin_reports import AdminReportError
from core.errors import UserFacingError
from core.identity import AdminModeRefused, AlreadyLinked, UnknownPlatform, UnknownUser
from core.insights_access import SignInRefused
from core.insights_page import InsightsActionError
from core.media_requests.service import RequestRefused, ServiceUnavailable
from core.sync.jobs import SyncError
from core.tools.base import ToolError, ToolInputError, ToolNotAllowed, UnknownTool


@pytest.mark.parametrize(
    "kind",
    [
        ToolError,
        ToolInputError,
        ToolNotAllowed,
        UnknownTool,
        AdminReportError,
        InsightsActionError,
        SignInRefused,
        ServiceUnavailable,
        AdminModeRefused,
        UnknownUser,
        AlreadyLinked,
        UnknownPlatform,
        SyncError,
        SettingsError,
        CommandError,
    ],
)
def test_expected_failures_carry_their_reason(kind: type[UserFacingError]) -> None:
    error = kind("the reason, in one sentence")
    assert isinstance(error, UserFacingError) and error.reason == str(error) == "the reason, in one sentence"


def test_a_refused_request_keeps_its_kind_and_reason() -> None:
    refused = RequestRefused("quota", "You have reached your request limit.")
    assert isinstance(refused, UserFacingError) and refused.kind == "quota"
    assert refused.reason == "You have reached your request limit."
