"""Browser-test helpers: the app served on 127.0.0.1 in a thread, driven by Playwright in
Debian's Chromium (/usr/bin/chromium; Playwright cannot download browsers here). The fixtures
are in tests/browser/conftest.py."""
import os
import threading

import pytest
from axe_playwright_python.base import AXE_SCRIPT
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
    context.axe_violations = []
    if javascript:
        watch_with_axe(context)
    page = context.new_page()
    return context, page


# axe-core in every page of a JavaScript context, as an init script (run by the browser, not the
# page, so the page's Content-Security-Policy does not apply): on each load and after each htmx
# settle, once the page is at rest, axe checks it, once per state per tab (the address and a
# hash of the elements' tags, ids, classes, and open, hidden and ARIA states; not their text),
# and reports serious and critical violations to the test through __axeReport.
AXE_WATCH = AXE_SCRIPT + """
;(() => {
  if (window.top !== window) return;
  const busy = '.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added';
  let running = null, timer = null;
  function state() {
    let hash = 0;
    for (const e of document.querySelectorAll('body *')) {
      const s = [e.tagName, e.id, e.className, e.hidden, e.open, e.getAttribute('aria-invalid'),
                 e.getAttribute('aria-expanded')].join(':');
      for (let i = 0; i < s.length; i++) hash = (hash * 31 + s.charCodeAt(i)) | 0;
    }
    return location.pathname + location.search + '|' + hash;
  }
  function seen() { return JSON.parse(sessionStorage.getItem('axe-seen') || '[]'); }
  async function check() {
    while (running) await running;
    if (document.readyState !== 'complete') return;
    if (document.querySelector(busy)) { soon(); return; }
    const key = state();
    if (seen().includes(key)) return;
    running = axe.run(document, {resultTypes: ['violations']}).then((results) => {
      sessionStorage.setItem('axe-seen', JSON.stringify([...seen(), key]));
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      const where = location.pathname + location.search;
      if (bad.length) return window.__axeReport(bad.map((v) => `${where}: ${v.id} (${v.impact}): `
        + `${v.help}: ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', ')}`));
    }).finally(() => { running = null; });
    await running;
  }
  function soon() { clearTimeout(timer); timer = setTimeout(check, 50); }
  window.addEventListener('load', soon);
  document.addEventListener('htmx:afterSettle', soon);
  window.__axeDone = check;  // the test's end: the state the page was left in
})();
"""


def watch_with_axe(context):
    """Run axe-core (axe-playwright-python's copy) in every page of this context; the browser
    fixtures fail the test with what it reports (tests/browser/conftest.py)."""
    context.expose_binding("__axeReport", lambda _source, found: context.axe_violations.extend(found))
    context.add_init_script(AXE_WATCH)


def axe_violations(context) -> list[str]:
    """The serious and critical violations axe-core found in this context's pages, the state each
    page is in now included."""
    for page in context.pages:
        if page.url.startswith("http"):
            page.wait_for_load_state()
            page.evaluate("() => window.__axeDone && window.__axeDone()")
    return list(dict.fromkeys(context.axe_violations))


def close_checked(context):
    """Close a test's browser context; fail the test with the serious and critical axe-core
    violations its JavaScript pages showed (watch_with_axe)."""
    violations = axe_violations(context)
    context.close()
    if violations:
        pytest.fail("axe-core found serious or critical violations:\n" + "\n".join(violations), pytrace=False)


def htmx_settled(page):
    """Wait until htmx has finished swapping and settling (new content is live only then).

    After a page load, htmx wires the page up on DOMContentLoaded, after `window.htmx` exists:
    readyState "complete" comes after that."""
    if page.javascript:
        page.wait_for_function(
            "() => document.readyState === 'complete' && window.htmx"
            " && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
        )


def choose_language(page, language):
    """Switch the page to `language` with the header's switch (nothing to do for English)."""
    if language != "en":
        htmx_settled(page)  # htmx listens for the switch's change from here on
        page.locator("#language-switcher").select_option(language)
        if not page.javascript:
            page.locator("form[action='/language'] button").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")


def sign_in(page, language="en", email=None, password=None):
    """Sign in through the login page, first switching it to `language` (the header's switch)."""
    from playwright.sync_api import expect

    page.goto("/login")
    choose_language(page, language)
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
