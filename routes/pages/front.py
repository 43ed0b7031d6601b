"""The front page at ``/``: what the app is, its base URLs, the caller's models, set-up snippets, a playground.

Rendered on the server from ``templates/index.html`` (``string.Template``; every value escaped here), with
``static/page.js`` for the copy buttons, the tabs and the playground. Nothing on it comes from outside the app.
"""

from __future__ import annotations

import asyncio
from html import escape
from pathlib import Path
from string import Template
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from routes.deps import services_of, upstream_authorization
from routes.lean import LeanRoute, needs
from routes.pages.context import app_url, behind_apps_gateway, gateway_identity
from routes.pages.headers import PAGE_HEADERS
from routes.pages.snippets import (
    DEFAULT_CHAT_MODEL,
    DEFAULT_CLAUDE_MODEL,
    WORKSPACE_PLACEHOLDER,
    Auth,
    Door,
    Snippet,
    doors,
    plain_name,
    snippets,
)
from routes.pages.storage import storage_text
from routes.pages.surfaces import surfaces_text
from services.container import Services
from services.databricks.catalog import CHAT_TASK, COMPLETIONS_TASK, EMBEDDINGS_TASK
from services.errors import ProxyError
from services.settings import Settings

router = APIRouter(include_in_schema=False, route_class=LeanRoute)

_TEMPLATE = Template((Path(__file__).parent / "templates" / "index.html").read_text())
_MODELS_SECONDS = 5.0
_TASK_LABELS = {CHAT_TASK: "chat", COMPLETIONS_TASK: "completions", EMBEDDINGS_TASK: "embeddings"}


def _copy_button(text: str, label: str) -> str:
    return (
        f'<button type="button" class="copy" data-copy-text="{escape(text)}" aria-label="{escape(label)}">Copy</button>'
    )


def _door_rows(entries: list[Door]) -> str:
    return "".join(
        f'<tr><th scope="row">{escape(d.name)}</th>'
        f'<td><code class="url">{escape(d.base_url)}</code> '
        f"{_copy_button(d.base_url, f'Copy the base URL for {d.name}')}</td>"
        f"<td>{escape(d.routes)}</td></tr>"
        for d in entries
    )


def group_models(models: list[dict[str, Any]], aliases: dict[str, str]) -> list[tuple[str, str | None, list[str]]]:
    """(endpoint, task, its aliases) for each endpoint listed, in the catalogue's order."""
    listed = {str(m["id"]): m for m in models}
    rows: list[tuple[str, str | None, list[str]]] = []
    for model_id, model in listed.items():
        if model_id in aliases and aliases[model_id] in listed:
            continue  # an alias: shown beside its endpoint
        names = sorted(alias for alias, target in aliases.items() if target == model_id and alias in listed)
        task = model.get("task")
        rows.append((model_id, task if isinstance(task, str) else None, names))
    return rows


def _model_rows(rows: list[tuple[str, str | None, list[str]]]) -> str:
    cells = []
    for name, task, names in rows:
        alias_text = ", ".join(f"<code>{escape(a)}</code>" for a in names) or '<span class="muted">none</span>'
        task_text = escape(_TASK_LABELS.get(task, task)) if task else '<span class="muted">unknown</span>'
        cells.append(
            f'<tr><th scope="row"><code>{escape(name)}</code> {_copy_button(name, f"Copy the model name {name}")}</th>'
            f"<td>{task_text}</td><td>{alias_text}</td></tr>"
        )
    return "".join(cells)


def _panels(entries: list[Snippet]) -> tuple[str, str]:
    tabs = []
    panels = []
    for index, s in enumerate(entries):
        selected = "true" if index == 0 else "false"
        tabs.append(
            f'<button type="button" role="tab" id="tab-{s.key}" aria-controls="panel-{s.key}" '
            f'aria-selected="{selected}" tabindex="{0 if index == 0 else -1}">{escape(s.title)}</button>'
        )
        panels.append(
            f'<section class="panel" id="panel-{s.key}" aria-labelledby="title-{s.key}">'
            f'<h3 id="title-{s.key}">{escape(s.title)}</h3><p class="hint">{escape(s.note)}</p>'
            f'<div class="code">{_copy_button(s.code, f"Copy the {s.title} snippet")}'
            f'<pre><code id="code-{s.key}" class="language-{s.language}">{escape(s.code)}</code></pre></div></section>'
        )
    return "".join(tabs), "\n".join(panels)


async def _visible_models(request: Request, services: Services) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The caller's models, or None and why not (upstream error or time-out)."""
    try:
        authorization = upstream_authorization(request, services)
        models = await asyncio.wait_for(services.catalog.models(authorization), _MODELS_SECONDS)
    except ProxyError as exc:
        return None, exc.message
    except TimeoutError:
        return None, f"Databricks did not list the serving endpoints within {_MODELS_SECONDS:g} s."
    return models, None


def _upstream_text(services: Services, error: str | None) -> tuple[str, str]:
    if services.upstream == "emulator":
        where = "Upstream: the built-in Databricks emulator (canned echo answers, not a model)"
    else:
        where = "Upstream: Databricks Model Serving"
    if error is None:
        return f"{where}, ready.", "state ok"
    return f"{where}, not answering: {error}", "state bad"


def snippet_auth(settings: Settings) -> Auth:
    """How a caller reaches this app: a Databricks OAuth token behind Apps, else its API key, else nothing."""
    if behind_apps_gateway(settings):
        return "oauth"
    return "key" if settings.api_keys else "none"


@router.get("/")
@needs(key=False, label="page")
async def front_page(request: Request) -> Response:
    services = services_of(request)
    settings = services.settings
    url = app_url(request, settings)
    needs_key = bool(settings.api_keys)
    if needs_key:
        # The API is behind keys; the page is not, so it lists nothing until the visitor gives one.
        models: list[dict[str, Any]] = []
        error = None
        models_note = "This proxy requires an API key: enter one in the playground to list your models."
    else:
        listed, error = await _visible_models(request, services)
        models = listed or []
        models_note = (
            "Live from the serving-endpoints list: the endpoints you can query through this app, right now."
            if error is None
            else f"The model list is not available right now: {error}"
        )
    rows = group_models(models, dict(services.catalog.aliases))
    chat_names = [name for name, task, _ in rows if task in (CHAT_TASK, None)]
    chat_model = plain_name(chat_names[0] if chat_names else None, DEFAULT_CHAT_MODEL)
    # Claude Code works with any chat model through the Anthropic door; a Claude model suits it best.
    claude = next((n for n in chat_names if "claude" in n), chat_names[0] if chat_names else None)
    claude_model = plain_name(claude, DEFAULT_CLAUDE_MODEL)
    workspace = WORKSPACE_PLACEHOLDER
    if services.upstream == "databricks" and behind_apps_gateway(settings):
        workspace = plain_name(services.credentials.host, WORKSPACE_PLACEHOLDER)
    tabs, panels = _panels(snippets(url, workspace, chat_model, claude_model, snippet_auth(settings)))
    who = gateway_identity(request, settings)
    if who is not None:
        identity = f"Signed in as <strong>{escape(who)}</strong>."
    elif behind_apps_gateway(settings):
        identity = "The Databricks Apps gateway did not name you."
    else:
        identity = "Not behind the Databricks Apps gateway: callers are not named here."
    upstream, upstream_class = _upstream_text(services, error)
    if behind_apps_gateway(settings):
        auth_hint = (
            "Databricks Apps accept bearer tokens only under /api/, and only Databricks OAuth tokens "
            "(they last about an hour): the snippets below refresh theirs."
        )
    elif needs_key:
        auth_hint = "Send one of this proxy's API keys as Authorization: Bearer <key>. /v1 works as well as /api/v1."
    else:
        auth_hint = "This proxy asks no API key, so any token works. /v1 works as well as /api/v1."
    page = _TEMPLATE.substitute(
        title=escape(request.app.title),
        service=escape(settings.service_name),
        needs_key="true" if needs_key else "false",
        identity=identity,
        upstream=escape(upstream),
        upstream_class=upstream_class,
        storage=escape(storage_text(settings, services.store is not None)),
        surfaces=escape(surfaces_text(services.surfaces)),
        door_rows=_door_rows(doors(url)),
        auth_hint=escape(auth_hint),
        models_note=escape(models_note),
        model_rows=_model_rows(rows),
        tabs=tabs,
        panels=panels,
        chat_options="".join(f'<option value="{escape(n)}">{escape(n)}</option>' for n in chat_names),
        key_hidden="" if needs_key else " hidden",
    )
    return HTMLResponse(page, headers=PAGE_HEADERS)
