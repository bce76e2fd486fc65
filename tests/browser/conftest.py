"""Browser fixtures: one Chromium for the session, and a fresh browser context (its own cookies
and storage) on the test's live server (tests/conftest.py) for each test."""
import os

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, close_checked, new_page
from wizard.providers import transport


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test, which installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context, page = new_page(chromium, live_server, javascript=True)
    page.javascript = True
    yield page
    close_checked(context)


@pytest.fixture
def page_without_js(chromium, live_server):
    context, page = new_page(chromium, live_server, javascript=False)
    page.javascript = False
    yield page
    close_checked(context)


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def any_page(request, chromium, live_server):
    """The same walk, once with JavaScript (htmx) and once without."""
    context, page = new_page(chromium, live_server, javascript=request.param)
    page.javascript = request.param
    yield page
    close_checked(context)


@pytest.fixture
def callbacks_finish(app):
    """Practice messages still moving when a test ends would call into the next test's database."""
    yield
    if transport.EXTENSION in app.extensions:
        app.extensions[transport.EXTENSION].wait_until_idle(15)
