"""Shared helpers for the page tests that drive Debian's Chromium through Playwright (mark them `browser`).

    from tests.marketplace.storefront.browser import axe_check, chromium, screenshot, sign_in

    @pytest.mark.browser
    @pytest.mark.django_db(transaction=True)
    def test_something(live_server, ...):
        with chromium() as browser:
            page = browser.new_page(viewport=DESKTOP)
            page.goto(f"{live_server.url}/gallery")
            axe_check(page)                 # fails on any serious or critical axe-core violation
            screenshot(page, "gallery")     # var/screenshots/gallery-1280.png and gallery-390.png

Playwright's sync API runs an event loop in the test's thread, so Django's ORM would refuse to run there
("async context"); `chromium()` allows it for the duration (the test is still one thread)."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import CHROMIUM, PASSWORD, REPO

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = REPO / "var" / "screenshots"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


@contextmanager
def chromium() -> Iterator["object"]:
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def axe_check(page, *, impacts: tuple[str, ...] = BLOCKING_IMPACTS, context: str = "") -> list[dict]:
    """Run axe-core (from node_modules, injected into the page) and fail on violations of these impacts.
    Returns every violation found (the minor/moderate ones too), for a test that wants to look closer."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make test does)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = result["violations"]
    blocking = [v for v in violations if v.get("impact") in impacts]
    if blocking:
        summary = [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in blocking
        ]
        pytest.fail(
            f"axe-core found {len(blocking)} {'/'.join(impacts)} violation(s) on "
            f"{context or page.url}:\n{json.dumps(summary, indent=2)}"
        )
    return violations


def screenshot(page, name: str, *, widths: tuple[dict, ...] = (DESKTOP, PHONE), full_page: bool = True) -> list[Path]:
    """Save the page at desktop and phone widths as var/screenshots/<name>-<width>.png (then restore the size)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    paths = []
    for size in widths:
        page.set_viewport_size(size)
        path = SCREENSHOTS / f"{name}-{size['width']}.png"
        page.screenshot(path=str(path), full_page=full_page)
        paths.append(path)
    if original:
        page.set_viewport_size(original)
    return paths


def sign_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real sign-in page (session cookie and CSRF as a person gets them)."""
    page.goto(f"{base_url}/login")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    assert "/login" not in page.url, f"sign-in failed: {page.url}"


def confirm_sign_up(page, base_url: str) -> None:
    """After the sign-up form: the "check your email" page, then the emailed link (the live server shares this
    process's test outbox) and its confirm button."""
    from django.core import mail

    from tests.security.test_signup_enumeration import link_parts

    page.wait_for_selector("#signup-sent")
    uid, token = link_parts(mail.outbox[-1].body)
    page.goto(f"{base_url}/signup/confirm/{uid}/{token}")
    page.click("main form button[type=submit]")
