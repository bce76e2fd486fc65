"""The Content-Security-Policy in Chromium: the main pages and their htmx interactions (field
checks, polling, in-place edits, swaps and the buttons that fold rows away) run without one
violation and without a console error. Chromium reports a blocked inline script, style, handler
or eval both as a securitypolicyviolation event and as a console error; both are collected."""
import re

from playwright.sync_api import expect

from tests.support.browser import htmx_settled, sign_in_as_new_admin
from tests.support.factories import make_credential
from tests.support.fake_twilio import new_sid
from tests.support.keywords import inbound
from wizard.core.db import database
from wizard.core.models import Sandbox
from wizard.messaging import store as messages

SENDER = "+886912345678"

# Installed by Playwright before any script of the page runs (it is not subject to the page's policy).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`
                + ` in ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
});
"""


# What Chromium logs for any answer of 400 or more: the app's own 422 (a field check's error)
# and the favicon's 404 are answers, not problems.
HTTP_STATUS = "Failed to load resource: the server responded with a status of"


def watch(page) -> list[str]:
    """Every console error and uncaught exception of the page from now on, with where it happened."""
    problems = []
    page.context.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda message: problems.append(f"{page.url}: {message.text}")
            if message.type == "error" and not message.text.startswith(HTTP_STATUS) else None)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    return problems


def callback(app, credential_id, message_sid, status):
    with app.app_context(), database.connection_context(), database.atomic():
        messages.record_status(sandbox=Sandbox.get(Sandbox.name == "prod"), message_sid=message_sid, status=status,
                               credential=credential_id, params={"MessageSid": message_sid, "MessageStatus": status})


def test_pages_and_htmx_interactions_run_under_the_policy(page, app, fake_twilio):
    problems = watch(page)
    credential = make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)

    for path, heading in [("/setup", "Guided setup"), ("/credentials", "API credentials"), ("/webhooks", "Webhooks"),
                          ("/channels", "Channel configurations"), ("/audit", "Audit log"),
                          ("/practice", "Practice"), (f"/credentials/{credential}", "Main Twilio")]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        htmx_settled(page)

    # A field check: the field is checked on the server as soon as it is left.
    page.goto("/channels/new")
    page.get_by_label("Name").fill("9lives")
    page.get_by_label("Name").press("Tab")
    expect(page.locator("#name-error")).to_have_text("A name starts with a letter, A to Z.")
    htmx_settled(page)

    # In-place edits: a keyword rule (its replies keep their line breaks), a sandbox rename.
    page.goto("/keywords")
    page.locator("#rule-default-help").get_by_role("button", name="Edit").click()
    form = page.locator("#rule-default-help form")
    htmx_settled(page)
    form.get_by_label("Reply").fill("Call us.\nOr write.")
    form.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Help rule saved: HELP, INFO.")).to_be_visible()
    reply = page.locator("table[aria-labelledby='category-help'] tbody tr td:nth-child(2)").first
    expect(reply).to_have_text("Call us.\nOr write.")
    assert reply.evaluate("cell => getComputedStyle(cell).whiteSpace") == "pre-line"
    htmx_settled(page)
    page.goto("/sandboxes")
    for name in ("production", "prod"):  # and back: the later steps work in sandbox prod
        page.locator("#sandbox-1").get_by_role("button", name="Rename").click()
        htmx_settled(page)
        page.locator("#name-1").fill(name)
        page.locator("#sandbox-1").get_by_role("button", name="Save").click()
        expect(page.locator("#sandbox-1 td").first).to_have_text(re.compile(rf"^{name}\b"))
        htmx_settled(page)

    # Polling: new events arrive; an open timeline follows its message, and Hide folds it away.
    sid = new_sid("SM")
    callback(app, credential, sid, "queued")
    requested = []
    page.on("request", lambda request: requested.append(request.url) if f"/events/messages/{sid}" in request.url
            else None)
    page.goto("/events")
    page.get_by_role("link", name=sid).click()
    timeline = page.locator("tr.timeline:not([hidden])")
    expect(timeline.locator(".current-status")).to_contain_text("queued")
    htmx_settled(page)
    callback(app, credential, sid, "sent")
    expect(timeline.locator(".status-timeline li")).to_have_count(2, timeout=8_000)
    expect(page.locator("#event-rows tr.event")).to_have_count(2, timeout=8_000)
    htmx_settled(page)
    timeline.get_by_role("button", name="Hide").click()
    expect(page.locator("tr.timeline:not([hidden])")).to_have_count(0)
    # Folded, it polls no more, while the page's poller for new events (same 2 s) goes on.
    timeline_polls = len(requested)
    for _ in range(3):
        with page.expect_request(lambda request: "/events/new" in request.url, timeout=8_000):
            pass
    assert len(requested) == timeline_polls

    # The consent register: a number's history opens in place and Hide history folds it away.
    inbound(app, credential, "STOP", "SM950", sender=SENDER)
    page.goto("/consent")
    row = page.locator("#consent-register tbody tr", has_text=SENDER)
    expect(row).to_contain_text("Opted out")
    row.get_by_role("button", name=f"History of {SENDER}").click()
    history = page.get_by_role("list", name=f"History of {SENDER}")
    expect(history).to_contain_text("STOP (SM950)")
    htmx_settled(page)
    page.get_by_role("button", name="Hide history").click()
    expect(history).to_have_count(0)
    expect(row.get_by_role("button", name=f"History of {SENDER}")).to_be_focused()

    # The language switch posts on change and reloads the page.
    page.locator("#language-switcher").select_option("zh_Hant")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    htmx_settled(page)

    assert problems == []
