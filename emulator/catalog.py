"""Endpoint table of the Databricks emulator.

Normal endpoints mirror a workspace's current pay-per-token catalogue and are listed by the management API. Test
fixtures (retired names and odd shapes the tests need) and fault endpoints (``fault-*``, resolved from their name
on the fly, invocable but never listed) exist only with ``EMULATOR_FIXTURES=1``, which the test suites set, so the
model list and the playground a user sees hold only real names.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any, Literal, cast

Task = Literal["llm/v1/chat", "llm/v1/completions", "llm/v1/embeddings"]
Style = Literal["llama", "claude", "gpt-oss", "null-id", "embeddings", "completions", "custom"]
FaultKind = Literal[
    "status",
    "external-400",
    "delay",
    "cut",
    "hang",
    "hang-after",
    "garbage",
    "stream-error",
    "slow",
]

CHAT: Task = "llm/v1/chat"
COMPLETIONS: Task = "llm/v1/completions"
EMBEDDINGS: Task = "llm/v1/embeddings"

# Fixed creation time of every emulated endpoint (milliseconds, like Databricks).
CREATION_TIMESTAMP_MS = 1_718_236_800_000


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    arg: int = 0


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    task: Task | None
    served_model: str
    style: Style
    display_name: str = ""
    description: str = ""
    endpoint_type: str = "FOUNDATION_MODEL_API"
    fault: Fault | None = None


LLAMA_SERVED = "meta-llama-3.3-70b-instruct-121024"

_NORMAL: tuple[Endpoint, ...] = (
    Endpoint(
        name="databricks-meta-llama-3-3-70b-instruct",
        task=CHAT,
        served_model=LLAMA_SERVED,
        style="llama",
        display_name="Meta Llama 3.3 70B Instruct",
        description="Meta Llama 3.3 is a 70 billion parameter multilingual instruction-tuned model.",
    ),
    Endpoint(
        name="databricks-claude-3-7-sonnet",
        task=CHAT,
        served_model="us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        style="claude",
        display_name="Claude 3.7 Sonnet",
        description="Claude 3.7 Sonnet is a hybrid reasoning model with extended thinking.",
    ),
    Endpoint(
        name="databricks-claude-sonnet-4-5",
        task=CHAT,
        served_model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        style="claude",
        display_name="Claude Sonnet 4.5",
        description="Claude Sonnet 4.5 is a hybrid reasoning model for coding and agents, with extended thinking.",
    ),
    Endpoint(
        name="databricks-claude-opus-4-6",
        task=CHAT,
        served_model="us.anthropic.claude-opus-4-6-v1",
        style="claude",
        display_name="Claude Opus 4.6",
        description="Claude Opus 4.6 is Anthropic's most capable model, with adaptive thinking.",
    ),
    Endpoint(
        name="databricks-claude-haiku-4-5",
        task=CHAT,
        served_model="us.anthropic.claude-haiku-4-5-20251001-v1:0",
        style="claude",
        display_name="Claude Haiku 4.5",
        description="Claude Haiku 4.5 is a fast, low-cost model with extended thinking.",
    ),
    Endpoint(
        name="databricks-gpt-5-2",
        task=CHAT,
        served_model="gpt-5.2-2025-12-11",
        style="llama",
        display_name="GPT-5.2",
        description="GPT-5.2 is OpenAI's flagship reasoning model for coding and agentic tasks.",
    ),
    Endpoint(
        name="databricks-gpt-5-mini",
        task=CHAT,
        served_model="gpt-5-mini-2025-08-07",
        style="llama",
        display_name="GPT-5 mini",
        description="GPT-5 mini is a faster, lower-cost GPT-5 for well-defined tasks.",
    ),
    Endpoint(
        name="databricks-gemini-2-5-pro",
        task=CHAT,
        served_model="gemini-2.5-pro",
        style="llama",
        display_name="Gemini 2.5 Pro",
        description="Gemini 2.5 Pro is Google's thinking model for complex reasoning and coding.",
    ),
    Endpoint(
        name="databricks-gemini-2-5-flash",
        task=CHAT,
        served_model="gemini-2.5-flash",
        style="llama",
        display_name="Gemini 2.5 Flash",
        description="Gemini 2.5 Flash is Google's fast thinking model with a large context window.",
    ),
    Endpoint(
        name="databricks-gemini-3-pro",
        task=CHAT,
        served_model="gemini-3-pro-preview",
        style="llama",
        display_name="Gemini 3 Pro",
        description="Gemini 3 Pro is Google's most capable multimodal reasoning model.",
    ),
    Endpoint(
        name="databricks-gpt-oss-20b",
        task=CHAT,
        served_model="gpt-oss-20b-080525",
        style="gpt-oss",
        display_name="GPT OSS 20B",
        description="gpt-oss-20b is a small open-weight reasoning model.",
    ),
    Endpoint(
        name="databricks-qwen3-next-80b-a3b-instruct",
        task=CHAT,
        served_model="qwen3-next-80b-a3b-instruct",
        style="llama",
        display_name="Qwen3 Next 80B A3B Instruct",
        description="Qwen3-Next-80B-A3B-Instruct is an efficient instruction-tuned mixture-of-experts model.",
    ),
    Endpoint(
        name="databricks-gpt-oss-120b",
        task=CHAT,
        served_model="gpt-oss-120b-080525",
        style="gpt-oss",
        display_name="GPT OSS 120B",
        description="gpt-oss-120b is an open-weight reasoning model.",
    ),
    Endpoint(
        name="databricks-bge-large-en",
        task=EMBEDDINGS,
        served_model="bge-large-en-v1.5",
        style="embeddings",
        display_name="BGE Large (En)",
        description="BAAI General Embedding (BGE) is a text embedding model (1024 dimensions, 512 tokens).",
    ),
    Endpoint(
        name="databricks-gte-large-en",
        task=EMBEDDINGS,
        served_model="gte-large-en-v1.5",
        style="embeddings",
        display_name="GTE Large (En)",
        description="General Text Embedding (GTE) is a text embedding model (1024 dimensions, 8192 tokens).",
    ),
    Endpoint(
        name="databricks-mpt-7b-instruct",
        task=COMPLETIONS,
        served_model="mpt-7b-instruct",
        style="completions",
        display_name="MPT 7B Instruct",
        description="MPT-7B-Instruct is a model for short-form instruction following (legacy completions).",
    ),
    Endpoint(
        name="emulator-null-id-chat",
        task=CHAT,
        served_model="legacy-chat-model",
        style="null-id",
        display_name="Legacy chat model",
        description="Custom chat model with a legacy response shape (null id, float created).",
        endpoint_type="CUSTOM_MODEL",
    ),
    Endpoint(
        name="custom-sklearn-model",
        task=None,
        served_model="sklearn-model",
        style="custom",
        display_name="sklearn model",
        description="Classic ML model (not an LLM).",
        endpoint_type="CUSTOM_MODEL",
    ),
)

FIXTURE_NAMES = frozenset(
    {"databricks-claude-3-7-sonnet", "emulator-null-id-chat", "databricks-mpt-7b-instruct", "custom-sklearn-model"}
)
NORMAL_ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in _NORMAL}


def fixtures_enabled() -> bool:
    """Whether the test fixtures exist (read per call, so a test can switch them on after import)."""
    return os.environ.get("EMULATOR_FIXTURES", "").strip().lower() in {"1", "true", "yes", "on"}


_FAULT_RE = re.compile(
    r"fault-(?:(status)-(\d{3})|(external-400)|(delay)-(\d{1,7})|(cut)-(\d{1,5})|(hang-after)-(\d{1,5})"
    r"|(hang)|(garbage)|(stream-error)|(slow)-(\d{1,7}))"
)


@functools.lru_cache(maxsize=256)
def _fault_endpoint(name: str) -> Endpoint | None:
    m = _FAULT_RE.fullmatch(name)
    if m is None:
        return None
    groups = [g for g in m.groups() if g is not None]
    kind = groups[0]
    arg = int(groups[1]) if len(groups) > 1 else 0
    if kind == "status" and not 400 <= arg <= 599:
        return None
    fault = Fault(kind=cast(FaultKind, kind), arg=arg)
    return Endpoint(
        name=name,
        task=CHAT,
        served_model=LLAMA_SERVED,
        style="llama",
        display_name=name,
        endpoint_type="CUSTOM_MODEL",
        fault=fault,
    )


# A Claude endpoint that refuses prompt-cache breakpoints (one report says some Databricks Claude endpoints did).
REFUSES_CACHE_CONTROL = "fault-claude-refuses-cache-control"
_REFUSING = Endpoint(
    name=REFUSES_CACHE_CONTROL,
    task=CHAT,
    served_model="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    style="claude",
    display_name=REFUSES_CACHE_CONTROL,
    endpoint_type="CUSTOM_MODEL",
)


def lookup(name: str) -> Endpoint | None:
    """Return the endpoint (normal or fault) invocable under ``name``, or None."""
    endpoint = NORMAL_ENDPOINTS.get(name)
    if endpoint is not None and (name not in FIXTURE_NAMES or fixtures_enabled()):
        return endpoint
    if not fixtures_enabled():
        return None
    if name == REFUSES_CACHE_CONTROL:
        return _REFUSING
    if name.startswith("fault-"):
        return _fault_endpoint(name)
    return None


def endpoint_id(name: str) -> str:
    """Stable 32-hex id of an endpoint."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def describe(endpoint: Endpoint) -> dict[str, Any]:
    """The management-API (``GET /api/2.0/serving-endpoints``) view of a normal endpoint."""
    is_system = endpoint.name.startswith("databricks-")
    if endpoint.endpoint_type == "FOUNDATION_MODEL_API":
        entity_name = f"system.ai.{endpoint.name}"
        served: dict[str, Any] = {
            "name": endpoint.name,
            "entity_name": entity_name,
            "entity_version": "1",
            "foundation_model": {
                "name": entity_name,
                "display_name": endpoint.display_name,
                "description": endpoint.description,
                "docs": "https://docs.databricks.com/machine-learning/foundation-models/supported-models.html",
            },
        }
    else:
        served = {
            "name": f"{endpoint.served_model}-1",
            "entity_name": f"main.default.{endpoint.served_model.replace('-', '_')}",
            "entity_version": "1",
            "workload_size": "Small",
            "scale_to_zero_enabled": True,
        }
    out: dict[str, Any] = {"name": endpoint.name, "id": endpoint_id(endpoint.name)}
    if endpoint.task is not None:
        out["task"] = endpoint.task
    out["state"] = {"ready": "READY", "config_update": "NOT_UPDATING"}
    out["config"] = {"served_entities": [served], "config_version": 1}
    out["creator"] = "system@databricks.com" if is_system else "data.scientist@example.com"
    out["creation_timestamp"] = CREATION_TIMESTAMP_MS
    out["last_updated_timestamp"] = CREATION_TIMESTAMP_MS
    out["endpoint_type"] = endpoint.endpoint_type
    out["tags"] = []
    return out


def listed_endpoints() -> list[Endpoint]:
    fixtures = fixtures_enabled()
    return [e for e in _NORMAL if fixtures or e.name not in FIXTURE_NAMES]


Provider = Literal["anthropic", "openai", "google"]
_UC_PREFIX = "system.ai."


def provider_of(endpoint: Endpoint) -> Provider | None:
    """Whose own API serves the endpoint natively: Anthropic for Claude, OpenAI for GPT (not GPT-OSS), Google for
    Gemini; None for every other model."""
    if endpoint.style == "claude":
        return "anthropic"
    if endpoint.name.startswith("databricks-gpt-") and not endpoint.name.startswith("databricks-gpt-oss"):
        return "openai"
    if endpoint.name.startswith("databricks-gemini-"):
        return "google"
    return None


def lookup_model(name: str) -> Endpoint | None:
    """An endpoint by the name a Unity Gateway request gives: the endpoint's own, or its Unity Catalog name
    (``system.ai.claude-sonnet-4-5`` is ``databricks-claude-sonnet-4-5``)."""
    if name.startswith(_UC_PREFIX):
        return lookup("databricks-" + name.removeprefix(_UC_PREFIX))
    return lookup(name)
