"""Drive the review page (``/ui``) in headless Chromium: the browser tests and ``make
docs-images`` share this.

The browser is Debian's ``chromium`` (``apt-get install -y chromium``), driven by Playwright's
Python package with that executable: ``playwright install`` (a browser download) is never used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("MMED_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def unavailable() -> str | None:
    """Why the browser cannot run here, or None."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e .[dev])"
    return None


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium (the system one), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A page with what it logged: console errors (``text @ url``) and page errors, and every
    request URL."""

    page: Any
    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def new_tab(chromium: Any, viewport: dict[str, int] = DESKTOP) -> Tab:
    context = chromium.new_context(viewport=viewport, device_scale_factor=1)
    tab = Tab(context.new_page())

    def console(message: Any) -> None:
        if message.type == "error":
            tab.errors.append(f"{message.text} @ {message.location.get('url')}")

    tab.page.on("console", console)
    tab.page.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.page.on("request", lambda r: tab.urls.append(r.url))
    return tab


def enter_key(page: Any, key: str | None) -> None:
    """Type the API key when the page asks for one (it shows the field after a 401)."""
    page.wait_for_function("() => document.body.dataset.state !== 'loading'")
    if key and page.locator("#key-form").is_visible():
        page.fill("#api-key", key)
        page.click("#key-form button")
        page.wait_for_function("() => document.getElementById('model').options.length > 0")


def analyse(page: Any, video: Path, timeout_s: float, **options: str) -> None:
    """Choose ``video``, the select values in ``options`` (id -> value), submit, and wait
    until the review is ready."""
    page.set_input_files("#file", str(video))
    for select, value in options.items():
        page.select_option(f"#{select}", value)
    page.click("#start")
    wait_ready(page, timeout_s)


def wait_ready(page: Any, timeout_s: float) -> None:
    """Wait until the page shows a result, ready to review."""
    ready = "() => document.body.dataset.ready !== undefined"
    page.wait_for_function(ready, timeout=timeout_s * 1e3)


def marks(page: Any) -> dict[str, float]:
    """The page's performance marks (ms since navigation), last of each name."""
    return page.evaluate(
        "Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))"
    )
