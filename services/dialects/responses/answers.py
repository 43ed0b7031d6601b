"""Chat pivot answer -> Response object."""

from __future__ import annotations

from typing import Any

from services.dialects.responses.common import ChatTranslation, Ids, response_object, status_of, usage_of
from services.dialects.responses.items import blocks_of, message_item, reasoning_item, target_of, tool_item


def from_chat(answer: dict[str, Any], call: ChatTranslation, ids: Ids | None = None) -> dict[str, Any]:
    ids = ids or Ids()
    choices = answer.get("choices") or []
    choice = choices[0] if choices else {}
    message = choice.get("message") or {}
    output: list[dict[str, Any]] = []
    blocks = blocks_of(message)
    if blocks:
        output.append(reasoning_item(ids.item("rs"), blocks))
    text = message.get("content")
    if isinstance(text, str) and text:
        output.append(message_item(ids.item("msg"), text))
    for tool_call in message.get("tool_calls") or ():
        function = tool_call.get("function") or {}
        arguments = function.get("arguments") or "{}"
        target = target_of(call.names, str(function.get("name") or ""))
        prefix = "ctc" if target.kind == "custom" else "fc"
        output.append(tool_item(ids.item(prefix), str(tool_call.get("id") or ids.item("call")), target, arguments))
    status, reason = status_of(choice.get("finish_reason"))
    if status == "incomplete" and output:
        output[-1]["status"] = "incomplete"  # the item the model was writing when it was stopped
    return response_object(
        call,
        ids.response,
        answer.get("created") or 0,
        str(answer.get("model") or call.chat["model"]),
        status,
        output,
        usage_of(answer.get("usage")),
        incomplete_reason=reason,
    )
