"""The error leaf's key scrubbing: whole texts (`scrub`) and texts that arrive in pieces (`KeyScreen`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from claude_magic.errors import REDACTED, ClaudeError, KeyScreen, scrub

KEY = "sk-ant-api03-" + "Qz7Wv2Lr5Tn8Xb4Hk9Mp3Jd6Gs1Fc0Ya-Ue_Oi8Rt2Yw5Pq" + "AA"


def screened(pieces: list[str]) -> list[str]:
    screen = KeyScreen()
    return [screen.feed(piece) for piece in pieces] + [screen.flush()]


def test_scrub_replaces_a_key_and_leaves_its_prefix_alone():
    assert scrub(f'api_key="{KEY}"') == f'api_key="{REDACTED}"'
    assert scrub("keys start sk-ant-, then more") == "keys start sk-ant-, then more"
    assert KEY not in str(ClaudeError(f"the proxy said {KEY} may not use this model"))


def test_a_key_split_across_pieces_is_held_back_until_it_ends():
    shown = screened(["client(api_key=\"sk", "-ant-api03-Qz7W", KEY[len("sk-ant-api03-Qz7W"):], "\") works"])
    assert shown[:3] == ['client(api_key="', "", ""]
    assert "".join(shown) == f'client(api_key="{REDACTED}") works'


def test_text_that_only_looks_like_a_start_is_let_through_when_it_goes_on():
    assert screened(["it is", " tasks", " done"]) == ["it i", "s task", "s done", ""]


def test_a_key_at_the_very_end_is_scrubbed_by_the_flush():
    assert screened(["the key: ", KEY]) == ["the key: ", "", REDACTED]


words = st.sampled_from(["sk", "-ant-", "api03", KEY, "s", " ", "task", '"', "\n", "Qz7-_", "é"])


@given(st.lists(words, max_size=12), st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_however_a_text_is_split_the_screen_shows_what_scrub_would_and_never_the_key(parts, cuts):
    text = "".join(parts)
    bounds = sorted({0, len(text), *(cut % (len(text) + 1) for cut in cuts)})
    pieces = [text[start:end] for start, end in zip(bounds, bounds[1:])]
    shown = screened(pieces)
    assert "".join(shown) == scrub(text)
    assert not any(KEY[-12:] in piece or KEY[20:32] in piece for piece in shown)
