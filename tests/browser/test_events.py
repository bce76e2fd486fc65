"""The Events page in Chromium: events stored while the page is open appear without a
reload (htmx polling), a message's timeline expands in place and follows its callbacks,
the Waiting for the first event panel turns green; without JavaScript, Refresh and plain
pages do the same work."""
import re

from playwright.sync_api import expect

from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in_as_new_admin
from tests.support.factories import make_credential
from tests.support.fake_twilio import new_sid
from wizard.core.db import database
from wizard.core.models import Sandbox
from wizard.messaging import store as messages

# Polls run every 2 seconds; give a few of them.
LIVE_TIMEOUT = 8_000


def receive(app, credential_id, body, signed=True, sender="+886912345678"):
    """An inbound message, stored as the Twilio receiver stores it while the page is open."""
    with app.app_context(), database.connection_context():
        messages.inbound_from_twilio(
            credential=credential_id, sandbox=Sandbox.get(Sandbox.name == "prod"), signed=signed,
            params={"MessageSid": new_sid("SM"), "From": sender, "To": "+14155550101", "Body": body, "NumMedia": "0"})


def callback(app, credential_id, message_sid, status, signed=True, error_code=None):
    with app.app_context(), database.connection_context(), database.atomic():
        messages.record_status(
            sandbox=Sandbox.get(Sandbox.name == "prod"), message_sid=message_sid, status=status,
            error_code=error_code, signed=signed, credential=credential_id,
            params={"MessageSid": message_sid, "MessageStatus": status, "To": "+886911111111"})


def test_events_appear_without_a_reload(page, app, fake_twilio):
    credential = make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)
    page.get_by_role("link", name="Events").click()
    expect(page.get_by_role("heading", name="Events")).to_be_visible()
    expect(page.locator("#no-events")).to_contain_text("No events in sandbox prod yet.")
    mark_page(page)

    receive(app, credential, "STOP")
    rows = page.locator("#event-rows tr.event")
    expect(rows.first).to_contain_text("STOP", timeout=LIVE_TIMEOUT)
    expect(rows.first).to_contain_text("+886912345678 → +14155550101")
    expect(page.locator("#no-events")).to_have_count(0)

    sid = new_sid("SM")
    callback(app, credential, sid, "undelivered", error_code="30003")
    expect(rows.first).to_contain_text(sid, timeout=LIVE_TIMEOUT)
    expect(rows.first).to_contain_text("undelivered error 30003")
    expect(rows.nth(1)).to_contain_text("STOP")  # newest first

    receive(app, credential, "hello", signed=False)
    expect(rows.first).to_contain_text("hello", timeout=LIVE_TIMEOUT)
    expect(rows.first.locator("mark.unsigned")).to_have_text("unsigned")
    expect(rows).to_have_count(3)  # each event once, however many polls ran
    assert_not_reloaded(page)


def test_filters_swap_the_table_and_new_events_follow_them(any_page, app, fake_twilio, live_server):
    page = any_page
    credential = make_credential(app, fake_twilio)
    receive(app, credential, "before the filter")
    sid = new_sid("SM")
    callback(app, credential, sid, "sent")
    sign_in_as_new_admin(page, app)
    page.goto("/events")
    rows = page.locator("#event-rows tr.event")
    expect(rows).to_have_count(2)

    mark_page(page)
    page.get_by_label("Type").select_option(label="Status callbacks")
    if not page.javascript:
        page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(sid)
    # htmx puts only the filters in use in the address bar; the plain form sends every field.
    expect(page).to_have_url(re.compile(r"/events\?type=status$" if page.javascript else r"/events\?.*type=status"))
    assert_not_reloaded(page)

    # New events that don't match stay out; ones that do come in (JS) or after Refresh (no JS).
    receive(app, credential, "an inbound message")
    later = new_sid("SM")
    callback(app, credential, later, "queued")
    if not page.javascript:
        expect(rows).to_have_count(1)
        page.get_by_role("link", name="Refresh").click()
    expect(rows.first).to_contain_text(later, timeout=LIVE_TIMEOUT)
    expect(rows).to_have_count(2)
    expect(page.locator("#event-rows")).not_to_contain_text("an inbound message")

    # A number, typed with punctuation.
    page.get_by_label("Type").select_option(label="All types")
    if not page.javascript:
        page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(4)
    page.get_by_label("Number").fill("+886 912-345")
    if page.javascript:
        htmx_settled(page)
    else:
        page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    expect(page.locator("#event-rows")).to_contain_text("before the filter")
    expect(page.locator("#event-rows")).to_contain_text("an inbound message")
    assert_not_reloaded(page)


def test_a_timeline_expands_in_place_and_follows_the_callbacks(page, app, fake_twilio):
    credential = make_credential(app, fake_twilio)
    sid = new_sid("SM")
    callback(app, credential, sid, "queued")
    sign_in_as_new_admin(page, app)
    page.goto("/events")
    mark_page(page)

    page.get_by_role("link", name=sid).click()
    timeline = page.locator("tr.timeline:not([hidden])")
    expect(timeline).to_have_count(1)
    expect(timeline).to_contain_text("Waiting for more status callbacks")
    expect(timeline.locator(".current-status")).to_contain_text("queued")
    htmx_settled(page)

    # Callbacks out of order: delivered first, then a late sent. The open timeline follows.
    callback(app, credential, sid, "delivered")
    callback(app, credential, sid, "sent")
    expect(timeline.locator(".status-timeline li")).to_have_count(3, timeout=LIVE_TIMEOUT)
    expect(timeline.locator(".current-status")).to_contain_text("delivered to the phone")
    expect(timeline.locator(".status-timeline li").nth(2)).to_contain_text("arrived after a later status")
    expect(timeline).not_to_contain_text("Waiting for more status callbacks")
    assert page.locator("tr.timeline:not([hidden])").get_attribute("hx-trigger") is None  # final: it stopped

    # The new callbacks also arrived as rows of their own, above; Hide folds the timeline away.
    expect(page.locator("#event-rows tr.event")).to_have_count(3, timeout=LIVE_TIMEOUT)
    htmx_settled(page)
    timeline.get_by_role("button", name="Hide").click()
    expect(page.locator("tr.timeline:not([hidden])")).to_have_count(0)
    page.locator("#event-rows tr.event").first.get_by_role("link", name=sid).click()
    expect(page.locator("tr.timeline:not([hidden])")).to_have_count(1)
    assert_not_reloaded(page)


def test_the_waiting_panel_turns_green_on_the_first_signed_event(page, app, fake_twilio):
    credential = make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)
    page.goto(f"/events/waiting?credential={credential}")
    panel = page.locator(f"#waiting-{credential}")
    expect(panel).to_contain_text("Waiting for the first event from Twilio…")
    mark_page(page)

    # Accepted unsigned: the panel polls on and keeps waiting.
    receive(app, credential, "unsigned hello", signed=False)
    with page.expect_response(lambda r: "/events/waiting" in r.url):
        pass
    with page.expect_response(lambda r: "/events/waiting" in r.url):
        pass
    expect(panel).to_contain_text("Waiting for the first event from Twilio…")

    callback(app, credential, new_sid("SM"), "delivered")
    expect(panel).to_contain_text("First event received at", timeout=LIVE_TIMEOUT)
    expect(panel).to_contain_text("status callback (Delivered)")
    expect(panel).to_have_class(re.compile(r"flash-success"))
    assert panel.get_attribute("hx-trigger") is None  # it stopped polling
    assert_not_reloaded(page)


def test_without_javascript_refresh_and_pages_do_the_work(page_without_js, app, fake_twilio):
    page = page_without_js
    credential = make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)
    page.goto("/events")
    expect(page.locator("#no-events")).to_be_visible()

    receive(app, credential, "STOP")
    sid = new_sid("SM")
    callback(app, credential, sid, "sent")
    page.wait_for_timeout(2500)  # what a poll would have needed: nothing changes without a reload
    expect(page.locator("#no-events")).to_be_visible()
    page.get_by_role("link", name="Refresh").click()
    rows = page.locator("#event-rows tr.event")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("STOP")

    # The message SID opens its timeline as a page, with its own Refresh.
    page.get_by_role("link", name=sid).click()
    expect(page.get_by_role("heading", name="Status timeline")).to_be_visible()
    expect(page.locator(".current-status")).to_contain_text("sent")
    callback(app, credential, sid, "delivered")
    page.get_by_role("link", name="Refresh").click()
    expect(page.locator(".current-status")).to_contain_text("delivered to the phone")
    expect(page.locator(".status-timeline li")).to_have_count(2)

    # The waiting panel: already green, since a signed event is stored.
    page.goto(f"/events/waiting?credential={credential}")
    expect(page.locator(f"#waiting-{credential}")).to_contain_text("First event received at")


def test_without_javascript_check_again_shows_the_first_event(page_without_js, app, fake_twilio):
    page = page_without_js
    credential = make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)
    page.goto(f"/events/waiting?credential={credential}")
    expect(page.get_by_text("Waiting for the first event from Twilio…")).to_be_visible()
    receive(app, credential, "hi")
    page.get_by_role("link", name="Check again").click()
    expect(page.get_by_text("First event received at")).to_be_visible()
    expect(page.get_by_text("inbound message from +886912345678")).to_be_visible()
