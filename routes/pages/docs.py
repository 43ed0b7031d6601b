"""``/docs`` (Swagger UI) and ``/redoc`` from files served by this app, so they render where no CDN is reachable."""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from routes.lean import LeanRoute, needs
from routes.pages.assets import FAVICON_URL
from routes.pages.headers import DOCS_HEADERS

DOCS_STATIC_URL = "/static/docs"
_TEMPLATES = Path(__file__).parent / "templates"
_SWAGGER = Template((_TEMPLATES / "swagger.html").read_text())
_REDOC = Template((_TEMPLATES / "redoc.html").read_text())

router = APIRouter(include_in_schema=False, route_class=LeanRoute)


@router.get("/docs")
@needs(key=False, label="page")
async def swagger_ui(request: Request) -> HTMLResponse:
    return HTMLResponse(
        _SWAGGER.substitute(
            title=escape(f"{request.app.title} - Swagger UI"),
            favicon=FAVICON_URL,
            css=f"{DOCS_STATIC_URL}/swagger-ui.css",
            js=f"{DOCS_STATIC_URL}/swagger-ui-bundle.js",
            openapi_url=escape(request.app.openapi_url),
        ),
        headers=DOCS_HEADERS,
    )


@router.get("/redoc")
@needs(key=False, label="page")
async def redoc(request: Request) -> HTMLResponse:
    return HTMLResponse(
        _REDOC.substitute(
            title=escape(f"{request.app.title} - ReDoc"),
            favicon=FAVICON_URL,
            js=f"{DOCS_STATIC_URL}/redoc.standalone.js",
            openapi_url=escape(request.app.openapi_url),
        ),
        headers=DOCS_HEADERS,
    )
