"""The front doors, in one list: what the terminal banner (and anything else naming them) says.

A door added to the app is added here once, and every place that names the doors follows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DoorPrefix:
    dialect: str
    prefix: str  # after the app's address; every door also answers under /api (what Databricks Apps pass tokens to)
    clients: str


DOORS: tuple[DoorPrefix, ...] = (
    DoorPrefix("OpenAI", "/v1", "OpenAI SDKs, Codex CLI, Agents SDK"),
    DoorPrefix("Anthropic", "/anthropic", "Claude Code, Anthropic SDKs"),
    DoorPrefix("Gemini", "/gemini", "Gemini CLI, google-genai"),
)


def door_urls(base: str) -> str:
    """``OpenAI base URL http://x/v1, Anthropic base URL http://x/anthropic, ...``."""
    return ", ".join(f"{door.dialect} base URL {base}{door.prefix}" for door in DOORS)
