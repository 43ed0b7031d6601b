"""What the proxy does with each OpenAI request parameter: the one table (mirrored in the README).

Databricks' front door rejects unknown fields with 400, while common clients send OpenAI fields by
default. So every OpenAI-defined field has a rule here; fields OpenAI does not define are passed on
untouched (they are Databricks or model extras the caller chose, e.g. ``thinking``, ``extra_params``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Action(Enum):
    FORWARD = "forwarded"
    RENAME = "renamed"
    LOCAL = "served by the proxy"
    DROP = "dropped"
    REJECT = "refused (400) unless neutral"


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    target: str | None = None
    neutral: tuple[Any, ...] = ()
    note: str = ""


F = Rule(Action.FORWARD)
LOCAL = Rule(Action.LOCAL)
DROP = Rule(Action.DROP, note="no Databricks meaning, no guaranteed effect on the answer")


def _reject(*neutral: Any, note: str = "") -> Rule:
    return Rule(Action.REJECT, neutral=neutral, note=note)


_SAMPLING: dict[str, Rule] = {
    "model": Rule(Action.LOCAL, note="names the serving endpoint (or an alias); not sent in the body"),
    "max_tokens": F,
    "temperature": F,
    "top_p": F,
    "top_k": F,
    "stop": F,
    "n": Rule(Action.FORWARD, note="with stream=true only n=1 (Databricks refuses more)"),
    "stream": F,
    "stream_options": Rule(Action.LOCAL, note="include_usage is served from Databricks' own usage"),
    "seed": Rule(Action.DROP, note="best effort in OpenAI too; Databricks rejects it"),
    "user": DROP,
    "presence_penalty": _reject(0, 0.0, note="no Databricks equivalent; 0 is accepted and dropped"),
    "frequency_penalty": _reject(0, 0.0, note="no Databricks equivalent; 0 is accepted and dropped"),
    "logit_bias": _reject({}, note="no Databricks equivalent; {} is accepted and dropped"),
    "store": DROP,
    "metadata": DROP,
    "service_tier": DROP,
    "prompt_cache_key": DROP,
    "safety_identifier": DROP,
}

CHAT: dict[str, Rule] = {
    **_SAMPLING,
    "messages": Rule(Action.FORWARD, note="normalised: see the message rules"),
    "max_completion_tokens": Rule(Action.RENAME, target="max_tokens"),
    "tools": Rule(Action.FORWARD, note="`strict` removed, missing `parameters` filled in"),
    "tool_choice": Rule(Action.FORWARD, note="a function must be among the tools; allowed_tools narrows the tools"),
    "functions": Rule(Action.RENAME, target="tools", note="legacy; answers use function_call again"),
    "function_call": Rule(Action.RENAME, target="tool_choice", note="legacy"),
    "response_format": F,
    "logprobs": F,
    "top_logprobs": F,
    "reasoning_effort": F,
    "parallel_tool_calls": DROP,
    "prompt_cache_retention": DROP,
    "modalities": _reject(["text"], note="only text output exists on Databricks"),
    "audio": _reject(note="no audio output on Databricks"),
    "prediction": _reject(note="predicted outputs are not supported"),
    "web_search_options": _reject(note="no web search on Databricks"),
    "verbosity": _reject("medium", note="only the default verbosity"),
}

COMPLETIONS: dict[str, Rule] = {
    **_SAMPLING,
    "prompt": F,
    "suffix": F,
    "echo": F,
    "logprobs": F,
    "error_behavior": F,
    "use_raw_prompt": F,
    "best_of": _reject(1, note="only best_of=1"),
}

EMBEDDINGS: dict[str, Rule] = {
    "model": _SAMPLING["model"],
    "input": F,
    "instruction": F,
    "user": DROP,
    "encoding_format": Rule(Action.LOCAL, note="base64 is encoded by the proxy (Databricks ignores it)"),
    "dimensions": _reject(note="refused: Databricks embedding models are not trained for truncation (not Matryoshka)"),
}

# Keys of a chat message Databricks accepts; everything else is converted or removed.
MESSAGE_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id", "name"})
