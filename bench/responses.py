"""The OpenAI Responses door beside chat (``/v1/responses``: ours, and LiteLLM's own Responses bridge)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from bench.doors import Door, phase_door
from bench.targets import CHAT_MODEL, chat_body

if TYPE_CHECKING:
    from bench.core import Bench

RESPONSES_PATHS = {"ours": "/v1/responses", "ours-bare": "/v1/responses", "litellm": "/v1/responses"}


def responses_body(max_output_tokens: int, stream: bool = False) -> bytes:
    """The chat benchmark's conversation as a Responses request."""
    body: dict[str, Any] = {
        "model": CHAT_MODEL,
        "input": chat_body(CHAT_MODEL, max_output_tokens)["messages"],
        "max_output_tokens": max_output_tokens,
    }
    if stream:
        body["stream"] = True
    return orjson.dumps(body)


def _text(answer: Any) -> str:
    return "".join(part["text"] for item in answer["output"] if item["type"] == "message" for part in item["content"])


RESPONSES = Door(
    name="responses",
    title="OpenAI Responses",
    paths=RESPONSES_PATHS,
    body=responses_body,
    text_of=_text,
    # The bench upstream ends its streams with a length finish, so the last event is response.incomplete.
    end_event="response.completed/incomplete",
)


async def phase_responses(bench: Bench) -> None:
    await phase_door(bench, RESPONSES)
