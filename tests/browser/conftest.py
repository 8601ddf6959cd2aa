"""Headless Chromium (Debian's) driven by Playwright against pytest-django's live server.

Browser tests are skipped when /usr/bin/chromium is missing, unless
COPYPOOL_REQUIRE_SERVICES=1 (CI), where a missing browser is a failure. Screenshots go to
``artifacts/screenshots/`` (gitignored) for a reviewer to look at.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test (fixtures, assertions) are still synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def chromium():
    # Module scope: one Playwright per test module (two sync_playwright() instances cannot
    # run in one thread at once).
    if not CHROMIUM.exists():
        if os.environ.get("COPYPOOL_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{CHROMIUM} is required (COPYPOOL_REQUIRE_SERVICES=1)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def csp_violations(page) -> list[str]:
    """Collects what the Content-Security-Policy blocked on ``page`` (Chromium reports each
    refusal as a console error); a test asserts the list stays empty. The list is also kept
    as ``page.csp_blocked``, for a test that expects a refusal to take it out."""
    blocked: list[str] = []
    page.csp_blocked = blocked
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return blocked


@pytest.fixture
def page(chromium):
    """A fresh page; anything the Content-Security-Policy blocks on it fails the test."""
    context = chromium.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    blocked = csp_violations(page)
    yield page
    context.close()
    assert not blocked, blocked


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def open_page(chromium):
    """``open_page(width)``: a fresh page that width wide; a script error or anything the
    Content-Security-Policy blocks fails the test."""
    contexts, errors, blocked = [], [], []

    def make(width: int = 1280):
        context = chromium.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        blocked.append(csp_violations(page))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors
    assert not [text for page_blocked in blocked for text in page_blocked]
