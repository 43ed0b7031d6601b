"""The Anthropic door's native call: Messages to a Claude endpoint, sent to Databricks' Anthropic Messages API.

The body goes as the client sent it, ``model`` set to the endpoint; ``anthropic-version`` and ``anthropic-beta``
go with it (docs.databricks.com/aws/en/machine-learning/model-serving/query-anthropic-messages). One rule for a
history begun on another surface: a thinking block without a signature (a translated answer from a model that
signs nothing, or cut off by ``max_tokens``) is left out, since Claude refuses a thinking block it cannot verify;
signed blocks are Claude's own either way and go verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.databricks.surfaces import NativeSurface
from services.native import NativeRequest, SseScan
from services.native.usage import anthropic_usage

FORWARDED_HEADERS = ("anthropic-version", "anthropic-beta")


class MessagesScan(SseScan):
    """Usage from ``message_start`` (input and cache counts) and ``message_delta`` (output so far)."""

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[str, Any] = {}

    def wanted(self, payload: bytes) -> bool:
        head = payload[:48]
        return b'"message_start"' in head or b'"message_delta"' in head

    def take(self, event: dict[str, Any]) -> None:
        message = event.get("message")
        usage = message.get("usage") if isinstance(message, dict) else event.get("usage")
        if isinstance(usage, dict):
            self._counts.update({k: v for k, v in usage.items() if v is not None})
            self.usage = anthropic_usage(self._counts)


def _unverifiable(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "thinking" and not block.get("signature")


def _replayable(messages: list[Any]) -> list[Any]:
    """``messages`` without unsigned thinking blocks (a copy only where one is found)."""
    out: list[Any] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(_unverifiable(block) for block in content):
            message = {**message, "content": [block for block in content if not _unverifiable(block)]}
        out.append(message)
    return out


def native_request(
    surface: NativeSurface, payload: dict[str, Any], endpoint: str, headers: Mapping[str, str]
) -> NativeRequest:
    body = {**payload, "model": endpoint, "messages": _replayable(payload["messages"])}
    return NativeRequest(
        surface=surface,
        body=body,
        stream=payload.get("stream") is True,
        usage_of=lambda answer: anthropic_usage(answer.get("usage")),
        scan=MessagesScan,
        headers={name: headers[name] for name in FORWARDED_HEADERS if name in headers},
    )
