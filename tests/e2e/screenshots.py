"""``python -m tests.e2e.screenshots DIR``: screenshots of ``/`` and ``/docs`` in light and dark (see scripts/screenshots)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.e2e.browser import PageWatch, chromium
from tests.e2e.harness import Proxy

PAGES = {"front": "/", "docs": "/docs"}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    proxy = Proxy({"PROXY_MODEL_ALIASES": "gpt-4o-mini=databricks-meta-llama-3-3-70b-instruct"})
    try:
        for scheme in ("light", "dark"):
            with chromium(scheme) as context:
                for name, path in PAGES.items():
                    page = context.new_page()
                    watch = PageWatch()
                    watch.attach(page)
                    page.goto(proxy.url + path)
                    if name == "docs":
                        page.locator(".opblock-summary-path").first.wait_for()
                    else:
                        page.fill("#play-message", "Say hello in one sentence.")
                        page.get_by_role("button", name="Send").click()
                        page.locator("#play-status", has_text="Done").wait_for()
                    target = out / f"{name}-{scheme}.png"
                    page.screenshot(path=str(target), full_page=name == "front")
                    if watch.errors or watch.outside:
                        raise SystemExit(f"{path}: {watch.errors} {watch.outside}")
                    print(target)
                    page.close()
    finally:
        proxy.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
