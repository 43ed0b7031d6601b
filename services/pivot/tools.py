"""Tool choices every door can express but Databricks cannot: narrowed to what it understands."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def allowed_tools_choice(
    tools: list[dict[str, Any]], allowed: Collection[str], mode: Any
) -> tuple[list[dict[str, Any]], str]:
    """An ``allowed_tools`` choice as Databricks takes it: only the allowed chat tools offered, and the mode
    (``auto`` or ``required``; anything else is ``auto``)."""
    narrowed = [tool for tool in tools if tool["function"]["name"] in allowed]
    return narrowed, mode if mode in ("auto", "required") else "auto"
