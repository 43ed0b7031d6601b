"""A native relay beside the chat relay: the Anthropic door on a Claude endpoint, sent to Databricks' own Messages
API and relayed as received, against chat's translation of the same 100-chunk streams.

The question it answers: does passing a provider's events through cost more proxy CPU per event than the chat
relay (it should cost less: nothing is translated, only the usage events are parsed)?
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.doors import Door, phase_door
from bench.messages import MESSAGES_PATHS, messages_body

if TYPE_CHECKING:
    from bench.core import Bench

CLAUDE_MODEL = "bench-claude"  # the bench upstream serves it on /serving-endpoints/anthropic/v1/messages

NATIVE = Door(
    name="native",
    title="Anthropic Messages, native on Claude",
    paths={name: path for name, path in MESSAGES_PATHS.items() if name.startswith("ours")},
    body=lambda max_tokens, stream: messages_body(max_tokens, stream, model=CLAUDE_MODEL),
    text_of=lambda answer: str(answer["content"][0]["text"]),
    end_event="message_stop",
)


async def phase_native(bench: Bench) -> None:
    await phase_door(bench, NATIVE)
