"""Tool calls the emulator makes: a tool chosen from the prompt, arguments valid against its JSON schema.

Agents validate a call against the tool they offered (Claude Code's ``InputValidationError``, Codex's
"missing field `cmd`"), so a stand-in model must fill every required property with a value of the right type,
enum member or format. Values are derived from the prompt, so the same input always gives the same call.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_WORD = re.compile(r"[a-z0-9]+")
_SHELL_NAMES = frozenset({"cmd", "command", "commands", "argv", "script"})
_PATH_NAMES = frozenset({"path", "file", "file_path", "filepath", "filename", "dir", "directory", "notebook_path"})
_MAX_DEPTH = 4
_MAX_ITEMS = 16
_MAX_LENGTH = 4096
# Agents wrap context of their own in tags (Claude Code's ``<system-reminder>`` names its tools): not the user's words.
_TAGGED = re.compile(r"<([a-z][\w-]*)>.*?</\1>", re.DOTALL)
_STOP_WORDS = frozenset(
    {"a", "an", "the", "in", "of", "to", "is", "and", "or", "for", "on", "this", "what", "it", "get", "s"}
)


def _bounded(value: Any, low: int, high: int) -> int:
    """A schema's size keyword, kept within what a hostile schema may cost."""
    return min(max(value, low), high) if isinstance(value, int) else low


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _name_words(name: str) -> set[str]:
    split = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")
    return _words(split)


def _runs_commands(function: dict[str, Any]) -> bool:
    parameters = function.get("parameters")
    required = parameters.get("required") if isinstance(parameters, dict) else None
    return isinstance(required, list) and any(str(name).lower() in _SHELL_NAMES for name in required)


def choose_tool(tools: list[dict[str, Any]], prompt: str) -> dict[str, Any]:
    """The tool the prompt names; else a shell tool (a coding agent's most general one, run with ``ls``); else the
    tool whose name and description share most words with the prompt; else the first."""
    functions: list[dict[str, Any]] = [tool["function"] for tool in tools]
    said = _words(_TAGGED.sub(" ", prompt))
    for function in functions:
        if str(function["name"]).lower() in said or _name_words(str(function["name"])) <= said:
            return function
    shell = next((function for function in functions if _runs_commands(function)), None)
    if shell is not None:
        return shell
    best, best_score = functions[0], 0
    for function in functions:
        offered = _name_words(str(function["name"])) | _words(str(function.get("description") or "")[:4000])
        score = len(said & offered - _STOP_WORDS)
        if score > best_score:
            best, best_score = function, score
    return best


def _string_value(name: str, schema: dict[str, Any], prompt: str) -> str:
    fmt = schema.get("format")
    if fmt in {"uri", "url"}:
        return "https://example.com/"
    if fmt == "date":
        return "2025-01-01"
    if fmt == "date-time":
        return "2025-01-01T00:00:00Z"
    if fmt == "email":
        return "user@example.com"
    key = name.lower()
    if key in _SHELL_NAMES:
        return "ls"
    if key in _PATH_NAMES or key.endswith("_path"):
        return "README.md"
    if key in {"pattern", "glob"}:
        return "*"
    minimum = _bounded(schema.get("minLength"), 0, _MAX_LENGTH)
    text = prompt.strip() or "x"
    return (text * (minimum // len(text) + 1))[: max(minimum, len(text))]


def value_for(name: str, schema: Any, prompt: str, depth: int = 0) -> Any:
    """A value of ``schema`` (a JSON schema), for a property called ``name``."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return prompt
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for union in ("anyOf", "oneOf", "allOf"):
        options = schema.get(union)
        if isinstance(options, list) and options:
            typed = [o for o in options if isinstance(o, dict) and o.get("type") != "null"]
            return value_for(name, typed[0] if typed else options[0], prompt, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        return object_for(schema, prompt, depth + 1)
    if kind == "array":
        item = value_for(name, schema.get("items"), prompt, depth + 1)
        if name.lower() in _SHELL_NAMES and isinstance(item, str):
            return ["ls"]
        return [item] * _bounded(schema.get("minItems"), 1, _MAX_ITEMS)
    if kind in {"integer", "number"}:
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        low = int(low) if isinstance(low, int | float) and abs(low) < 1e15 else 0
        value = max(1, low + (1 if "exclusiveMinimum" in schema else 0))
        return value if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    return _string_value(name, schema, prompt)


def object_for(schema: dict[str, Any], prompt: str, depth: int = 0) -> dict[str, Any]:
    """Every required property of an object schema (else its first), filled; no properties gets ``{}``."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    required = [name for name in schema.get("required") or [] if name in properties]
    if not required and properties:
        required = [next(iter(properties))]  # nothing required: the first property carries the prompt
    return {name: value_for(name, properties[name], prompt, depth) for name in required}


def tool_arguments(function: dict[str, Any], prompt: str) -> str:
    """Arguments JSON for a call of ``function`` (an OpenAI chat tool's ``function`` object)."""
    parameters = function.get("parameters")
    return orjson.dumps(object_for(parameters if isinstance(parameters, dict) else {}, prompt)).decode()
