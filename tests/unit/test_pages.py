"""The front page, /docs and /redoc, in-process with Databricks mocked (the browser test runs them for real)."""

from __future__ import annotations

import json
import re
import tomllib
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
import respx

from routes.pages.snippets import WORKSPACE_PLACEHOLDER, snippets
from tests.unit.test_app import proxy as app_proxy

HOST = "https://dbc-unit.cloud.databricks.com"

LLAMA = "databricks-meta-llama-3-3-70b-instruct"
CLAUDE = "databricks-claude-sonnet-4-5"
ENDPOINTS = {
    "endpoints": [
        {"name": LLAMA, "task": "llm/v1/chat"},
        {"name": CLAUDE, "task": "llm/v1/chat"},
        {"name": "databricks-bge-large-en", "task": "llm/v1/embeddings"},
    ]
}
# Any absolute URL in a page's markup (the test then allows only the app's own).
_URL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']?(https?:)?//""", re.IGNORECASE)


def proxy(**settings: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The app in-process, addressed by a host name and port the pages put into their URLs."""
    return app_proxy(base_url="http://proxy.test:8000", **settings)


@pytest.mark.anyio
@respx.mock
async def test_front_page_lists_the_callers_models_with_aliases_and_fills_in_the_url() -> None:
    listing = respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json=ENDPOINTS))
    # Behind the Databricks Apps gateway, whose X-Forwarded-Access-Token is the visitor's own token.
    behind_apps = {"databricks_app_name": "openai-proxy", "databricks_app_port": 8000}
    async with proxy(model_aliases={"gpt-4o-mini": LLAMA}, **behind_apps) as client:
        page = await client.get("/", headers={"X-Forwarded-Access-Token": "user-tok"})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert listing.calls.last.request.headers["authorization"] == "Bearer user-tok"  # the caller's own models
    row = re.search(rf"<tr><th scope=\"row\"><code>{LLAMA}</code>.*?</tr>", html)
    assert row is not None and "<code>gpt-4o-mini</code>" in row.group(0)
    assert '<code class="url">http://proxy.test:8000/api/v1</code>' in html
    assert '<code class="url">http://proxy.test:8000/api/anthropic</code>' in html
    assert f'<option value="{LLAMA}">' in html and f'<option value="{CLAUDE}">' in html
    assert '<option value="databricks-bge-large-en">' not in html  # the playground offers chat models only
    assert "Upstream: Databricks Model Serving, ready." in html
    assert 'id="key-field" hidden' in html
    assert "The Databricks Apps gateway did not name you." in html
    assert not _URL.search(html)


@pytest.mark.anyio
@respx.mock
async def test_front_page_escapes_what_it_shows_and_says_when_databricks_fails() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(
            200, json={"endpoints": [{"name": "<img src=x onerror=alert(1)>", "task": "llm/v1/chat"}]}
        )
    )
    async with proxy() as client:
        page = await client.get("/", headers={"Host": 'evil"><script>alert(1)</script>'})
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert '<code class="url">http://proxy.test:8000/api/v1</code>' in page.text  # the bad Host is not reflected

    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(
        return_value=httpx.Response(503, json={"error_code": "TEMPORARILY_UNAVAILABLE", "message": "down"})
    )
    async with proxy() as client:
        page = await client.get("/")
    assert page.status_code == 200
    assert "Upstream: Databricks Model Serving, not answering: down" in page.text
    assert "The model list is not available right now: down" in page.text


@pytest.mark.anyio
@respx.mock
async def test_gateway_headers_count_only_behind_databricks_apps() -> None:
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json=ENDPOINTS))
    headers = {"X-Forwarded-Host": "proxy-123.aws.databricksapps.com", "X-Forwarded-Email": "ada@example.com"}
    async with proxy() as client:
        outside = (await client.get("/", headers=headers)).text
    async with proxy(databricks_app_name="openai-proxy", databricks_app_port=8000) as client:
        inside = (await client.get("/", headers=headers)).text
    assert "ada@example.com" not in outside and "databricksapps.com" not in outside
    assert "Signed in as <strong>ada@example.com</strong>." in inside
    assert '<code class="url">https://proxy-123.aws.databricksapps.com/api/v1</code>' in inside
    assert f"Config(host=&quot;{HOST}&quot;)" in inside  # the workspace is known there


@pytest.mark.anyio
@respx.mock
async def test_with_api_keys_the_page_is_open_but_lists_nothing_without_a_key() -> None:
    listing = respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json=ENDPOINTS))
    async with proxy(api_keys="team:k-1") as client:
        page = await client.get("/")
        script = await client.get("/static/page.js")
        models = await client.get("/api/v1/models")
    assert page.status_code == 200 and script.status_code == 200
    assert not listing.called
    assert 'data-needs-key="true"' in page.text and 'id="key-field">' in page.text
    assert "enter one in the playground to list your models" in page.text
    assert models.status_code == 401


@pytest.mark.anyio
async def test_docs_and_redoc_load_only_files_of_the_app() -> None:
    async with proxy() as client:
        docs = await client.get("/docs")
        redoc = await client.get("/redoc")
        bundle = await client.get("/static/docs/redoc.standalone.js")
        swagger = await client.get("/static/docs/swagger-ui-bundle.js")
        favicon = await client.get("/static/favicon.svg")
    for page in (docs, redoc):
        assert page.status_code == 200
        assert not _URL.search(page.text), page.text
        assert '<link rel="icon" href="/static/favicon.svg"' in page.text
    assert '<script src="/static/docs/swagger-ui-bundle.js">' in docs.text
    assert '<script src="/static/docs/redoc.standalone.js">' in redoc.text
    assert bundle.status_code == 200 and b"cdn.redoc.ly" not in bundle.content
    assert swagger.status_code == 200 and len(swagger.content) > 500_000
    assert favicon.headers["content-type"] == "image/svg+xml"


def test_every_snippet_holds_the_app_url_and_parses() -> None:
    app = "https://proxy-123.aws.databricksapps.com"
    result = {s.key: s for s in snippets(app, WORKSPACE_PLACEHOLDER, LLAMA, CLAUDE)}
    assert list(result) == ["python", "node", "curl", "langchain", "codex", "genai", "gemini", "claude", "m2m"]
    for key in ("python", "node", "curl", "langchain", "codex", "m2m"):
        assert f"{app}/api/v1" in result[key].code, key
    for key in ("python", "langchain", "m2m", "genai"):
        compile(result[key].code, key, "exec")
    assert f"{app}/api/gemini" in result["genai"].code
    assert f"APP={app}\n" in result["gemini"].code and '"$APP/api/gemini"' in result["gemini"].code
    codex = tomllib.loads(result["codex"].code)
    provider = codex["model_providers"][codex["model_provider"]]
    assert provider["wire_api"] == "responses" and provider["base_url"] == f"{app}/api/v1"
    assert provider["auth"]["command"] == "sh" and provider["auth"]["args"][0] == "-c"
    assert "databricks auth token --host https://<workspace-host>" in provider["auth"]["args"][1]
    claude = json.loads(result["claude"].code)
    assert claude["env"]["ANTHROPIC_BASE_URL"] == f"{app}/api/anthropic"
    assert claude["env"]["ANTHROPIC_MODEL"] == CLAUDE
    assert claude["apiKeyHelper"].startswith("databricks auth token --host https://<workspace-host> | python3 -c")
    body = re.search(r"-d '(.*)'", result["curl"].code)
    assert body is not None and json.loads(body.group(1))["model"] == LLAMA


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
async def test_every_page_forbids_framing_and_says_what_it_may_load(path: str) -> None:
    async with app_proxy() as client:
        headers = (await client.get(path)).headers
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
