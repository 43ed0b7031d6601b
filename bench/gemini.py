"""The Gemini API door beside chat (ours ``/gemini/v1beta/models/{model}:generateContent``; SSE with ``alt=sse``).

The door's streams are ``streamGenerateContent?alt=sse``: one ``data:`` chunk per text delta, the last one
carrying ``finishReason`` (which is how the bench tells a stream ended).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from bench.doors import Door, phase_door
from bench.targets import CHAT_MODEL

if TYPE_CHECKING:
    from bench.core import Bench

_BASE = f"/gemini/v1beta/models/{CHAT_MODEL}"
GEMINI_PATHS = {"ours": f"{_BASE}:generateContent", "ours-bare": f"{_BASE}:generateContent"}
GEMINI_STREAM_PATHS = {name: f"{_BASE}:streamGenerateContent?alt=sse" for name in GEMINI_PATHS}


def gemini_body(max_tokens: int, stream: bool = False) -> bytes:
    body: dict[str, Any] = {
        "systemInstruction": {"parts": [{"text": "You are a helpful assistant."}]},
        "contents": [{"role": "user", "parts": [{"text": "Say hello in one short sentence."}]}],
        "generationConfig": {"maxOutputTokens": max_tokens},
    }
    return orjson.dumps(body)


GEMINI = Door(
    name="gemini",
    title="Gemini API",
    paths=GEMINI_PATHS,
    stream_paths=GEMINI_STREAM_PATHS,
    body=gemini_body,
    text_of=lambda answer: str(answer["candidates"][0]["content"]["parts"][0]["text"]),
    end_event="finishReason",
)


async def phase_gemini(bench: Bench) -> None:
    await phase_door(bench, GEMINI)
