"""In Chromium, with JavaScript on and off: the Twilio side set up from the guided SMS/MMS flow. A fresh
account creates its Messaging Service and adds its number; a number another service holds is named and
Twilio's refusal (21712) shown; a Trial account offers its verified numbers and stops another recipient
(21608) before sending; and express setup on the practice account, from the account step to a delivered
test message, counting every click, fill and select (at most 5); with two practice sandboxes, a number
proposed for each, one changed in place, and a real sandbox left out."""
import pytest
from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in
from tests.support.interactions import Interactions
from tests.support.practice import practice_sandbox
from wizard.core.db import database
from wizard.core.models import ApiCredential
from wizard.providers import transport
from wizard.providers.twilio.simulator import DEMO_SERVICES, DEMO_UNASSIGNED_NUMBER, PRACTICE_PHONE

MOST_INTERACTIONS = 5


pytestmark = pytest.mark.usefixtures("callbacks_finish")  # tests/browser/conftest.py


def start_with(page, app, account, name="Twilio prod"):
    """Sign in, start the SMS/MMS setup and pass the name and account steps with `account`."""
    create_admin(app)
    sign_in(page)
    page.goto("/setup")
    page.locator("article").first.get_by_role("button", name="Start").click()
    page.locator("#name").fill(name)
    page.get_by_role("button", name="Next").click()
    page.locator("#account_sid").fill(account.sid)
    page.locator("#auth_token").fill(account.auth_token)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Messaging Service", exact=True)).to_be_visible()


def test_a_fresh_account_creates_a_service_and_adds_its_number(any_page, app, fake_twilio):
    page = any_page
    account = fake_twilio.add_account("Fresh account", "active", "Full")
    fake_twilio.add_number(account.sid, "+14155550161")
    start_with(page, app, account)
    expect(page.get_by_text("This account has no Messaging Service yet. Create one here")).to_be_visible()
    page.get_by_role("button", name="Create a Messaging Service").click()
    expect(page.get_by_label("Messaging Service name")).to_have_value("Twilio prod")
    page.get_by_label("Messaging Service name").fill("Acme texts")
    page.get_by_role("button", name="Create this Messaging Service").click()

    expect(page.get_by_role("heading", name="Incoming numbers")).to_be_visible()
    row = page.locator("#sender-pool tbody tr").filter(has_text="415")
    expect(row).to_contain_text("In no service")
    row.get_by_role("button", name="Add to this service").click()
    expect(page.locator("#confirm-add")).to_contain_text("to Messaging Service Acme texts?")
    page.get_by_role("button", name="Add it to the service").click()
    expect(page.locator("#sender-pool")).to_contain_text("is now in the Messaging Service")
    expect(page.locator("#sender-pool tbody tr").filter(has_text="415")).to_contain_text("In this service")
    expect(page.get_by_label("Incoming number for prod")).to_have_value("+14155550161")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="API credential Twilio prod created")).to_be_visible()

    service, = fake_twilio.accounts[account.sid].services.values()
    created, = fake_twilio.requests_matching(method="POST", path="/v1/Services")
    assert created.form["FriendlyName"] == "Acme texts"
    assert created.form["InboundRequestUrl"].endswith("/inbound") and created.form["StatusCallback"].endswith("/status")
    added, = fake_twilio.requests_matching(method="POST", path=f"/v1/Services/{service.sid}/PhoneNumbers")
    assert added.form == {"PhoneNumberSid": next(iter(fake_twilio.accounts[account.sid].incoming_numbers))}


def test_a_number_held_by_another_service(any_page, app, fake_twilio):
    page = any_page
    start_with(page, app, fake_twilio.accounts[fake_twilio.account_sid])
    page.get_by_role("row").filter(has_text=fake_twilio.service_name).get_by_role(
        "button", name="Use this service").click()
    row = page.locator("#sender-pool tbody tr").filter(has_text="0103")
    expect(row).to_contain_text(f"In another service: {fake_twilio.second_service_name}")
    row.get_by_role("button", name="Add to this service").click()
    page.get_by_role("button", name="Add it to the service").click()
    expect(page.locator("#sender-pool tbody tr").filter(has_text="0103")).to_contain_text(
        "Twilio error 21712: Phone Number or Short Code is associated with another Messaging Service.")


def test_a_trial_account_with_a_verified_and_an_unverified_recipient(any_page, app, fake_twilio):
    page = any_page
    trial = fake_twilio.add_account("Trial account", "active", "Trial")
    service = fake_twilio.add_service(trial.sid, "Trial service")
    fake_twilio.add_number(trial.sid, "+14155550171", service.sid)
    trial.verified_numbers.extend(["+14155550177", "+14155550178"])
    start_with(page, app, trial)
    page.get_by_role("button", name="Use this service").click()
    page.get_by_label("Incoming number for prod").fill("+14155550171")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Submit").click()

    expect(page.locator("#trial-account")).to_contain_text("only to the phone numbers verified on the account")
    expect(page.locator("#verified-numbers")).to_contain_text("+14155550178")
    expect(page.get_by_label("Number", exact=True)).to_have_value("+14155550177")
    page.get_by_label("Number", exact=True).fill("+14155550199")
    page.get_by_label("Message", exact=True).fill("Hello")
    page.get_by_role("button", name="Send test message").click()
    expect(page.locator("#number-error")).to_contain_text("Twilio error 21608: The number +14155550199 is unverified.")
    assert not fake_twilio.requests_matching(method="POST", path=f"/2010-04-01/Accounts/{trial.sid}/Messages.json")

    page.get_by_label("Number", exact=True).fill("+14155550178")
    page.get_by_label("Message", exact=True).fill("Hello")
    page.get_by_role("button", name="Send test message").click()
    expect(page.locator("#message-status")).to_contain_text("accepted")
    sent, = fake_twilio.requests_matching(method="POST", path=f"/2010-04-01/Accounts/{trial.sid}/Messages.json")
    assert sent.form["To"] == "+14155550178"
    message, = fake_twilio.messages.values()
    assert message.body == "Sent from your Twilio trial account - Hello"


def test_express_setup_from_the_account_step_to_a_delivered_message(any_page, app, fake_twilio):
    page, act = any_page, Interactions()
    create_admin(app)
    sign_in(page)
    page.goto("/setup")
    page.get_by_role("button", name="Try it with practice data (no Twilio account)").first.click()
    expect(page.get_by_role("heading", name="Vendor and name")).to_be_visible()
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name="Account SID and Auth Token")).to_be_visible()
    act.click(page.get_by_role("button", name="Next"))
    act.click(page.get_by_role("button", name="Set up everything on one screen"))

    expect(page.get_by_role("heading", name="Set up everything on one screen")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Twilio practice")
    expect(page.get_by_label(f"{DEMO_SERVICES[0].friendly_name} ({DEMO_SERVICES[0].sid})")).to_be_checked()
    expect(page.get_by_label("Incoming number for practice", exact=True)).to_have_value(DEMO_SERVICES[0].numbers[0])
    expect(page.locator("#express")).to_contain_text("https://old-platform.example/twilio/inbound")  # Twilio's now
    expect(page.get_by_label("Test recipient")).to_have_value(PRACTICE_PHONE)
    if page.javascript:  # changed in place (not counted: the walk takes the proposal as it is)
        mark_page(page)
        page.get_by_label(f"{DEMO_SERVICES[1].friendly_name} ({DEMO_SERVICES[1].sid})").check()
        expect(page.get_by_label("Incoming number for practice", exact=True)).to_have_value(DEMO_SERVICES[1].numbers[0])
        page.get_by_label(f"{DEMO_SERVICES[0].friendly_name} ({DEMO_SERVICES[0].sid})").check()
        expect(page.get_by_label("Incoming number for practice", exact=True)).to_have_value(DEMO_SERVICES[0].numbers[0])
        htmx_settled(page)
        assert_not_reloaded(page)
    mark_page(page)
    act.click(page.get_by_role("button", name="Set it all up"))

    expect(page.get_by_role("heading", name="Everything is set up")).to_be_visible()
    status = page.locator("#message-status")
    if not page.javascript:
        assert app.extensions[transport.EXTENSION].wait_until_idle(15)
        if page.get_by_role("link", name="Check again").count():
            act.click(page.get_by_role("link", name="Check again"))
    expect(status).to_contain_text("delivered to the phone")
    assert_not_reloaded(page)
    simulator = app.extensions[transport.EXTENSION]
    with simulator.world() as world:
        account_sid = service_account(world)
        service = world.accounts[account_sid].services[DEMO_SERVICES[0].sid]
    assert service.inbound_request_url.endswith("/inbound") and "old-platform" not in service.inbound_request_url
    applied = simulator.requests_matching(method="POST", path=f"/v1/Services/{DEMO_SERVICES[0].sid}")
    assert applied[-1].form["InboundRequestUrl"] == service.inbound_request_url
    sent = simulator.requests_matching(method="POST", path=f"/2010-04-01/Accounts/{account_sid}"
                                                            "/Messages.json")
    assert sent[-1].form["To"] == PRACTICE_PHONE and sent[-1].form["MessagingServiceSid"] == DEMO_SERVICES[0].sid

    print(f"\nexpress setup interactions from the account step to a delivered message "
          f"(JavaScript {'on' if page.javascript else 'off'}): {act.count}")
    assert act.count <= MOST_INTERACTIONS
    assert fake_twilio.requests == []  # practice: nothing went to the Twilio base URL


def service_account(world):
    return next(sid for sid, account in world.accounts.items() if DEMO_SERVICES[0].sid in account.services)


def test_express_setup_proposes_a_number_for_each_sandbox(any_page, app, fake_twilio):
    page, act = any_page, Interactions()
    practice, europe = practice_sandbox(app, "practice"), practice_sandbox(app, "practice eu")
    create_admin(app)
    sign_in(page)
    page.goto("/setup")
    page.get_by_role("button", name="Try it with practice data (no Twilio account)").first.click()
    page.get_by_role("button", name="Next").click()
    act.click(page.get_by_role("button", name="Next"))
    act.click(page.get_by_role("button", name="Set up everything on one screen"))

    expect(page.get_by_label("Use in sandbox practice", exact=True)).to_be_checked()
    expect(page.get_by_label("Use in sandbox practice eu", exact=True)).to_be_checked()
    expect(page.get_by_label("Use in sandbox prod", exact=True)).not_to_be_checked()  # a real one: left out
    first, second = DEMO_SERVICES[0].numbers
    expect(page.get_by_label("Incoming number for practice", exact=True)).to_have_value(first)
    expect(page.get_by_label("Incoming number for practice eu", exact=True)).to_have_value(second)
    act.select(page.get_by_label("Incoming number for practice eu", exact=True), DEMO_UNASSIGNED_NUMBER)
    mark_page(page)
    act.click(page.get_by_role("button", name="Set it all up"))

    expect(page.get_by_role("heading", name="Everything is set up")).to_be_visible()
    expect(page.locator("#express")).to_contain_text("Sandbox practice eu")
    if page.javascript:
        assert_not_reloaded(page)
    simulator = app.extensions[transport.EXTENSION]
    with simulator.world() as world:
        account = world.accounts[service_account(world)]
    added, = simulator.requests_matching(method="POST", path=f"/v1/Services/{DEMO_SERVICES[0].sid}/PhoneNumbers")
    assert account.incoming_numbers[added.form["PhoneNumberSid"]].phone_number == DEMO_UNASSIGNED_NUMBER
    with app.app_context(), database.connection_context():
        assert ApiCredential.get().numbers_by_sandbox() == {practice: first, europe: DEMO_UNASSIGNED_NUMBER}
    print(f"\nexpress setup with two sandboxes, one number changed (JavaScript {'on' if page.javascript else 'off'}): "
          f"{act.count} interactions")
