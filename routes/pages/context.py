"""What a page knows about its visitor: the app's own URL as the visitor reached it, and who they are.

Headers that name a host are believed only from the Databricks Apps gateway, which sets them itself on every
request; anywhere else a client could send them, so the page falls back to the ``Host`` the client used. Who
the visitor is comes from ``routes.identity`` (the one trust boundary for the gateway's identity headers).
"""

from __future__ import annotations

import re

from starlette.requests import Request

from routes.identity import caller_of
from services.settings import Settings

_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def behind_apps_gateway(settings: Settings) -> bool:
    """The Databricks Apps runtime names the app and its port in the environment of the process it starts."""
    return settings.behind_apps_gateway


def app_url(request: Request, settings: Settings) -> str:
    """``scheme://host[:port]`` of this app as the visitor reached it (no trailing slash)."""
    headers = request.headers
    if behind_apps_gateway(settings):
        host = headers.get("x-forwarded-host", "").split(",")[0].strip()
        if _HOST.fullmatch(host):
            proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip().lower()
            return f"{'http' if proto == 'http' else 'https'}://{host}"
    host = headers.get("host", "")
    if not _HOST.fullmatch(host):
        host = request.url.netloc if _HOST.fullmatch(request.url.netloc) else "127.0.0.1"
    scheme = "https" if request.url.scheme == "https" else "http"
    return f"{scheme}://{host}"


def gateway_identity(request: Request, settings: Settings) -> str | None:
    """The signed-in person as a trusted gateway names them (e-mail first), or None."""
    return caller_of(request) if settings.forwarded_identity_trusted else None
