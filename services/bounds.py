"""The shape of a parsed request body, checked in bounded time before the full model validation.

Pydantic validates every item of a list and reports one error per bad item, so a hostile body
(``"messages": [1, 1, ...]`` with millions of items) costs seconds and gigabytes before the first
error is known. This walk runs first and stops at the first violation:

- every list the request model declares with ``max_length`` is measured with ``len()`` before any
  of its items is looked at (the limits are read from the model's JSON schema, so a model states
  each limit once, for its ``/docs`` and for this check);
- nesting deeper than ``max_depth`` is refused (the encoder that sends the body upstream stops at
  254 levels; the proxy's own translation adds a few);
- at most ``max_values`` values inside lists and objects are visited in all, so the walk itself,
  and the validation after it, never do work proportional to a hostile body.

Errors are 400s naming the parameter, worded as OpenAI words them; a door that names fields its own way
(Anthropic: ``messages.0.content``) passes its ``name`` for a path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import BaseModel

from services.errors import InvalidRequestError

Path = tuple[str | int, ...]
_ITEM = "[]"


def openai_param(path: Path) -> str:
    """``messages[0].content``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _pattern(path: Path) -> tuple[str, ...]:
    return tuple(_ITEM if isinstance(part, int) else part for part in path)


@cache
def list_limits(model: type[BaseModel]) -> dict[tuple[str, ...], int]:
    """``max_length`` of each list in ``model`` by its place: ``("messages", "[]", "content")``."""
    schema = model.model_json_schema(mode="validation")
    definitions: dict[str, Any] = schema.get("$defs", {})
    limits: dict[tuple[str, ...], int] = {}

    def visit(node: Any, place: tuple[str, ...], refs: frozenset[str]) -> None:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name in refs:  # a recursive model: its limits are already recorded one level up
                return
            visit(definitions.get(name), place, refs | {name})
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key, ()):
                visit(branch, place, refs)
        if node.get("type") == "array":
            if isinstance(node.get("maxItems"), int):
                limits[place] = min(limits.get(place, node["maxItems"]), node["maxItems"])
            visit(node.get("items"), (*place, _ITEM), refs)
        for key, sub in (node.get("properties") or {}).items():
            visit(sub, (*place, key), refs)

    visit(schema, (), frozenset())
    return limits


def check_bounds(
    payload: dict[str, Any],
    model: type[BaseModel],
    max_depth: int,
    max_values: int,
    name: Callable[[Path], str] = openai_param,
) -> None:
    """Raise ``InvalidRequestError`` at the first list too long, nesting too deep, or value too many
    (``name`` writes the path of the field)."""
    limits = list_limits(model)
    budget = max_values
    stack: list[tuple[dict[str, Any] | list[Any], Path]] = [(payload, ())]
    while stack:
        value, path = stack.pop()
        if len(path) >= max_depth:
            raise InvalidRequestError(
                f"Invalid '{name(path[:8])}...': JSON nested more than {max_depth} levels deep.",
                param=name(path[:1]),
                code="invalid_value",
            )
        size = len(value)
        if isinstance(value, list):
            limit = limits.get(_pattern(path))
            if limit is not None and size > limit:
                raise InvalidRequestError(
                    f"Invalid '{name(path)}': array too long. Expected an array with maximum length {limit}, "
                    f"but got an array with length {size} instead.",
                    param=name(path),
                    code="array_above_max_length",
                )
        budget -= size
        if budget < 0:
            raise InvalidRequestError(
                f"Invalid '{name(path) or 'body'}': the request holds more than {max_values} values in its "
                "arrays and objects.",
                param=name(path[:1]) or None,
                code="request_too_complex",
            )
        items = value.items() if type(value) is dict else enumerate(value)
        for key, item in items:
            if type(item) is dict or type(item) is list:
                stack.append((item, (*path, key)))
