"""The guided flow "Set up RCS with Twilio": four steps, live checks against the fake Twilio,
the custom credential with the Twilio RCS preset and a real test request, the RCS channel."""
import base64
import html
import json
import re

import pytest

from tests.support.custom_provider import JSON_TEMPLATE, make_custom
from tests.support.factories import make_channel_configuration, make_credential
from tests.support.guided import RCS_CONSOLE, start_rcs
from tests.support.html import field_error, text
from tests.support.provider_endpoints import Answer
from wizard.core.models import ApiCredential, ChannelConfiguration, CredentialNumber
from wizard.providers.custom.settings import REDACTED


@pytest.fixture
def twilio_credential(app, fake_twilio):
    return make_credential(app, fake_twilio, name="Twilio prod")


def test_the_whole_rcs_flow_with_the_preset_ends_with_an_active_channel(signed_in, fake_twilio,
                                                                          twilio_credential, in_app):
    base = start_rcs(signed_in)
    signed_in.get(f"{base}/register")
    response = signed_in.post(f"{base}/register", {"twilio_credential": str(twilio_credential), **RCS_CONSOLE,
                                                    "rcs_sender_id": "rcs:acme_agent"})
    assert response.status_code == 303, text(response)
    page = text(signed_in.get(f"{base}/webhook"))
    assert "/hooks/twilio/" in page and "Waiting for the first event" in page
    assert signed_in.post(f"{base}/webhook", {}).status_code == 303

    page = text(signed_in.post(f"{base}/credential", {"action": "preset"}))
    assert f"https://api.twilio.com/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json" in page
    assert fake_twilio.auth_token not in page
    form = {"name": "Twilio RCS", "provider_name": "Twilio",
            "provider_url": f"https://api.twilio.com/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json",
            "auth_type": "basic", "basic_username": fake_twilio.account_sid, "basic_password": "",
            "payload_format": "form",
            "payload_template": (f"To={{{{toNumber}}}}&MessagingServiceSid={fake_twilio.service_sid}"
                                 "&Body={{message}}"),
            "test_number": "+886912345678", "test_message": "Hello RCS"}
    response = signed_in.post(f"{base}/credential", {**form, "action": "test"})
    page = text(response)
    assert "201" in page, page[-3000:]
    assert fake_twilio.auth_token not in page and "••••redacted" in page
    [sent] = fake_twilio.requests_matching(
        method="POST", path=f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json")
    assert sent.form["To"] == "+886912345678" and sent.form["Body"] == "Hello RCS"
    assert signed_in.post(f"{base}/credential", form).status_code == 303

    response = signed_in.post(f"{base}/channel", {"name": "RCS_Marketing", "sms_type": "marketing",
                                                   "execution_field": "mobilePhone.number"})
    assert response.status_code == 303
    review = text(signed_in.get(f"{base}/review"))
    assert "RCS_Marketing" in review and "answered 2xx" in review
    response = signed_in.post(f"{base}/review")
    assert response.status_code == 303
    with in_app():
        custom = ApiCredential.get(ApiCredential.vendor == "custom")
        assert custom.auth_type == "basic" and custom.verification_state == "verified"
        assert fake_twilio.auth_token in custom.auth_secrets  # decrypted on read; encrypted at rest
        channel = ChannelConfiguration.get()
        assert (channel.channel, channel.status, channel.credential_id) == ("rcs", "active", custom.id)
        fallback = CredentialNumber.get(CredentialNumber.credential == twilio_credential)
        assert channel.sender_number == fallback.phone_number
    assert "RCS_Marketing" in text(signed_in.get(response.headers["Location"]))


def test_a_trial_account_fails_the_registration_check_with_how_to_fix_it(signed_in, fake_twilio, twilio_credential):
    fake_twilio.accounts[fake_twilio.account_sid].type = "Trial"
    base = start_rcs(signed_in)
    response = signed_in.post(f"{base}/register", {"twilio_credential": str(twilio_credential)})
    assert response.status_code == 422
    assert "RCS needs a paid account" in field_error(text(response), "twilio_credential")
    checks = text(signed_in.post(f"{base}/register", {"twilio_credential": str(twilio_credential),
                                                       "action": "check_live"}, htmx=True))
    assert "✗" in checks and "✓" in checks


def test_checklist_ticks_are_saved_one_by_one(signed_in, twilio_credential):
    base = start_rcs(signed_in)
    signed_in.get(f"{base}/register")
    response = signed_in.post(f"{base}/register", {"twilio_credential": str(twilio_credential),
                                                    "sender_created": "y", "action": "save"}, htmx=True)
    assert response.status_code == 204
    page = text(signed_in.get(f"{base}/register"))
    assert 'checked id="sender_created"' in page or 'id="sender_created" checked' in page or (
        'checked' in page.split('id="sender_created"')[0].rsplit("<input", 1)[1])


def test_custom_credential_errors_are_shown_next_to_fields(signed_in, app, twilio_credential):
    app.config["ALLOW_PRIVATE_PROVIDER_URLS"] = False
    base = start_rcs(signed_in)
    signed_in.post(f"{base}/register", {"twilio_credential": str(twilio_credential), **RCS_CONSOLE})
    signed_in.post(f"{base}/webhook", {})
    response = signed_in.post(f"{base}/credential", {
        "name": "Bad", "provider_name": "X", "provider_url": "http://127.0.0.1/send", "auth_type": "bearer",
        "bearer_token": "", "payload_format": "json",
        "payload_template": '{"to": "{{toNumber}}", "text": "{{message}}"',
        "headers-0-name": "X-Bad Header", "headers-0-value": "ok"})
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, "provider_url")
    assert field_error(page, "bearer_token")
    assert "line 1" in field_error(page, "payload_template")
    assert field_error(page, "headers-0-name")


def test_leaving_and_resuming_keeps_every_step(signed_in, twilio_credential):
    base = start_rcs(signed_in)
    signed_in.post(f"{base}/register", {"twilio_credential": str(twilio_credential), **RCS_CONSOLE})
    signed_in.post(f"{base}/webhook", {})
    signed_in.post(f"{base}/credential", {"action": "preset"})
    page = text(signed_in.get("/setup"))
    assert "Set up RCS with Twilio" in page and "Resume" in page
    resumed = text(signed_in.get(f"{base}/credential"))
    assert "Messages.json" in resumed


ECHO_USER, ECHO_SECRET = "acct-user", "rcs-echo-Secret-9f8e7d6c5b4a"


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def echo_secret(request) -> Answer:
    """A provider that echoes what it got: the Basic auth header, and the password in it, in plain
    text and base64, in its answer's headers and body."""
    authorization = request.header("Authorization")
    secret = base64.b64decode(authorization.split(" ", 1)[1]).decode().split(":", 1)[1]
    return Answer(200, json.dumps({"echo": secret, "echo_b64": b64(secret)}).encode(),
                  [("Content-Type", "application/json"), ("X-Echo-Key", secret), ("X-Echo-Key-B64", b64(secret)),
                   ("X-Echo-Authorization", authorization)])


def shown_answer(page: str) -> str:
    """The provider's answer as the page shows it (headers and body), without its Date header."""
    match = re.search(r"<h4>Provider.*?</h4>\s*<pre class=\"request\">(.*?)</pre>", page, re.DOTALL)
    assert match, page[-3000:]
    return "\n".join(line for line in html.unescape(match.group(1)).split("\n") if not line.startswith("Date:"))


def test_a_provider_echoing_the_secret_is_shown_redacted_on_both_test_pages(signed_in, app, provider_endpoint,
                                                                           twilio_credential):
    provider_endpoint.route("/send", echo_secret)
    spellings = [ECHO_SECRET, b64(ECHO_SECRET), b64(f"{ECHO_USER}:{ECHO_SECRET}")]

    base = start_rcs(signed_in)
    signed_in.post(f"{base}/register", {"twilio_credential": str(twilio_credential), **RCS_CONSOLE})
    signed_in.post(f"{base}/webhook", {})
    response = signed_in.post(f"{base}/credential", {
        "name": "Echo RCS", "provider_name": "Local", "provider_url": provider_endpoint.url("/send"),
        "auth_type": "basic", "basic_username": ECHO_USER, "basic_password": ECHO_SECRET,
        "payload_format": "json", "payload_template": JSON_TEMPLATE, "test_number": "+14155550123",
        "test_message": "Hello", "action": "test"})
    rcs_page = text(response)
    assert len(provider_endpoint.requests_to("/send")) == 1

    credential = make_custom(app, provider_endpoint, name="Echo provider", auth_type="basic",
                             auth_settings={"basic_username": ECHO_USER},
                             auth_secrets={"basic_password": ECHO_SECRET}, headers=[])
    signed_in.get(f"/credentials/{credential}/test")
    credential_page = text(signed_in.post(f"/credentials/{credential}/test",
                                          {"number": "+14155550123", "message": "Hello"}))
    assert len(provider_endpoint.requests_to("/send")) == 2

    for page in (rcs_page, credential_page):
        answer = shown_answer(page)
        assert f"X-Echo-Key: {REDACTED}" in answer and f"X-Echo-Key-B64: {REDACTED}" in answer
        assert f"X-Echo-Authorization: {REDACTED}" in answer
        assert f'{{"echo": "{REDACTED}", "echo_b64": "{REDACTED}"}}' in answer
        for spelling in spellings:
            assert spelling not in page and spelling not in html.unescape(page)
    assert shown_answer(rcs_page) == shown_answer(credential_page)


def test_the_channel_name_is_unique_in_the_setup_sandbox_only(signed_in, app, fake_twilio, twilio_credential):
    dev = make_credential(app, fake_twilio, name="Twilio dev", numbers={"dev": "+14155550102"})
    make_channel_configuration(app, dev, name="RCS_Dev", sandbox="dev")
    make_channel_configuration(app, twilio_credential, name="RCS_Prod")
    base = start_rcs(signed_in)
    signed_in.get(f"{base}/register")
    assert signed_in.post(f"{base}/register", {"twilio_credential": str(twilio_credential), **RCS_CONSOLE,
                                               "rcs_sender_id": "rcs:acme_agent"}).status_code == 303
    assert signed_in.post(f"{base}/webhook", {}).status_code == 303
    response = signed_in.post(f"{base}/credential", {
        "name": "Twilio RCS", "provider_name": "Twilio", "provider_url": "https://rcs.example.com/send",
        "auth_type": "api_key", "api_key_header": "X-API-Key", "api_key": "k-1234567890", "payload_format": "json",
        "payload_template": JSON_TEMPLATE})
    assert response.status_code == 303, text(response)
    channel = {"name": "rcs_prod", "sms_type": "marketing", "execution_field": "mobilePhone.number"}
    response = signed_in.post(f"{base}/channel", channel)
    assert response.status_code == 422, response.headers.get("Location")
    assert field_error(text(response), "name") == (
        "A channel configuration with this name already exists in this sandbox.")
    response = signed_in.post(f"{base}/channel", {**channel, "name": "RCS_DEV"})  # dev's name is free in prod
    assert response.status_code == 303, text(response)
