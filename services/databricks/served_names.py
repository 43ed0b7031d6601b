"""The served model name an answer reports (``us.anthropic.claude-sonnet-4-5-20250929-v1:0``) is not an endpoint
name; a client that copies it back into ``model`` is told which endpoint name it probably meant."""

from __future__ import annotations

import re

_PROVIDER = re.compile(r"^(?:[a-z]{2}\.)?(?:anthropic|openai|google|meta|amazon|mistral)\.")
_VERSION_TAIL = re.compile(r"(?:-v\d+(?::\d+)?|-\d{6,8})+$")
_SERVED = re.compile(r"[a-z0-9.:-]{3,120}")


def endpoint_for_served_name(name: str) -> str | None:
    """``databricks-claude-sonnet-4-5`` for ``us.anthropic.claude-sonnet-4-5-20250929-v1:0``; None for a name that
    does not look like a served model name (only those carry ``.`` or ``:``)."""
    lowered = name.lower()
    if not _SERVED.fullmatch(lowered) or not ("." in lowered or ":" in lowered):
        return None
    core = _VERSION_TAIL.sub("", _PROVIDER.sub("", lowered))
    core = re.sub(r"[^a-z0-9]+", "-", core).strip("-")
    return f"databricks-{core}" if core else None
