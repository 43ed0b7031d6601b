"""Who is calling: the trust boundary for the identity headers of the Databricks Apps gateway.

The Databricks Apps gateway authenticates every caller, removes whatever a client sent in
``X-Forwarded-Email``, ``X-Forwarded-Preferred-Username``, ``X-Forwarded-User`` and
``X-Forwarded-Access-Token``, and sets them itself. Anywhere else any client can send them. So they
are believed only behind that gateway (the platform says so in the environment: Databricks Apps set
``DATABRICKS_APP_NAME`` and ``DATABRICKS_APP_PORT``), or where ``PROXY_TRUST_FORWARDED_IDENTITY``
says another gateway strips and sets them the same way. Otherwise they are ignored: not used as the
caller, not logged, not forwarded. With API keys the key's label is the caller (``routes/middleware.py``).

Values that go into logs and upstream bodies are bounded; a forwarded token that is not a plain
token (visible ASCII) is refused with 400 rather than failing on its way upstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request

from services.errors import InvalidRequestError

IDENTITY_HEADERS = (b"x-forwarded-email", b"x-forwarded-preferred-username", b"x-forwarded-user")
TOKEN_HEADER = b"x-forwarded-access-token"
MAX_CALLER_CHARS = 256
MAX_TOKEN_BYTES = 16 * 1024
_TOKEN = re.compile(rb"[!-~]{1,%d}" % MAX_TOKEN_BYTES)


@dataclass(frozen=True, slots=True)
class ForwardedIdentity:
    caller: str | None
    user_token: str | None  # the caller's own Databricks token, for acting as the caller


def forwarded_identity(values: dict[bytes, bytes]) -> ForwardedIdentity:
    """The gateway's identity headers (lower-case name -> raw value), checked and bounded."""
    caller = None
    for name in IDENTITY_HEADERS:
        value = values.get(name)
        if value:
            caller = value.decode("utf-8", "replace").strip()[:MAX_CALLER_CHARS] or None
            break
    token = values.get(TOKEN_HEADER)
    if token is not None and not _TOKEN.fullmatch(token):
        raise InvalidRequestError(
            "The X-Forwarded-Access-Token header is not a valid token: "
            f"expected 1 to {MAX_TOKEN_BYTES} visible ASCII characters.",
            code="invalid_forwarded_token",
        )
    return ForwardedIdentity(caller, token.decode("ascii") if token else None)


def caller_of(request: Request) -> str | None:
    """Who is calling, as the proxy logs and attributes it: the gateway's user, or the API key's label."""
    record = request.scope.get("state", {}).get("call")
    return getattr(record, "caller", None)


def user_token_of(request: Request) -> str | None:
    """The caller's own Databricks token, when a trusted gateway forwarded one."""
    token: str | None = request.scope.get("state", {}).get("user_token")
    return token
