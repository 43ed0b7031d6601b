"""Response headers every page carries: what it may load, and that no other site may frame it."""

from __future__ import annotations

# No page may be framed: the front page's playground calls the API with a key, so a framing site could
# click-jack it. frame-ancestors for current browsers, X-Frame-Options for older ones.
_NO_FRAMING = {"X-Frame-Options": "DENY"}
_COMMON = "base-uri 'none'; form-action 'self'; object-src 'none'; frame-ancestors 'none'"

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " + _COMMON
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    **_NO_FRAMING,
}

# Swagger UI and ReDoc are served by this app (routes/pages/assets.py), so 'self' is all they load from. Both
# set style attributes from script (ReDoc through styled-components) and draw icons as data: URIs; ReDoc runs
# its search in a blob: worker.
DOCS_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; font-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; worker-src 'self' blob:; " + _COMMON
    ),
}
