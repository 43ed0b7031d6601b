"""Native calls: a door's request sent to its model's own API as Databricks serves it, the answer relayed as
received. Only the error envelope is the door's, and the usage is read for the log and metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.databricks.surfaces import NativeSurface
from services.native.scan import SseScan

Usage = dict[str, Any]


@dataclass(slots=True)
class NativeRequest:
    """What a door sends natively: the body as the client sent it (``model`` set to the endpoint), the provider
    headers that matter, how to read the usage of a whole answer and of a stream."""

    surface: NativeSurface
    body: dict[str, Any]
    stream: bool
    usage_of: Callable[[dict[str, Any]], Usage | None]
    scan: Callable[[], SseScan]
    headers: dict[str, str] = field(default_factory=dict)
    method: str = ""  # Gemini's ``generateContent`` / ``streamGenerateContent``
    query: str = ""  # e.g. ``?alt=sse``


@dataclass(slots=True)
class NativeAnswer:
    raw: bytes  # as Databricks sent it
    data: dict[str, Any]


__all__ = ["NativeAnswer", "NativeRequest", "SseScan", "Usage"]
