"""The Gemini door's native call: a Gemini endpoint through Databricks' Gemini API
(docs.databricks.com/aws/en/generative-ai/foundation-models/gemini-api).

The body goes as sent; the model is the endpoint, in the path. Rule for a history begun on another surface: a
``thoughtSignature`` the proxy wrote (another model's thinking, ``signatures.py``) is removed from its part, since
Gemini cannot verify it; Gemini's own go verbatim.
"""

from __future__ import annotations

from typing import Any

from services.databricks.surfaces import NativeSurface
from services.dialects.gemini import signatures
from services.native import NativeRequest, SseScan
from services.native.usage import gemini_usage


class ContentScan(SseScan):
    """Gemini repeats ``usageMetadata`` in its events: the last one is read, once, at the end."""

    last = True

    def wanted(self, payload: bytes) -> bool:
        return b'"usageMetadata"' in payload

    def take(self, event: dict[str, Any]) -> None:
        self.usage = gemini_usage(event.get("usageMetadata"))


def _ours(part: Any) -> bool:
    signature = part.get("thoughtSignature") if isinstance(part, dict) else None
    return isinstance(signature, str) and bool(signatures.decode(signature))


def _without_our_signatures(contents: list[Any]) -> list[Any]:
    out: list[Any] = []
    for content in contents:
        parts = content.get("parts") if isinstance(content, dict) else None
        if isinstance(parts, list) and any(_ours(part) for part in parts):
            cleaned = [{k: v for k, v in p.items() if k != "thoughtSignature"} if _ours(p) else p for p in parts]
            content = {**content, "parts": [p for p in cleaned if p != {"text": ""}]}
        out.append(content)
    return out


def native_request(
    surface: NativeSurface, payload: dict[str, Any], endpoint: str, *, stream: bool, sse: bool
) -> NativeRequest:
    body = dict(payload)
    contents = body.get("contents")
    if isinstance(contents, list):
        body["contents"] = _without_our_signatures(contents)
    return NativeRequest(
        surface=surface,
        body=body,
        stream=stream,
        usage_of=lambda answer: gemini_usage(answer.get("usageMetadata")),
        scan=ContentScan,
        method="streamGenerateContent" if stream else "generateContent",
        query="?alt=sse" if stream and sse else "",
    )
