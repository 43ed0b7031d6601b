"""The pages in a real browser (headless Chromium) against the proxy under uvicorn in front of the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.browser import PageWatch, chromium, chromium_path, in_ci
from tests.e2e.conftest import LLAMA
from tests.e2e.harness import Proxy

pytest.importorskip("playwright.sync_api")

if chromium_path() is None:
    _MISSING = "CHROMIUM IS NOT INSTALLED: the browser test did not run (apt-get install chromium)"
    if in_ci():
        pytest.fail(_MISSING, pytrace=False)
    pytest.skip(_MISSING, allow_module_level=True)

from playwright.sync_api import BrowserContext, Page, Response, expect


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with chromium() as context:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        yield context


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[tuple[Page, PageWatch]]:
    page = browser.new_page()
    watch = PageWatch()
    watch.attach(page)
    yield page, watch
    page.close()
    assert watch.outside == [], f"requests left the machine: {watch.outside}"
    assert watch.errors == [], f"the page reported errors: {watch.errors}"
    assert watch.requests, "the page made no request at all"


def _assert_unframeable(response: Response | None, docs: bool) -> None:
    """The page says what it may load (the console check in ``page`` fails on any violation) and forbids framing."""
    assert response is not None
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp and "script-src 'self';" in csp
    assert ("'unsafe-inline'" in csp) is docs  # only the docs pages' style attributes need it


def test_no_other_site_can_frame_a_page(page: tuple[Page, PageWatch], proxy: Proxy) -> None:
    tab, watch = page
    framer = proxy.url.replace("127.0.0.1", "localhost")
    tab.goto(f"{framer}/health")  # another origin framing the front page
    tab.evaluate(
        "url => { const f = document.createElement('iframe'); f.src = url; document.body.appendChild(f); }",
        f"{proxy.url}/",
    )
    tab.wait_for_timeout(1_000)
    frame = next(f for f in tab.frames if f != tab.main_frame)
    assert frame.evaluate("document.title") != "Databricks OpenAI Proxy"
    watch.errors.clear()  # the browser reports the refused frame on the console: that is the point


def test_front_page_lists_models_fills_in_the_url_and_streams_in_the_playground(
    page: tuple[Page, PageWatch], proxy: Proxy
) -> None:
    tab, watch = page
    _assert_unframeable(tab.goto(f"{proxy.url}/"), docs=False)
    expect(tab).to_have_title("Databricks OpenAI Proxy")

    rows = tab.locator("#model-rows tr")
    expect(rows.filter(has_text=LLAMA)).to_have_count(1)
    expect(rows.filter(has_text=LLAMA)).to_contain_text("gpt-4o-mini")  # the alias beside its endpoint
    expect(tab.locator("#upstream")).to_contain_text("ready")

    # Base URLs and snippets carry this app's own URL.
    expect(tab.locator("#urls")).to_contain_text(f"{proxy.url}/api/v1")
    expect(tab.locator("#urls")).to_contain_text(f"{proxy.url}/api/anthropic")
    expect(tab.locator("#code-python")).to_contain_text(f'base_url="{proxy.url}/api/v1"')
    expect(tab.locator("#code-python")).to_be_visible()
    # The snippets fit the mode: on the emulator, with no API keys, nothing to sign in with.
    expect(tab.locator("#code-python")).to_contain_text('api_key="not-needed"')
    expect(tab.locator("#code-python")).not_to_contain_text("databricks-sdk")
    expect(tab.locator("#code-claude")).to_be_hidden()

    # Tabs by keyboard: the arrow keys move through the clients.
    tab.locator("#tab-python").focus()
    tab.keyboard.press("End")
    expect(tab.locator("#tab-claude")).to_be_focused()  # no service-principal tab: this app asks for no key
    tab.keyboard.press("ArrowLeft")
    expect(tab.locator("#tab-gemini")).to_have_attribute("aria-selected", "true")
    tab.keyboard.press("ArrowRight")
    expect(tab.locator("#tab-claude")).to_have_attribute("aria-selected", "true")
    expect(tab.locator("#code-claude")).to_be_visible()
    expect(tab.locator("#code-claude")).to_contain_text(f'"ANTHROPIC_BASE_URL": "{proxy.url}/api/anthropic"')
    expect(tab.locator("#code-python")).to_be_hidden()

    # A copy button puts the exact snippet on the clipboard.
    tab.locator("#panel-claude button.copy").click()
    expect(tab.locator("#panel-claude button.copy")).to_have_text("Copied")
    copied = tab.evaluate("navigator.clipboard.readText()")
    assert copied == tab.locator("#code-claude").text_content()

    # The playground streams through /api/v1/chat/completions; count the answer's updates as they arrive.
    tab.select_option("#play-model", LLAMA)
    tab.fill("#play-message", "hello from the browser")
    tab.evaluate(
        """() => {
        window.answerUpdates = 0;
        new MutationObserver(() => { window.answerUpdates += 1; })
            .observe(document.getElementById("play-answer"), {childList: true, characterData: true, subtree: true});
    }"""
    )
    with tab.expect_response(f"{proxy.url}/api/v1/chat/completions") as response_info:
        tab.get_by_role("button", name="Send").click()
    response = response_info.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    expect(tab.locator("#play-status")).to_contain_text("Done", timeout=10_000)
    expect(tab.locator("#play-answer")).to_have_text("Echo: hello from the browser")
    assert tab.evaluate("window.answerUpdates") >= 3, "the answer arrived in one piece, not as a stream"
    assert any(url.endswith("/static/page.js") for url in watch.requests)


def test_front_page_follows_the_dark_colour_scheme(page: tuple[Page, PageWatch], proxy: Proxy) -> None:
    tab, _ = page
    tab.emulate_media(color_scheme="light")
    tab.goto(f"{proxy.url}/")
    light = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    tab.emulate_media(color_scheme="dark")
    dark = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    assert light == "rgb(255, 255, 255)"
    assert dark == "rgb(17, 20, 24)"


def test_swagger_ui_lists_the_operations(page: tuple[Page, PageWatch], proxy: Proxy) -> None:
    tab, watch = page
    _assert_unframeable(tab.goto(f"{proxy.url}/docs"), docs=True)
    operations = tab.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible(timeout=15_000)
    paths = set(operations.all_text_contents())
    assert {"/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models"} <= {
        p.replace("\u200b", "") for p in paths
    }
    assert any(url.endswith("/static/docs/swagger-ui-bundle.js") for url in watch.requests)


def test_front_page_fits_a_390_px_phone(page: tuple[Page, PageWatch], proxy: Proxy) -> None:
    tab, _ = page
    tab.set_viewport_size({"width": 390, "height": 844})
    tab.goto(f"{proxy.url}/")
    urls = tab.locator("code.url")
    expect(urls.first).to_be_visible()
    for index in range(urls.count()):
        box = urls.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (index, box)
        # the whole base URL is there to read, not cut at ".../api"
        assert urls.nth(index).inner_text().startswith(proxy.url)
    wide = tab.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll, pre') && e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)"
    )
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390, wide


def test_swagger_ui_offers_authorize_for_the_key(page: tuple[Page, PageWatch], proxy: Proxy) -> None:
    tab, _ = page
    tab.goto(f"{proxy.url}/docs")
    expect(tab.locator("button.authorize").first).to_be_visible(timeout=15_000)


def test_redoc_renders_the_api(page: tuple[Page, PageWatch], proxy: Proxy) -> None:
    tab, _ = page
    _assert_unframeable(tab.goto(f"{proxy.url}/redoc"), docs=True)
    expect(tab.get_by_role("heading", name="Databricks OpenAI Proxy").first).to_be_visible(timeout=15_000)
    expect(tab.get_by_text("/v1/chat/completions").first).to_be_attached()
