"""Pages for people: the front page, the API documentation, and the files they load (all from this app)."""

from __future__ import annotations

from routes.pages import assets, docs, front

ROUTERS = (front.router, docs.router, assets.router)
