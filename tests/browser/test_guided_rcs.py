"""In Chromium: the four-step RCS flow against the fake Twilio and a local provider endpoint,
with the Twilio RCS preset and with a hand-filled credential, leaving and resuming, with
JavaScript on and off. The RCS channel configuration ends Active."""
import json

from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import htmx_settled, sign_in
from tests.support.factories import make_credential


def start_rcs(page, app, fake_twilio):
    create_admin(app)
    make_credential(app, fake_twilio, name="Twilio prod")
    sign_in(page)
    page.goto("/setup")
    page.locator("article", has_text="Set up RCS with Twilio").get_by_role("button", name="Start").click()


def register(page):
    page.locator("#twilio_credential").select_option(label="Twilio prod")
    page.get_by_role("button", name="Run the checks").click()
    expect(page.locator("#rcs-checks")).to_contain_text("The account is paid (Full), not Trial")
    htmx_settled(page)
    for label in ("Create the RCS sender", "Test it on devices", "Submit it for carrier approval", "Get approved",
                  "Add the RCS sender to the Messaging Service's sender pool"):
        page.get_by_label(label).check()
    page.locator("#rcs_sender_id").fill("rcs:acme_agent")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Create the SMS webhook")).to_be_visible()
    expect(page.locator("#rcs-inbound-url")).to_have_value(page.locator("#rcs-inbound-url").input_value())
    expect(page.locator(".waiting-panel")).to_contain_text("Waiting for the first event")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Create the API credential with vendor Custom")).to_be_visible()


def channel_and_finish(page, name):
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Create the RCS channel configuration")).to_be_visible()
    expect(page.locator("#step-body")).to_contain_text("SMS fallback")
    page.locator("#name").fill(name)
    page.locator("#sms_type").select_option("transactional")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("main")).to_contain_text(name)
    expect(page.locator("main")).to_contain_text("Active")


def test_rcs_with_the_twilio_preset(any_page, app, fake_twilio):
    page = any_page
    start_rcs(page, app, fake_twilio)
    register(page)
    if page.javascript:
        page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="Use the Twilio RCS preset").click()
    expect(page.locator("#provider_url")).to_have_value(
        f"https://api.twilio.com/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json")
    expect(page.locator("#auth_type")).to_have_value("basic")
    if page.javascript:
        htmx_settled(page)
        expect(page.locator("#request-preview pre")).to_contain_text("Authorization: ••••redacted")
    else:
        page.get_by_role("button", name="Preview the request").click()
        expect(page.locator("#request-preview pre")).to_contain_text("Authorization: ••••redacted")
    page.locator("#test_number").fill("+886912345678")
    page.locator("#test_message").fill("Hello from the preset")
    page.get_by_role("button", name="Send test request").click()
    expect(page.locator("#test-result")).to_contain_text("201")
    expect(page.locator("#test-result")).not_to_contain_text(fake_twilio.auth_token)
    if page.javascript:
        assert page.evaluate("window.__noReload === true")
    assert fake_twilio.requests_matching(method="POST")[-1].form["Body"] == "Hello from the preset"
    channel_and_finish(page, "RCS_Preset")


def test_rcs_with_a_hand_filled_credential_left_and_resumed(page, app, fake_twilio, provider_endpoint):
    provider_endpoint.answer("/v1/rcs/send", 200, b'{"id": "msg-1"}')
    start_rcs(page, app, fake_twilio)
    register(page)
    page.locator("#name").fill("Acme RCS")
    page.locator("#provider_name").fill("Acme messaging")
    page.locator("#provider_url").fill(provider_endpoint.url("/v1/rcs/send"))
    page.locator("#auth_type").select_option("api_key")
    htmx_settled(page)
    page.locator("#api_key_header").fill("X-Api-Key")
    page.locator("#api_key").fill("k-123456")
    page.get_by_role("button", name="Add a header").click()
    htmx_settled(page)
    page.locator("input[name='headers-0-name']").fill("X-Tenant")
    page.locator("input[name='headers-0-value']").fill("acme")
    page.locator("#payload_format").select_option("json")
    page.locator("#payload_template").fill('{"from": "{{fromNumber}}", "to": "{{toNumber}}", "text": "{{message}}"}')
    page.locator("#payload_template").blur()
    htmx_settled(page)

    # Leave and resume: everything typed is still there, the key kept but not shown.
    page.get_by_role("button", name="Back").click()
    page.goto("/setup")
    page.locator("tr", has_text="Set up RCS with Twilio").get_by_role("button", name="Resume").click()
    expect(page.get_by_role("heading", name="Create the API credential with vendor Custom")).to_be_visible()
    expect(page.locator("#provider_url")).to_have_value(provider_endpoint.url("/v1/rcs/send"))
    expect(page.locator("#api_key")).to_have_value("")
    expect(page.locator("input[name='headers-0-value']")).to_have_value("acme")

    page.locator("#test_number").fill("+886912345678")
    page.locator("#test_message").fill('Say "hi" 你好')
    page.get_by_role("button", name="Send test request").click()
    expect(page.locator("#test-result")).to_contain_text("200")
    [received] = provider_endpoint.requests_to("/v1/rcs/send")
    assert received.header("X-Api-Key") == "k-123456" and received.header("X-Tenant") == "acme"
    assert json.loads(received.body) == {"from": fake_twilio.service_numbers[0], "to": "+886912345678",
                                         "text": 'Say "hi" 你好'}
    channel_and_finish(page, "RCS_Acme")
