"""In Chromium, with JavaScript on and off: from an empty database, create the first admin, take
"Try it with practice data", walk the guided SMS/MMS setup and see a test message reach
"delivered", counting every click, fill and select (at most 15). With JavaScript the status moves
by itself, without a reload and with no Refresh button; without it, "Check again" reloads it."""
import pytest
from playwright.sync_api import expect

from tests.support.browser import assert_not_reloaded, mark_page
from tests.support.interactions import Interactions
from wizard.providers import transport
from wizard.providers.twilio.simulator import DEMO_SERVICES, PRACTICE_PHONE

MOST_INTERACTIONS = 15


pytestmark = pytest.mark.usefixtures("callbacks_finish")  # tests/browser/conftest.py


def test_from_sign_up_to_a_delivered_practice_message(any_page, app, live_server, fake_twilio):
    page, act = any_page, Interactions()
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/first-run")
    act.fill(page.get_by_label("Email"), "trainer@example.com")
    act.fill(page.get_by_label("Password"), "a long enough password")
    act.click(page.get_by_role("button", name="Create account"))

    expect(page.get_by_role("heading", name="How do you want to start?")).to_be_visible()
    act.click(page.get_by_role("button", name="Try it with practice data (no Twilio account)"))

    expect(page.get_by_role("heading", name="Vendor and name")).to_be_visible()
    expect(page.locator(".practice-banner")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Twilio practice")
    act.click(page.get_by_role("button", name="Next"))

    expect(page.get_by_role("heading", name="Account SID and Auth Token")).to_be_visible()
    act.click(page.get_by_role("button", name="Next"))

    expect(page.get_by_role("heading", name="Messaging Service", exact=True)).to_be_visible()
    service = page.get_by_role("row").filter(has_text=DEMO_SERVICES[0].friendly_name)
    act.click(service.get_by_role("button", name="Use this service"))

    expect(page.get_by_role("heading", name="Incoming numbers")).to_be_visible()
    expect(page.get_by_label("Use in sandbox practice")).to_be_checked()
    act.fill(page.get_by_label("Incoming number for practice"), DEMO_SERVICES[0].numbers[0])
    act.click(page.get_by_role("button", name="Next"))

    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    act.click(page.get_by_role("button", name="Submit"))

    expect(page.get_by_role("heading", name="API credential Twilio practice created")).to_be_visible()
    expect(page.get_by_text("It is simulated: it costs nothing and reaches no phone.")).to_be_visible()
    act.fill(page.get_by_label("Number", exact=True), PRACTICE_PHONE)
    act.fill(page.get_by_label("Message", exact=True), "Hello from the practice room")
    mark_page(page)
    act.click(page.get_by_role("button", name="Send test message"))

    status = page.locator("#message-status")
    if page.javascript:
        expect(status).to_contain_text("accepted")  # the send's own answer, swapped in place
    else:
        # The status page as Twilio knows the message now. A person looks again when they like:
        # once the simulator is done, say (a machine slow enough shows it done already).
        expect(page.get_by_role("heading", name="Test message")).to_be_visible()
        assert app.extensions[transport.EXTENSION].wait_until_idle(15)
        if page.get_by_role("link", name="Check again").count():
            act.click(page.get_by_role("link", name="Check again"))
    expect(status).to_contain_text("delivered to the phone")
    expect(page.locator("#message-status code")).to_have_text("delivered")
    assert_not_reloaded(page)
    expect(page.get_by_role("button", name="Refresh")).to_have_count(0)
    expect(page.get_by_role("link", name="Check again")).to_have_count(0)
    expect(page.get_by_role("link", name="See the message's timeline of status callbacks")).to_be_visible()

    print(f"\ninteractions from an empty database to a delivered message "
          f"(JavaScript {'on' if page.javascript else 'off'}): {act.count}")
    assert act.count <= MOST_INTERACTIONS
    assert fake_twilio.requests == []  # practice: nothing went to the Twilio base URL
