"""The Responses door's native call: a GPT endpoint through Databricks' OpenAI Responses API.

The body is the request as sent, with the stored history already expanded (``services/store/history``):
``model`` is the endpoint and ``store`` false, since Databricks' surface keeps nothing and the proxy's store
keeps what the client asked to keep (with it, reasoning comes back encrypted so that a stored turn can be
replayed). Rules for a history begun on another surface: a reasoning item the proxy made (``encrypted_content``
with the proxy's prefix, carrying another model's thinking) or one with no ``encrypted_content`` (nothing
stateless can replay it) is left out; everything else goes verbatim.
(docs.databricks.com/gcp/en/machine-learning/model-serving/query-openai-responses)
"""

from __future__ import annotations

from typing import Any

from services.databricks.surfaces import NativeSurface
from services.dialects.responses import reasoning
from services.native import NativeRequest, SseScan
from services.native.usage import responses_usage

_STATEFUL = ("previous_response_id", "conversation")
_ENCRYPTED = "reasoning.encrypted_content"
_CLOSING = (b'"response.completed"', b'"response.incomplete"', b'"response.failed"')


class ResponsesScan(SseScan):
    """The final Response object (for the store) and its usage, from the closing event."""

    def wanted(self, payload: bytes) -> bool:
        head = payload[:64]
        return any(name in head for name in _CLOSING)

    def take(self, event: dict[str, Any]) -> None:
        response = event.get("response")
        if isinstance(response, dict):
            self.final = response
            self.usage = responses_usage(response.get("usage"))


def _foreign_reasoning(item: Any) -> bool:
    if not isinstance(item, dict) or item.get("type") != "reasoning":
        return False
    encrypted = item.get("encrypted_content")
    return not isinstance(encrypted, str) or not encrypted or encrypted.startswith(reasoning.PREFIX)


def native_request(surface: NativeSurface, body: dict[str, Any], endpoint: str, keep: bool) -> NativeRequest:
    """``body``: the request with its history; ``keep``: whether the proxy stores the answer."""
    out = {key: value for key, value in body.items() if key not in _STATEFUL}
    out["model"] = endpoint
    out["store"] = False
    items = out.get("input")
    if isinstance(items, list) and any(_foreign_reasoning(item) for item in items):
        out["input"] = [item for item in items if not _foreign_reasoning(item)]
    if keep:
        include = out.get("include")
        listed = list(include) if isinstance(include, list) else []
        if _ENCRYPTED not in listed:
            out["include"] = [*listed, _ENCRYPTED]
    return NativeRequest(
        surface=surface,
        body=out,
        stream=body.get("stream") is True,
        usage_of=lambda answer: responses_usage(answer.get("usage")),
        scan=ResponsesScan,
    )
