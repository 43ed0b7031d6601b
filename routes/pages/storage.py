"""The front page's line on stored responses: what is kept, where, how long, how to turn it off."""

from __future__ import annotations

from urllib.parse import urlsplit

from services.settings import Settings


def storage_text(settings: Settings, enabled: bool) -> str:
    if not enabled:
        return "Stored responses are off (PROXY_STORE_URL=off): send the whole conversation in every Responses request."
    url = settings.store_url.strip()
    if url.startswith("sqlite:///"):
        where = "in an SQLite file on this machine"
    else:
        where = f"in PostgreSQL ({urlsplit(url).hostname or settings.pghost or 'from PGHOST'})"
    return (
        f"Responses API answers (store: true, the default) and conversations are kept {where} for "
        f"{settings.store_ttl_days:g} days, visible only to whoever created them; store: false keeps nothing, "
        "PROXY_STORE_URL=off turns storing off."
    )
