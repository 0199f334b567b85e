"""What each model can do, asked of the Models API once per model per kernel, and what a turn may ask.

`Capabilities` (one per `Session`) asks `client.models.retrieve(id)` the first time a model is used
and keeps the answer while the client stays the same (a new key or base URL may see other models),
so a warm turn sends no extra request; `%claude_models` fills it for every model it lists. In replay
the answer comes from the fixture like any other exchange. When the API cannot be asked (offline, a
fixture recorded without the lookup, a gateway without the endpoint) the built-in table (`catalog`)
stands in, or a guess for an id it does not know, and the user is told once.

`refusal` says in one line what the model would refuse of a turn (an effort level it does not take,
thinking where it has none), before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from .catalog import BUILT_IN, CHECKED, EFFORT_LEVELS, THINKING_TYPES, ModelFacts, built_in, guess
from .errors import one_line

if TYPE_CHECKING:
    import anthropic

__all__ = ["Capabilities", "facts_from_api", "refusal"]

Notify = Callable[[str], None]
T = TypeVar("T")
# The plain {"supported": bool} capabilities, by the names ModelFacts.features uses.
_PLAIN = ("image_input", "pdf_input", "citations", "structured_outputs", "batch")


class Capabilities:
    """The facts of each model this kernel used, from the API while the client stays the same."""

    def __init__(self) -> None:
        self._client: Any = None
        self._facts: dict[str, ModelFacts] = {}

    def facts(self, model: str, client: anthropic.Anthropic | None, offline: str, *, notify: Notify) -> ModelFacts:
        """`model`'s facts; `client` None means no client could be made, `offline` says why."""
        self._same_client(client)
        if model not in self._facts:
            self._facts[model] = self._ask(model, client, notify, offline)
        return self._facts[model]

    def listing(self, client: anthropic.Anthropic | None, offline: str, *, notify: Notify) -> tuple[list[ModelFacts], str]:
        """Every model the API offers now, newest first (the API's order), each one's facts kept; or
        the built-in table when the API cannot be asked. With a line saying which it is."""
        self._same_client(client)
        if client is not None:
            listed, offline = _asked(lambda: [facts_from_api(info) for info in client.models.list(limit=1000)])
            if listed is not None:
                self._facts.update((facts.id, facts) for facts in listed)
                return listed, "Models: as the Models API lists them now."
        notify(f"could not ask the Models API which models it offers ({offline}); showing the built-in table.")
        return list(BUILT_IN.values()), f"Models: the package's built-in table of {CHECKED}."

    def _same_client(self, client: Any) -> None:
        if client is not self._client:
            self._client, self._facts = client, {}

    def _ask(self, model: str, client: anthropic.Anthropic | None, notify: Notify, offline: str) -> ModelFacts:
        if client is not None:
            info, offline = _asked(lambda: client.models.retrieve(model))
            if info is not None:
                return facts_from_api(info)
        fallback = built_in(model)
        standing_in = "the built-in table" if fallback else "a guess (the built-in table does not list it)"
        notify(f"could not ask the Models API what {model} can do ({offline}); going by {standing_in}.")
        return fallback or guess(model)


def _asked(call: Callable[[], T]) -> tuple[T | None, str]:
    """What `call` got from the API, or None and why it got nothing; a bug is raised as it is."""
    from .failures import is_api_failure

    try:
        return call(), ""
    except Exception as error:
        if not is_api_failure(error):
            raise
        return None, _why(error)


def _why(error: BaseException) -> str:
    import anthropic

    from .transport import ReplayMiss

    if isinstance(error, ReplayMiss):
        return "the fixture holds no answer"
    if isinstance(error, anthropic.NotFoundError):
        return "it answered 404: no such model for this key"
    return one_line(str(getattr(error, "message", "") or error), 100)


def facts_from_api(info: Any) -> ModelFacts:
    """The SDK's `ModelInfo` as `ModelFacts`; a model the API reports no capabilities for is guessed."""
    caps = info.capabilities
    fallback = built_in(info.id) or guess(info.id)
    if caps is None:
        return replace(fallback, max_input_tokens=info.max_input_tokens or fallback.max_input_tokens)
    features = {name for name in _PLAIN if getattr(caps, name).supported}
    if caps.server_tools.web_search.supported:
        features.add("web_search")
    compaction = caps.context_management.compact_20260112
    if compaction is not None and compaction.supported:
        features.add("compaction")
    efforts = tuple(
        level for level in EFFORT_LEVELS
        if caps.effort.supported and getattr(caps.effort, level) is not None and getattr(caps.effort, level).supported
    )
    return ModelFacts(
        id=info.id, line=info.line, released=info.created_at.date().isoformat(),
        thinking=frozenset(kind for kind in THINKING_TYPES if getattr(caps.thinking.types, kind).supported),
        efforts=efforts, max_input_tokens=info.max_input_tokens or fallback.max_input_tokens,
        max_tokens=info.max_tokens or fallback.max_tokens, features=frozenset(features), lifecycle=info.lifecycle,
        display_name=info.display_name, source="api",
    )


def refusal(facts: ModelFacts, *, think: bool, effort: str | None, max_tokens: int) -> str:
    """Why the model would refuse this turn's -t, -e or output limit, in one line; "" if it would not."""
    model = facts.id
    if think and not facts.thinks:
        return f"-t: {model} does not think; drop -t, or pick a model that does (%claude_models)."
    if max_tokens > facts.max_tokens:
        return f"max_tokens {max_tokens:,}: {model} writes at most {facts.max_tokens:,} tokens a turn; use --max-tokens {facts.max_tokens}."
    if effort is None or effort in facts.efforts:
        return ""
    if not facts.efforts:
        return f"-e {effort}: {model} has no effort setting; drop -e, or pick a model that has one (%claude_models)."
    return f"-e {effort}: {model} takes {_either(facts.efforts)}, not {effort}."


def _either(levels: tuple[str, ...]) -> str:
    return levels[0] if len(levels) == 1 else f"{', '.join(levels[:-1])} or {levels[-1]}"
