"""In Chromium, in a practice sandbox, in English and Traditional Chinese: the whole SMS/MMS
flow with the practice account, a test send that reaches `delivered` on the Events page
without a reload, a simulated STOP that opts the number out, the whole RCS flow with the
Twilio RCS preset; the same controls without JavaScript; and presenter mode at 1280x720
with nothing to scroll sideways and a visible keyboard focus.

The Twilio simulator answers everything: the recording fake behind TWILIO_BASE_URL must
get nothing. Labels come from the catalog, so the walk reads what a Chinese reader reads."""
import re

import pytest
from flask_babel import gettext
from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in
from tests.support.factories import long_name, make_credential, make_long_named_practice
from wizard.core.db import database
from wizard.core.models import CredentialNumber, Sandbox
from wizard.providers import transport as practice
from wizard.providers.twilio.simulator import DEMO_ACCOUNT, DEMO_SERVICES, PRACTICE_PHONE

DEMO_NUMBER = DEMO_SERVICES[0].numbers[0]
CONSOLE_ITEMS = ("sender_created", "sender_tested", "sender_submitted", "sender_approved", "sender_in_pool")
# The main pages a trainer shows; each must fit 1280 pixels wide in presenter mode.
MAIN_PAGES = ("/setup", "/credentials", "/webhooks", "/channels", "/channels/new", "/events", "/consent",
              "/keywords", "/sandboxes", "/audit", "/practice")


def translator(app, language):
    def t(msgid, **values):
        with app.test_request_context("/", headers={"Accept-Language": "zh-TW" if language == "zh_Hant" else "en"}):
            return gettext(msgid, **values)
    return t


def practice_sandbox(app) -> int:
    with app.app_context(), database.connection_context():
        return Sandbox.create(name="practice", name_key="practice", is_practice=True).id


def sign_in_to_practice(page, language):
    sign_in(page, language)
    expect(page.locator(".practice-banner")).to_have_count(0)
    htmx_settled(page)  # htmx listens for the switcher's change from here on
    page.locator("#sandbox-switcher").select_option(label="practice")
    if not page.javascript:
        page.locator("#sandbox-switcher-form button").click()
    expect(page.locator(".practice-banner")).to_be_visible()


@pytest.fixture(autouse=True)
def callbacks_finish(app):
    """Messages still moving when a test ends would call into the next test's database."""
    yield
    if practice.EXTENSION in app.extensions:
        app.extensions[practice.EXTENSION].wait_until_idle(15)


def next_step(page):
    page.locator("button[name=action][value=next]").click()


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_the_whole_practice_walk(page, app, fake_twilio, language):
    t = translator(app, language)
    create_admin(app)
    sandbox_id = practice_sandbox(app)
    sign_in_to_practice(page, language)
    fake_twilio.clear_requests()

    # 1. The guided SMS/MMS flow, with the practice account copied from the panel on the account step.
    page.goto("/setup")
    page.locator("form[action='/setup/sms'] button").click()
    page.locator("#name").fill("Demo Twilio")
    next_step(page)
    expect(page.locator(".practice-account")).to_be_visible()
    page.locator("#account_sid").fill(page.locator("#practice-account-sid").input_value())
    page.locator("#auth_token").fill("0" * 32)
    next_step(page)
    expect(page.locator("#auth_token-error")).to_contain_text("20003")
    page.locator("#auth_token").fill(page.locator("#practice-auth-token").input_value())
    page.locator("button[value=check]").click()
    expect(page.locator("#account-check")).to_contain_text(DEMO_ACCOUNT.friendly_name)
    htmx_settled(page)
    next_step(page)
    expect(page.locator("table.choices")).to_contain_text(DEMO_SERVICES[1].friendly_name)
    page.locator(f"button[value='{DEMO_SERVICES[0].sid}']").click()
    page.locator(f"#number_{sandbox_id}").fill(DEMO_NUMBER)
    next_step(page)
    expect(page.get_by_role("heading", name=t("Review and submit"))).to_be_visible()
    page.get_by_role("button", name=t("Submit")).click()
    expect(page.get_by_role("heading", name=t("API credential %(name)s created", name="Demo Twilio"))).to_be_visible()

    # 2. Webhooks: what the simulated Messaging Service has now, then ours written to it.
    page.locator("main a[href$='/apply']").first.click()
    expect(page.locator("section.apply")).to_contain_text("https://old-platform.example/twilio/status")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=t("Write ours to Twilio")).click()
    expect(page.locator("#flashes")).to_contain_text("Demo Twilio")

    # 3. A test send, watched on the Events page in a second tab that never reloads.
    events = page.context.new_page()
    events.javascript = True
    events.goto("/events")
    mark_page(events)
    page.goto("/credentials")
    page.locator("tr", has_text="Demo Twilio").locator("a[href$='/verify']").click()
    page.locator("#number").fill("+12025550123")
    page.locator("#message").fill("Hello from practice 你好")
    page.locator("#verify-section form button[type=submit]:not([formaction])").click()
    expect(page.locator("#message-status")).to_contain_text("accepted")
    sid = page.locator("#message-sid").inner_text()
    delivered = events.locator("tr.event-status", has_text=sid).filter(has_text="delivered")
    expect(delivered).to_have_count(1, timeout=15_000)
    for status in ("queued", "sent"):
        expect(events.locator("tr.event-status", has_text=sid).filter(has_text=status)).to_have_count(1)
    assert_not_reloaded(events)

    # 4. A simulated STOP from the Events page: the inbound row appears live, the number is opted out.
    htmx_settled(events)
    events.locator(".practice-inbound-panel summary").click()
    expect(events.locator("#inbound-from")).to_have_value(PRACTICE_PHONE)
    events.locator("button[name=quick][value=STOP]").click()
    expect(events.locator("#practice-inbound .flash-success")).to_contain_text(PRACTICE_PHONE)
    expect(events.locator("tr.event-inbound", has_text=PRACTICE_PHONE)).to_contain_text("STOP", timeout=10_000)
    assert_not_reloaded(events)
    events.close()
    page.goto("/consent")
    expect(page.locator("#consent-register tr", has_text=PRACTICE_PHONE).locator("td[data-state]")).to_have_attribute(
        "data-state", "opted_out")

    # 5. The RCS flow with the Twilio RCS preset; its test request answered by the simulator.
    page.goto("/setup")
    page.locator("form[action='/setup/rcs'] button").click()
    page.locator("#twilio_credential").select_option(label="Demo Twilio")
    page.locator("button[value=check_live]").click()
    expect(page.locator("#rcs-checks")).to_contain_text(t("The account is paid (Full), not Trial"))
    htmx_settled(page)
    for name in CONSOLE_ITEMS:
        page.locator(f"#{name}").check()
    htmx_settled(page)
    next_step(page)
    expect(page.locator("#rcs-inbound-url")).to_have_value(re.compile(r"/hooks/twilio/[\w-]+/inbound$"))
    next_step(page)
    mark_page(page)
    page.locator("button[value=preset]").click()
    expect(page.locator("#provider_url")).to_have_value(
        f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT.sid}/Messages.json")
    htmx_settled(page)
    page.locator("#test_number").fill("+886912345678")
    page.locator("#test_message").fill("RCS 你好")
    page.locator("button[value=test]").click()
    expect(page.locator("#test-result")).to_contain_text("201 Created")
    expect(page.locator("#test-result")).to_contain_text('"status": "accepted"')
    assert_not_reloaded(page)
    htmx_settled(page)
    next_step(page)
    page.locator("#name").fill("RCS_Demo")
    page.locator("#sms_type").select_option("transactional")
    next_step(page)
    page.get_by_role("button", name=t("Submit")).click()
    expect(page.locator("main")).to_contain_text("RCS_Demo")
    expect(page.locator("#rcs-created")).to_contain_text(t("Active"))  # the RCS summary (issue 12 item 9)

    assert fake_twilio.requests == []  # nothing left the process


def test_practice_controls_without_javascript(page_without_js, app, fake_twilio, in_app):
    page = page_without_js
    create_admin(app)
    sandbox_id = practice_sandbox(app)
    make_credential(app, fake_twilio, name="Demo Twilio", numbers={"practice": DEMO_NUMBER},
                    account_sid=DEMO_ACCOUNT.sid, auth_token=DEMO_ACCOUNT.auth_token,
                    messaging_service_sid=DEMO_SERVICES[0].sid)
    sign_in_to_practice(page, "en")

    page.get_by_role("link", name="Practice account and controls").click()
    expect(page.get_by_role("heading", name="Practice mode")).to_be_visible()
    page.locator("#inbound-from").fill("0912")
    page.get_by_role("button", name="Send STOP").click()
    expect(page.locator("#inbound-from-error")).to_contain_text("Start the number with + and its country code")
    page.locator("#inbound-from").fill(PRACTICE_PHONE)
    page.get_by_role("button", name="Send STOP").click()
    expect(page.locator("#flashes")).to_contain_text("reached the inbound webhook")
    expect(page.locator("#flashes")).to_contain_text("Our reply: You have successfully been unsubscribed")
    page.goto("/consent")
    expect(page.locator("#consent-register")).to_contain_text(PRACTICE_PHONE)

    # Reset: a confirmation page first; afterwards the sandbox starts again from nothing.
    page.goto("/practice")
    page.get_by_role("button", name="Reset practice data").click()
    expect(page.get_by_role("heading", name="Reset the practice data of sandbox practice?")).to_be_visible()
    page.get_by_role("button", name="Reset practice data").click()
    expect(page.locator("#flashes")).to_contain_text("Practice data of sandbox practice reset")
    with in_app():
        assert not CredentialNumber.select().where(CredentialNumber.sandbox == sandbox_id).exists()
    assert fake_twilio.requests == []


def focus_by_keyboard(page, selector, limit=80) -> bool:
    """Tab from the top of the page until `selector` has the focus."""
    page.locator("body").focus()
    for _press in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return True
    return False


def outline_of(page) -> str:
    return page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_presenter_mode_fits_1280x720_and_shows_the_keyboard_focus(page, app, fake_twilio, language):
    create_admin(app)
    practice_sandbox(app)
    credential = make_credential(app, fake_twilio, name="Demo Twilio with a rather long name for a projector",
                                 numbers={"practice": DEMO_NUMBER}, account_sid=DEMO_ACCOUNT.sid,
                                 auth_token=DEMO_ACCOUNT.auth_token, messaging_service_sid=DEMO_SERVICES[0].sid)
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in_to_practice(page, language)
    assert focus_by_keyboard(page, ".presenter-toggle")
    assert outline_of(page) != "none"
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_class("presenter")
    expect(page.locator(".presenter-toggle")).to_have_attribute("aria-pressed", "true")
    # 131.25 % of 16 px; the stylesheet applies it a moment after the class is set.
    page.wait_for_function("() => parseFloat(getComputedStyle(document.documentElement).fontSize) >= 21")

    # Some content that tends to be wide: events with SIDs, a timeline, consent, the account step's panel.
    page.goto("/events")
    page.locator(".practice-inbound-panel summary").click()
    page.locator("button[name=quick][value=STOP]").click()
    expect(page.locator("#practice-inbound .flash-success")).to_be_visible()
    page.goto(f"/credentials/{credential}/verify")
    page.locator("#number").fill("+12025550123")
    page.locator("#message").fill("A test message")
    page.locator("#verify-section form button[type=submit]:not([formaction])").click()
    expect(page.locator("#message-status")).to_contain_text("accepted")
    page.goto("/setup")
    page.locator("form[action='/setup/sms'] button").click()
    page.locator("#name").fill("Presenter")
    next_step(page)
    step = page.url

    too_wide = {}
    for path in (*MAIN_PAGES, f"/credentials/{credential}", f"/credentials/{credential}/verify", step):
        page.goto(path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 1280:
            too_wide[path] = width
    assert too_wide == {}

    # The additions are reachable by keyboard and show where the focus is.
    page.goto("/events")
    assert focus_by_keyboard(page, ".practice-banner a")
    assert outline_of(page) != "none"
    assert focus_by_keyboard(page, ".practice-inbound-panel summary")
    assert outline_of(page) != "none"
    page.keyboard.press("Enter")
    assert focus_by_keyboard(page, "button[name=quick][value=HELP]")
    assert outline_of(page) != "none"
    page.goto("/practice")
    assert focus_by_keyboard(page, "#practice-auth-token")
    assert focus_by_keyboard(page, "a[href$='/reset']", limit=120)
    assert outline_of(page) != "none"
    assert fake_twilio.requests == []


# What scrolls sideways, and the header's labels and Copy buttons as a projector shows them.
LAYOUT = """() => ({
  width: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
  labels: ['sandbox-switcher', 'language-switcher'].filter((id) => {
    const label = document.querySelector(`label[for=${id}]`);
    return !label || label.getBoundingClientRect().width < 20 || label.getBoundingClientRect().height < 10; }),
  copy: Array.from(document.querySelectorAll('.copy-button:not([hidden])')).filter((button) => {
    const range = document.createRange(); range.selectNodeContents(button);
    return new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size > 1;
  }).map((button) => button.dataset.copy),
})"""


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_presenter_mode_never_scrolls_sideways_with_60_character_names(page, app, fake_twilio, language):
    create_admin(app)
    data = make_long_named_practice(app, fake_twilio)
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in(page, language)
    htmx_settled(page)
    page.locator("#sandbox-switcher").select_option(label=long_name("Practice_sandbox"))
    expect(page.locator(".practice-banner")).to_be_visible()
    page.locator(".presenter-toggle").click()
    expect(page.locator("html")).to_have_class("presenter")
    page.wait_for_function("() => parseFloat(getComputedStyle(document.documentElement).fontSize) >= 21")

    # A guided run that reached the account step, with its practice panel and Copy buttons.
    page.goto("/setup")
    page.locator("form[action='/setup/sms'] button").click()
    page.locator("#name").fill(long_name("Guided_credential"))
    next_step(page)
    expect(page.locator(".practice-account")).to_be_visible()
    step = page.url

    credential, sid = data["credential"], data["message_sid"]
    paths = ("/setup", step, "/credentials", f"/credentials/{credential}", f"/credentials/{credential}/verify",
             f"/credentials/{credential}/delete", f"/credentials/{data['custom']}", "/credentials/custom/new",
             f"/credentials/{credential}/messages/{sid}", "/webhooks", f"/webhooks/twilio/{data['number']}/apply",
             "/webhooks/custom", "/webhooks/custom/new", f"/webhooks/custom/{data['webhook']}",
             f"/webhooks/custom/{data['webhook']}/delete", "/channels", "/channels/new",
             f"/channels/{data['configuration']}", f"/channels/{data['configuration']}/delete",
             f"/keywords?credential={credential}", f"/keywords/rules/{data['rule']}",
             f"/keywords/rules/{data['rule']}/edit", f"/keywords/rules/{data['rule']}/delete", "/events",
             f"/events/messages/{sid}", "/consent", f"/consent/{data['consent']}", "/sandboxes",
             f"/sandboxes/{data['sandbox']}", f"/sandboxes/{data['sandbox']}/edit",
             f"/sandboxes/{data['sandbox']}/delete", "/audit", "/practice", f"/practice/{data['sandbox']}/reset",
             "/account", "/admins")
    wrong = {}
    for path in paths:
        page.goto(path)
        htmx_settled(page)
        layout = page.evaluate(LAYOUT)
        if layout["width"] > layout["client"] or layout["labels"] or layout["copy"]:
            wrong[path] = layout
    # The events page's folded parts, open: the inbound panel and a message's timeline.
    page.goto("/events")
    page.locator(".practice-inbound-panel summary").click()
    page.locator("tr.event-status", has_text=sid).first.locator("button, a").first.click()
    htmx_settled(page)
    layout = page.evaluate(LAYOUT)
    if layout["width"] > layout["client"]:
        wrong["/events (opened)"] = layout
    assert wrong == {}, "\n".join(f"{path}: {layout}" for path, layout in wrong.items())
