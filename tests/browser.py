"""The `browser_page` fixture: Debian's chromium driven by Playwright (its own download does
not work offline). Skipped without chromium, unless VIGIE_REQUIRE_BROWSER=1 (CI) makes it fail."""

import os
import shutil

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser_page(monkeypatch):
    if not shutil.which(CHROMIUM):
        if os.environ.get("VIGIE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is required (VIGIE_REQUIRE_BROWSER=1)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(locale="fr-FR")
        page.set_default_timeout(10_000)
        page.console_errors = []
        page.on(
            "console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None
        )
        yield page
        browser.close()
        # Under Playwright the test's ORM calls get their own connection (Django's connections
        # are context-local): close it, or PostgreSQL cannot drop the test database at the end.
        connections.close_all()
