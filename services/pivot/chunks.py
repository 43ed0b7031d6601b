"""Databricks stream chunks -> exact OpenAI stream chunks, one chunk at a time (pure, no I/O).

Databricks streams differ from OpenAI's: ``role`` repeated in every delta, reasoning content as
lists of parts, cumulative ``usage`` in every chunk, the tool call repeated at the end with empty
arguments, a ``finish_reason`` that may repeat or be missing, and (Claude) a call's arguments opened
with ``{}`` before the real ones, which would concatenate to ``{}{"a":1}``: a call's leading ``{}`` is
held back until it is known to be the whole input (another call, the finish, or the end of the
stream). A normalizer per stream keeps the few facts needed to emit exactly what OpenAI would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.errors import UpstreamStreamError
from services.pivot.content import as_dict, message_reasoning, split_content, thinking_blocks
from services.pivot.fields import (
    arguments_text,
    chat_finish_reason,
    completion_finish_reason,
    created_of,
    model_of,
    new_id,
    usage_of,
)


def error_in_chunk(chunk: dict[str, Any]) -> UpstreamStreamError | None:
    if "error_code" in chunk and "choices" not in chunk:
        return UpstreamStreamError(str(chunk.get("message") or chunk.get("error_code")))
    error = chunk.get("error")
    if error is not None and "choices" not in chunk:
        message = error.get("message") if isinstance(error, dict) else error
        return UpstreamStreamError(str(message or "Databricks reported an error in the stream."))
    return None


@dataclass
class _ChoiceState:
    index: int
    started: bool = False
    finished: bool = False
    tool_slots: dict[int | str, int] = field(default_factory=dict)
    tool_count: int = 0
    held_empty: int | None = None  # the slot whose first arguments were "{}", not yet sent


class _StreamBase:
    object_name = ""
    id_prefix = ""

    def __init__(self, requested_model: str, include_usage: bool) -> None:
        self.requested_model = requested_model
        self.include_usage = include_usage
        self.id: str | None = None
        self.created = 0
        self.model = requested_model
        self.usage: dict[str, Any] | None = None
        self.choices: dict[int, _ChoiceState] = {}

    def _header(self, chunk: dict[str, Any]) -> dict[str, Any]:
        if self.id is None:
            raw_id = chunk.get("id")
            self.id = raw_id if isinstance(raw_id, str) and raw_id else new_id(self.id_prefix)
            self.created = created_of(chunk.get("created"))
            self.model = model_of(chunk.get("model"), self.requested_model)
        header: dict[str, Any] = {
            "id": self.id,
            "object": self.object_name,
            "created": self.created,
            "model": self.model,
        }
        if self.include_usage:
            header["usage"] = None
        return header

    def _remember_usage(self, chunk: dict[str, Any]) -> None:
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            if self.usage is None:
                self.usage = {}
            for key, value in usage.items():
                if value is not None:
                    self.usage[key] = value

    def _state(self, position: int, raw: dict[str, Any]) -> _ChoiceState:
        index = raw.get("index")
        key = index if isinstance(index, int) and not isinstance(index, bool) else position
        state = self.choices.get(key)
        if state is None:
            state = _ChoiceState(index=len(self.choices))
            self.choices[key] = state
        return state

    def _final_reason(self, state: _ChoiceState) -> str:
        return "stop"

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        """The OpenAI chunks (zero or one) for one Databricks chunk."""
        error = error_in_chunk(chunk)
        if error is not None:
            raise error
        self._remember_usage(chunk)
        raw_choices = chunk.get("choices")
        if not isinstance(raw_choices, list):
            return []
        header = self._header(chunk)
        out_choices = []
        for position, raw in enumerate(raw_choices):
            if isinstance(raw, dict):
                choice = self._choice(position, raw)
                if choice is not None:
                    out_choices.append(choice)
        if not out_choices:
            return []
        header["choices"] = out_choices
        return [header]

    def _choice(self, position: int, raw: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError

    def _closing(self, delta_factory: Any) -> list[dict[str, Any]]:
        """A finish_reason for every choice that never got one, then the usage chunk if asked."""
        out: list[dict[str, Any]] = []
        if self.id is None:
            self._header({})
        for state in self.choices.values():
            if not state.finished:
                reason = self._final_reason(state)
                chunk = self._header({})
                chunk["choices"] = [{"index": state.index, **delta_factory(state), "finish_reason": reason}]
                state.finished = True
                out.append(chunk)
        if self.include_usage:
            chunk = self._header({})
            chunk["choices"] = []
            chunk["usage"] = usage_of(self.usage or {}) or {
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "total_tokens": 0,
            }
            out.append(chunk)
        return out


class ChatStream(_StreamBase):
    object_name = "chat.completion.chunk"
    id_prefix = "chatcmpl"

    def __init__(
        self,
        requested_model: str,
        include_usage: bool = False,
        legacy_functions: bool = False,
        thinking_blocks: bool = False,
    ) -> None:
        """``thinking_blocks`` adds ``delta.thinking_blocks``: each Databricks reasoning part of the chunk."""
        super().__init__(requested_model, include_usage)
        self.legacy_functions = legacy_functions
        self.thinking_blocks = thinking_blocks

    def finish(self) -> list[dict[str, Any]]:
        return self._closing(self._closing_delta)

    def _closing_delta(self, state: _ChoiceState) -> dict[str, Any]:
        held = _release_held(state)
        if held is None:
            return {"delta": {}}
        return {"delta": {"function_call": held["function"]} if self.legacy_functions else {"tool_calls": [held]}}

    def _final_reason(self, state: _ChoiceState) -> str:
        return chat_finish_reason(None, bool(state.tool_slots), self.legacy_functions)

    def _choice(self, position: int, raw: dict[str, Any]) -> dict[str, Any] | None:
        state = self._state(position, raw)
        if state.finished:
            return None
        raw_delta = raw.get("delta")
        if not isinstance(raw_delta, dict) or not raw_delta:
            raw_delta = as_dict(raw.get("message"))
        delta: dict[str, Any] = {}
        if not state.started:
            delta["role"] = "assistant"
        content = raw_delta.get("content")
        text: str | None
        reasoning: str | None
        if isinstance(content, str):  # the common case, kept cheap: plain text, no reasoning parts
            text, reasoning = content, None
        else:
            text, reasoning = split_content(content)
        reasoning = reasoning or message_reasoning(raw_delta)
        if text:
            delta["content"] = text
        elif not state.started:
            delta["content"] = ""
        if reasoning:
            delta["reasoning_content"] = reasoning
        if self.thinking_blocks and content is not None and not isinstance(content, str):
            blocks = thinking_blocks(content)
            if blocks:
                delta["thinking_blocks"] = blocks
        reason = raw.get("finish_reason")
        has_reason = isinstance(reason, str) and bool(reason)
        if "tool_calls" in raw_delta or (has_reason and state.held_empty is not None):
            calls = self._tool_calls(state, raw_delta.get("tool_calls"), hold=not has_reason)
            if has_reason:
                held = _release_held(state)
                if held:
                    calls.append(held)
            if calls:
                if self.legacy_functions:
                    delta["function_call"] = calls[0]["function"]
                else:
                    delta["tool_calls"] = calls
        if not has_reason and state.started and not delta:
            return None
        state.started = True
        choice: dict[str, Any] = {"index": state.index, "delta": delta, "finish_reason": None}
        if isinstance(raw.get("logprobs"), dict):
            choice["logprobs"] = raw["logprobs"]
        if has_reason:
            state.finished = True
            choice["finish_reason"] = chat_finish_reason(reason, bool(state.tool_slots), self.legacy_functions)
        return choice

    def _tool_calls(self, state: _ChoiceState, raw_calls: Any, hold: bool = True) -> list[dict[str, Any]]:
        """Dense 0-based indices; id, type and name only in a call's first delta (``hold``: a leading ``{}``
        may be followed by the real arguments)."""
        if not isinstance(raw_calls, list):
            return []
        out: list[dict[str, Any]] = []
        for position, call in enumerate(raw_calls):
            if not isinstance(call, dict):
                continue
            function = as_dict(call.get("function"))
            arguments = arguments_text(function.get("arguments"))
            call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else None
            raw_index: int = call["index"] if isinstance(call.get("index"), int) else position
            known = state.tool_slots.get(call_id) if call_id is not None else state.tool_slots.get(raw_index)
            if known is not None:
                if arguments:  # an empty repeat of a known call is Databricks' trailing echo
                    if state.held_empty == known:
                        state.held_empty = None  # the real arguments follow the leading "{}"
                    out.append({"index": known, "function": {"arguments": arguments}})
                continue
            held = _release_held(state)
            if held:
                out.append(held)
            if hold and arguments == "{}":
                state.held_empty = state.tool_count
                arguments = ""
            slot = state.tool_count
            state.tool_count += 1
            state.tool_slots[raw_index] = slot
            if call_id is not None:
                state.tool_slots[call_id] = slot
            out.append(
                {
                    "index": slot,
                    "id": call_id or new_id("call"),
                    "type": "function",
                    "function": {"name": str(function.get("name") or ""), "arguments": arguments},
                }
            )
        return out


def _release_held(state: _ChoiceState) -> dict[str, Any] | None:
    """The held ``{}`` of the state's last call, now known to be its whole input (None when nothing is held)."""
    if state.held_empty is None:
        return None
    slot, state.held_empty = state.held_empty, None
    return {"index": slot, "function": {"arguments": "{}"}}


class CompletionStream(_StreamBase):
    object_name = "text_completion"
    id_prefix = "cmpl"

    def finish(self) -> list[dict[str, Any]]:
        return self._closing(lambda state: {"text": "", "logprobs": None})

    def _choice(self, position: int, raw: dict[str, Any]) -> dict[str, Any] | None:
        state = self._state(position, raw)
        if state.finished:
            return None
        text = raw.get("text")
        reason = raw.get("finish_reason")
        has_reason = isinstance(reason, str) and bool(reason)
        if not text and not has_reason:
            return None
        state.started = True
        choice: dict[str, Any] = {
            "index": state.index,
            "text": text if isinstance(text, str) else "",
            "logprobs": raw.get("logprobs") if isinstance(raw.get("logprobs"), dict) else None,
            "finish_reason": None,
        }
        if has_reason:
            state.finished = True
            choice["finish_reason"] = completion_finish_reason(reason)
        return choice
