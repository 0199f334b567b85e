"""What the two engines share: an outcome that survives a job file, and the tally a bar shows."""

from __future__ import annotations

from types import SimpleNamespace

from claude_magic.engines import Outcome, Tally, custom_id, prompt_number


def test_an_outcome_reads_the_text_blocks_whatever_comes_first_and_survives_json():
    message = SimpleNamespace(
        content=[SimpleNamespace(type="thinking", thinking="hm"), SimpleNamespace(type="text", text='{"label": '),
                 SimpleNamespace(type="text", text='"yes"}')],
        stop_reason="end_turn", model="claude-opus-4-6",
        usage=SimpleNamespace(input_tokens=12, output_tokens=3, cache_creation_input_tokens=0, cache_read_input_tokens=4,
                              cache_creation=None),
    )
    outcome = Outcome.of_message(message, batch=True, cache_ttl="1h")
    assert outcome.text == '{"label": "yes"}' and outcome.batch and outcome.usage.cache_read_tokens == 4
    assert Outcome.from_json(outcome.to_json()) == outcome


def test_a_tally_counts_each_kind_and_what_is_done():
    tally = Tally(total=4)
    for status in ("succeeded", "errored", "expired"):
        tally.add(Outcome(status))
    assert (tally.succeeded, tally.errored, tally.expired, tally.done) == (1, 1, 1, 3)


def test_custom_ids_are_what_the_api_allows_and_say_which_prompt():
    assert custom_id(41) == "p41" and prompt_number(custom_id(41)) == 41
