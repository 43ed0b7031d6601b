"""Which upstream surface serves a call, decided from the resolved model and what the workspace answered.

Two choices, each remembered for ``PROXY_SURFACE_MEMORY_SECONDS`` once Databricks has answered:

- **Unity Gateway or serving endpoints.** Workspaces with Unity Gateway serve every API under ``/ai-gateway/...``,
  where Databricks applies budgets, per-user rate limits, guardrails and usage tables (docs.databricks.com/aws/en/
  unity-gateway/concepts; learn.microsoft.com/azure/databricks/ai-gateway/query-model-services). ``auto`` uses it
  until it answers that the path does not exist (404 ``ENDPOINT_NOT_FOUND``, what Databricks answers for a path it
  does not serve; a missing model is ``RESOURCE_DOES_NOT_EXIST``/``NOT_FOUND`` and changes nothing). ``on`` and
  ``off`` force one. The gateway takes the legacy endpoint names ("for backward compatibility",
  docs.databricks.com/gcp/en/generative-ai/foundation-models/query-foundation-models).
- **Native or the chat pivot.** Where a door speaks its model's own API and Databricks serves it (Anthropic
  Messages for Claude, OpenAI Responses for GPT, Gemini for Gemini), the request goes there as sent. An endpoint
  the native surface does not serve answers 404, or 400 "... passthrough is not supported" (seen for a Claude
  model on the Responses surface); the pair is then translated, and that is remembered.

A 403 or 429 from the gateway (a budget, a limit, a guardrail) is never a reason to go around it.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.databricks.families import Family, Kind
from services.errors import ProxyError
from services.settings import Settings

ANTHROPIC_DOOR = "anthropic"
RESPONSES_DOOR = "responses"
GEMINI_DOOR = "gemini"

GATEWAY_CHAT = "/ai-gateway/mlflow/v1/chat/completions"
GATEWAY_EMBEDDINGS = "/ai-gateway/mlflow/v1/embeddings"

_MISSING_ROUTE_CODE = "ENDPOINT_NOT_FOUND"
# "Responses API passthrough is not supported", "... is not supported for endpoint ..."
_NOT_SERVED = re.compile(
    r"passthrough|api (?:is )?not supported|not supported (?:for|on|by) (?:this |the )?(?:endpoint|model)"
    r"|not (?:served|available) (?:on|via|through|by)",
    re.IGNORECASE,
)
_MEMORY_LIMIT = 4096
BETA_HEADER = "anthropic-beta"
_ABOUT_BETAS = re.compile(r"beta", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NativeSurface:
    """A provider's own API as Databricks serves it; ``{endpoint}`` and ``{method}`` fill Gemini's paths."""

    door: str
    kind: Kind
    serving: str
    gateway: str

    def path(self, gateway: bool, endpoint: str, method: str = "") -> str:
        template = self.gateway if gateway else self.serving
        return template.format(endpoint=endpoint, method=method)


NATIVE: dict[str, NativeSurface] = {
    ANTHROPIC_DOOR: NativeSurface(
        ANTHROPIC_DOOR, Kind.CLAUDE, "/serving-endpoints/anthropic/v1/messages", "/ai-gateway/anthropic/v1/messages"
    ),
    RESPONSES_DOOR: NativeSurface(
        RESPONSES_DOOR, Kind.GPT, "/serving-endpoints/responses", "/ai-gateway/codex/v1/responses"
    ),
    GEMINI_DOOR: NativeSurface(
        GEMINI_DOOR,
        Kind.GEMINI,
        "/serving-endpoints/gemini/v1beta/models/{endpoint}:{method}",
        "/ai-gateway/gemini/v1beta/models/{endpoint}:{method}",
    ),
}


def _with_betas(headers: dict[str, str], flags: list[str]) -> dict[str, str]:
    out = {name: value for name, value in headers.items() if name != BETA_HEADER}
    if flags:
        out[BETA_HEADER] = ",".join(flags)
    return out


def route_missing(error: ProxyError) -> bool:
    """Databricks does not serve the path at all (as opposed to: it does not know the model)."""
    return error.status == 404 and error.code == _MISSING_ROUTE_CODE


def out_of_scope(error: ProxyError) -> bool:
    """A 403 because the caller's token lacks the gateway's OAuth scope: the path is out of its reach, not governed."""
    return error.status == 403 and "scope" in error.message.lower()


def not_served_natively(error: ProxyError) -> bool:
    """The native surface does not serve this endpoint: nothing was generated, translation can serve it."""
    return error.status == 404 or (error.status == 400 and bool(_NOT_SERVED.search(error.message)))


class Memory:
    """Keys remembered for ``seconds`` (what the workspace answered), at most ``_MEMORY_LIMIT`` of them."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self.clock = clock
        self._until: OrderedDict[str, float] = OrderedDict()

    def add(self, key: str) -> None:
        self._until[key] = self.clock() + self.seconds
        self._until.move_to_end(key)
        while len(self._until) > _MEMORY_LIMIT:
            self._until.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        until = self._until.get(key)
        if until is None:
            return False
        if until <= self.clock():
            del self._until[key]
            return False
        return True

    def discard(self, key: str) -> None:
        self._until.pop(key, None)


class Surfaces:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.mode = settings.unity_gateway
        self.native_enabled = settings.native_surfaces
        self.skipped = Memory(settings.surface_memory_seconds, clock)
        self.gateway_seen = False  # a gateway path answered (anything but "no such path")

    # ----------------------------------------------------------------------------------------- Unity Gateway

    def gateway_for(self, endpoint: str) -> bool:
        if self.mode == "off":
            return False
        if self.mode == "on":
            return True
        return "gateway" not in self.skipped and f"gateway:{endpoint}" not in self.skipped

    def may_bypass(self) -> bool:
        """Whether a gateway 404 may be retried on the serving-endpoint paths (never when the gateway is forced)."""
        return self.mode == "auto"

    def gateway_answered(self) -> None:
        self.gateway_seen = True

    def gateway_missing(self, endpoint: str, error: ProxyError) -> None:
        """The gateway answered 404 or refused the token's scopes: without the path (or the scope) the whole gateway
        is out of reach, else only this endpoint."""
        whole = route_missing(error) or out_of_scope(error)
        self.skipped.add("gateway" if whole else f"gateway:{endpoint}")

    # ----------------------------------------------------------------------------------------- native

    def native_for(self, door: str, family: Family, endpoint: str) -> NativeSurface | None:
        surface = NATIVE.get(door)
        if surface is None or not self.native_enabled or family.kind is not surface.kind:
            return None
        if f"native:{door}" in self.skipped or f"native:{door}:{endpoint}" in self.skipped:
            return None
        return surface

    def native_refused(self, door: str, endpoint: str, error: ProxyError) -> None:
        self.skipped.add(f"native:{door}" if route_missing(error) else f"native:{door}:{endpoint}")

    # ----------------------------------------------------------------------------------------- beta flags

    def without_refused_betas(self, endpoint: str, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` without the ``anthropic-beta`` flags this endpoint refused lately."""
        value = headers.get(BETA_HEADER)
        if not value:
            return headers
        flags = [flag.strip() for flag in value.split(",") if flag.strip()]
        kept = [flag for flag in flags if f"beta:{endpoint}:{flag}" not in self.skipped]
        return headers if len(kept) == len(flags) else _with_betas(headers, kept)

    def betas_refused(self, endpoint: str, headers: dict[str, str], error: ProxyError) -> dict[str, str] | None:
        """After a 400 about beta flags (nothing was generated), the headers to send the request again with: without
        the flags the message names (all of them when it names none), which are remembered; None for another error.

        Databricks' gateway guidance for Claude Code is to turn its experimental betas off; the proxy does that only
        for the flags an endpoint refuses, so a client need not know which ones they are."""
        value = headers.get(BETA_HEADER)
        if not value or error.status != 400 or not _ABOUT_BETAS.search(error.message):
            return None
        flags = [flag.strip() for flag in value.split(",") if flag.strip()]
        named = [flag for flag in flags if flag in error.message] or flags
        for flag in named:
            self.skipped.add(f"beta:{endpoint}:{flag}")
        return _with_betas(headers, [flag for flag in flags if flag not in named])

    # ----------------------------------------------------------------------------------------- reporting

    def describe(self) -> dict[str, Any]:
        """For ``/health`` and the front page: what is in use as far as the workspace has answered."""
        if self.mode != "auto":
            gateway = "on (forced)" if self.mode == "on" else "off (PROXY_UNITY_GATEWAY=off)"
        elif "gateway" in self.skipped:
            gateway = "absent: this workspace does not serve /ai-gateway (serving-endpoint paths in use)"
        else:
            gateway = "in use" if self.gateway_seen else "auto (tried on the first call)"
        native = {
            door: (
                "off (PROXY_NATIVE_SURFACES=false)"
                if not self.native_enabled
                else "absent in this workspace (translated)"
                if f"native:{door}" in self.skipped
                else f"native for {surface.kind.value} models"
            )
            for door, surface in NATIVE.items()
        }
        return {"unity_gateway": gateway, "native": native}


def with_fields(content: bytes, first: bytes = b"", last: bytes = b"") -> bytes:
    """A serialised JSON object with serialised members (``"key":value,...``) added before and after its own,
    without parsing it again: ``model`` first for the unified and native APIs, attribution last for invocations."""
    inner = content.strip()[1:-1].strip()
    members = [part for part in (first, inner, last) if part]
    return b"{" + b",".join(members) + b"}"


def model_field(endpoint: str) -> bytes:
    """``"model":"<endpoint>"``; endpoint names are checked (letters, digits, '-', '_') before they get here."""
    return b'"model":"' + endpoint.encode() + b'"'
