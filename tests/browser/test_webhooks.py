"""In Chromium: a signed inbound "STOP" arrives while the Events page is open. The message
appears without a reload, and the consent register shows the number opted out."""
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin
from tests.support.factories import make_credential
from wizard.core.models import CredentialNumber


def test_a_signed_stop_shows_up_live_and_opts_the_number_out(page, app, fake_twilio, live_server, in_app):
    create_admin(app)
    credential_id = make_credential(app, fake_twilio)
    with in_app():
        key = CredentialNumber.get(CredentialNumber.credential == credential_id).webhook_key
    page.goto("/login")
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/events")
    page.evaluate("window.__noReload = true")

    # Twilio posts the inbound message to the live server, signed for the URL it called.
    url = f"{live_server.url}/hooks/twilio/{key}/inbound"
    params = {"MessageSid": "SM" + "5" * 32, "AccountSid": fake_twilio.account_sid, "From": "+886955000111",
              "To": fake_twilio.service_numbers[0], "Body": "STOP", "NumMedia": "0", "NumSegments": "1"}
    signature = RequestValidator(fake_twilio.auth_token).compute_signature(url, params)
    response = page.request.post(url, form=params, headers={"X-Twilio-Signature": signature})
    assert response.status == 200 and "<Message>" in response.text()

    expect(page.locator("#events")).to_contain_text("+886955000111", timeout=8000)
    expect(page.locator("#events")).to_contain_text("STOP")
    assert page.evaluate("window.__noReload === true")

    page.get_by_role("link", name="Consent register").click()
    row = page.locator("tr", has_text="+886955000111")
    expect(row).to_contain_text("Opted out")
