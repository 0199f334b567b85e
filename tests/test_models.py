"""Model aliases and capabilities."""

from __future__ import annotations

from claude_magic import models


def test_aliases_resolve_and_ids_pass_through():
    assert models.resolve("opus") == "claude-opus-4-6"
    assert models.resolve(" Sonnet ") == "claude-sonnet-4-6"
    assert models.resolve("haiku") == "claude-haiku-4-5"
    assert models.resolve("claude-some-future-model") == "claude-some-future-model"


def test_capabilities_by_prefix():
    assert models.info("claude-opus-4-6").adaptive_thinking
    assert not models.info("claude-haiku-4-5-20251001").adaptive_thinking
    assert not models.info("unknown").adaptive_thinking
    assert models.info("claude-sonnet-4-6").context_window == 200_000


def test_a_bare_word_that_is_no_alias_is_a_typo():
    import pytest

    from claude_magic.errors import ClaudeError

    with pytest.raises(ClaudeError, match="Unknown model 'opsu': did you mean opus?"):
        models.resolve("opsu")
    with pytest.raises(ClaudeError, match="Unknown model 'gpt'"):
        models.resolve("gpt")
