"""The configured engine gets its loop options from the settings, and its vendor's defaults for the rest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import load_settings
from bot.wiring import anthropic_engine, openai_engine
from core.engines.anthropic_engine import AnthropicEngine
from core.engines.openai_engine import OpenAIEngine
from core.engines.tool_loop import LoopOptions


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MARQUEE_"):
            monkeypatch.delenv(key)
    return monkeypatch


def test_the_anthropic_engine_takes_rounds_and_timeout_from_the_settings(env: pytest.MonkeyPatch) -> None:
    env.setenv("MARQUEE_ANTHROPIC_API_KEY", "sk-ant-test")
    env.setenv("MARQUEE_ANTHROPIC_MAX_TOOL_ROUNDS", "3")
    env.setenv("MARQUEE_ANTHROPIC_TIMEOUT_SECONDS", "45")
    engine = anthropic_engine(load_settings())
    assert engine._options == LoopOptions(max_tool_rounds=3, timeout_seconds=45.0)  # type: ignore[attr-defined]


def test_the_openai_engine_takes_rounds_tools_and_timeout_from_the_settings(env: pytest.MonkeyPatch) -> None:
    env.setenv("MARQUEE_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    env.setenv("MARQUEE_OPENAI_MAX_TOOL_ROUNDS", "2")
    env.setenv("MARQUEE_OPENAI_MAX_TOOLS", "8")
    env.setenv("MARQUEE_OPENAI_TIMEOUT_SECONDS", "90")
    engine = openai_engine(load_settings())
    assert engine._options == LoopOptions(  # type: ignore[attr-defined]
        max_tool_rounds=2, max_tools=8, timeout_seconds=90.0
    )


def test_each_vendor_engine_has_its_own_defaults() -> None:
    assert AnthropicEngine.default_options == LoopOptions(max_tool_rounds=6, timeout_seconds=60.0)
    # Local models are slower and lose track sooner.
    assert OpenAIEngine.default_options == LoopOptions(max_tool_rounds=4, timeout_seconds=120.0)
