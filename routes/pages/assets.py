"""``/static/...``: the few files the pages load, from a fixed list (no path from the URL reaches the disk).

Swagger UI and ReDoc are the static files of the ``fastapi-offline`` package (nothing else of it is used).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from starlette.responses import Response

from routes.lean import LeanRoute, needs
from services.errors import NotFoundError

FAVICON_URL = "/static/favicon.svg"
_OWN = Path(__file__).parent / "static"
_DOCS = Path(fastapi_offline.__file__).parent / "static"
# ReDoc's sidebar always shows its maker's logo, loaded from the maker's CDN; this app's icon stands in.
_REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
ASSETS: dict[str, tuple[Path, str]] = {
    "page.css": (_OWN / "page.css", _CSS),
    "page.js": (_OWN / "page.js", _JS),
    "favicon.svg": (_OWN / "favicon.svg", "image/svg+xml"),
    "docs-dark.css": (_OWN / "docs-dark.css", _CSS),
    "swagger-init.js": (_OWN / "swagger-init.js", _JS),
    "docs/swagger-ui.css": (_DOCS / "swagger-ui.css", _CSS),
    "docs/swagger-ui-bundle.js": (_DOCS / "swagger-ui-bundle.js", _JS),
    "docs/redoc.standalone.js": (_DOCS / "redoc.standalone.js", _JS),
}

router = APIRouter(include_in_schema=False, route_class=LeanRoute)


@cache
def _content(name: str) -> bytes:
    data = ASSETS[name][0].read_bytes()
    return data.replace(_REDOC_LOGO, FAVICON_URL.encode()) if name == "docs/redoc.standalone.js" else data


@router.get("/static/{name:path}")
@needs(key=False, label="page")
async def asset(request: Request, name: str) -> Response:
    if name not in ASSETS:
        raise NotFoundError(f"No such file: /static/{name}", code="unknown_route")
    return Response(
        _content(name),
        media_type=ASSETS[name][1],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
