"""Browser-test fixtures: the app served on 127.0.0.1 in a thread, driven by Playwright in
Debian's Chromium (/usr/bin/chromium; Playwright cannot download browsers here)."""
import os
import threading

import pytest
from werkzeug.serving import make_server

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


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(chromium, live_server, javascript, locale="en-US"):
    context = chromium.new_context(
        base_url=live_server.url, java_script_enabled=javascript, locale=locale, viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    return context, page


@pytest.fixture
def page(chromium, live_server):
    context, page = _page(chromium, live_server, javascript=True)
    page.javascript = True
    yield page
    context.close()


@pytest.fixture
def page_without_js(chromium, live_server):
    context, page = _page(chromium, live_server, javascript=False)
    page.javascript = False
    yield page
    context.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def any_page(request, chromium, live_server):
    """The same walk, once with JavaScript (htmx) and once without."""
    context, page = _page(chromium, live_server, javascript=request.param)
    page.javascript = request.param
    yield page
    context.close()


def htmx_settled(page):
    """Wait until htmx has finished swapping and settling (new content is live only then)."""
    if page.javascript:
        page.wait_for_function(
            "() => window.htmx && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
        )


def sign_in(page, language="en", email=None, password=None):
    """Sign in through the login page, first switching it to `language` (the header's switch)."""
    from playwright.sync_api import expect

    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

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
    from tests.conftest import create_admin

    create_admin(app)
    sign_in(page)
