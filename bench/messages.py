"""The Anthropic Messages door beside chat (ours ``/anthropic/v1/messages``, LiteLLM its own ``/v1/messages``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from bench.doors import Door, phase_door
from bench.targets import CHAT_MODEL

if TYPE_CHECKING:
    from bench.core import Bench

MESSAGES_PATHS = {"ours": "/anthropic/v1/messages", "ours-bare": "/anthropic/v1/messages", "litellm": "/v1/messages"}


def messages_body(max_tokens: int, stream: bool = False, model: str = CHAT_MODEL) -> bytes:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "system": "You are a helpful assistant.",
        "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
    }
    if stream:
        body["stream"] = True
    return orjson.dumps(body)


MESSAGES = Door(
    name="messages",
    title="Anthropic Messages",
    paths=MESSAGES_PATHS,
    body=messages_body,
    text_of=lambda answer: str(answer["content"][0]["text"]),
    end_event="message_stop",
)


async def phase_messages(bench: Bench) -> None:
    await phase_door(bench, MESSAGES)
