"""The front page's line on upstream surfaces: Unity Gateway and the providers' own APIs."""

from __future__ import annotations

from services.databricks.surfaces import Surfaces

_DOOR_NAMES = {"anthropic": "Anthropic Messages", "responses": "Responses", "gemini": "Gemini API"}


def surfaces_text(surfaces: Surfaces) -> str:
    described = surfaces.describe()
    native = [
        f"{_DOOR_NAMES.get(door, door)} ({state.removeprefix('native for ')})"
        for door, state in described["native"].items()
        if state.startswith("native for")
    ]
    sent = (
        "Sent natively, as the client wrote it: " + ", ".join(native) + "; every other pair is translated through chat."
        if native
        else "Every call is translated through chat invocations."
    )
    return f"Unity Gateway: {described['unity_gateway']}. {sent}"
