"""Browser-test helpers: the app served on 127.0.0.1 in a thread, driven by Playwright in
Debian's Chromium (/usr/bin/chromium; Playwright cannot download browsers here). The fixtures
are in tests/browser/conftest.py."""
import os
import threading

from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin

# How long an assertion may wait for the page to become right (it ends as soon as it is). CI
# runs the SQLite and PostgreSQL suites side by side on two cores, where a page can take longer
# than Playwright's default 5 s to settle.
expect.set_options(timeout=15_000)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",  # the machine has no network: keep Chromium off it
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)


def new_page(chromium, live_server, javascript, locale="en-US"):
    context = chromium.new_context(
        base_url=live_server.url, java_script_enabled=javascript, locale=locale, viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    return context, page


def htmx_settled(page):
    """Wait until htmx has finished swapping and settling (new content is live only then).

    After a page load, htmx wires the page up on DOMContentLoaded, after `window.htmx` exists:
    readyState "complete" comes after that."""
    if page.javascript:
        page.wait_for_function(
            "() => document.readyState === 'complete' && window.htmx"
            " && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
        )


def sign_in(page, language="en", email=None, password=None):
    """Sign in through the login page, first switching it to `language` (the header's switch)."""
    from playwright.sync_api import expect

    page.goto("/login")
    if language != "en":
        page.locator("#language-switcher").select_option(language)
        if not page.javascript:
            page.locator("form[action='/language'] button").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    page.locator("#email").fill(email or ADMIN_EMAIL)
    page.locator("#password").fill(password or ADMIN_PASSWORD)
    page.locator("form[action^='/login'] button[type=submit]").click()
    expect(page.locator(".account-menu summary")).to_have_text(email or ADMIN_EMAIL)


def sign_in_as_new_admin(page, app):
    """Create the first admin account, then sign in with it."""
    create_admin(app)
    sign_in(page)


def mark_page(page):
    """Set a flag that only survives as long as no full page load happens."""
    if page.javascript:
        page.evaluate("window.__noReload = true")


def assert_not_reloaded(page):
    if page.javascript:
        assert page.evaluate("window.__noReload === true"), "htmx should have swapped in place"
