"""Request field names as the door reads them: camelCase, as proto3 JSON also accepts snake_case (pure).

Keys are renamed down the request's own structure, never inside values that belong to the client:
function arguments and responses, and schemas (whose keywords ``requests.json_schema`` handles).
"""

from __future__ import annotations

from typing import Any

from pydantic.alias_generators import to_camel

# camelCase names whose values are the client's data, not the request's structure
OPAQUE = frozenset(
    {"args", "response", "parameters", "parametersJsonSchema", "responseSchema", "responseJsonSchema", "safetySettings"}
)


def _camel(name: str) -> str:
    return to_camel(name) if "_" in name else name


def camel_keys(value: Any) -> Any:
    """``value`` with every structural key in camelCase (a camelCase key wins over its snake_case twin)."""
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = _camel(key) if isinstance(key, str) else key
        if name in out and name != key:
            continue
        out[name] = item if name in OPAQUE else camel_keys(item)
    return out
