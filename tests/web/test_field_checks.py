"""Every page that checks a field as the admin leaves it (`?_field=NAME`) answers from the one
template, _checked_field.html: the field's wrapper again, through _field.html's field(), with its
help (the field's description), its message and the same check on it; 422 for a bad value, 200
for a good one. A password field is the exception: its answer is its feedback alone."""
import re

import pytest

from tests.support.channels import form_data
from tests.support.custom_provider import new_data
from tests.support.custom_webhooks import inbound_form
from tests.support.factories import make_credential
from tests.support.guided import RCS_CONSOLE, start_rcs, step_url, walk_to
from tests.support.html import field_error, text
from tests.support.queries import edit_data

CHECK = ('hx-post="{url}?_field={name}"', 'hx-trigger="change"', 'hx-target="#field-{id}"', 'hx-swap="outerHTML"',
         'hx-sync="this:replace"')


@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio)


def control(html_text, field_id):
    """The field's input, select or textarea tag."""
    return re.search(rf'<(?:input|select|textarea)[^>]*\sid="{field_id}"[^>]*>', html_text).group(0)


def check_attributes(tag):
    return sorted(re.findall(r'\shx-[a-z]+="[^"]*"', tag))


def assert_one_template(response, status, field_id, name, url, help_text, message=None):
    """The answer is the field's wrapper from field(): label, control with its check, help, feedback."""
    assert response.status_code == status
    fragment = text(response).strip()
    assert "<html" not in fragment
    assert re.fullmatch(
        rf'<div class="field" id="field-{field_id}">\s*<label for="{field_id}">[^<]*</label>\s*'
        rf'<(input|select|textarea)[^>]*>.*?(</select>|</textarea>)?\s*'
        rf'<small id="{field_id}-help" class="help">[^<]*</small>\s*'
        rf'<div id="{field_id}-feedback" class="feedback" aria-live="polite">'
        r'(<small[^>]*>[^<]*</small>)?</div>\s*</div>',
        fragment, re.S), fragment
    tag = control(fragment, field_id)
    for attribute in CHECK:
        assert attribute.format(url=url, name=name, id=field_id) in tag
    assert re.search(rf'<small id="{field_id}-help" class="help">{re.escape(help_text)}</small>', fragment)
    if message is None:
        assert field_error(fragment, field_id) is None and 'aria-invalid' not in tag
    else:
        assert message in field_error(fragment, field_id) and 'aria-invalid="true"' in tag
    return tag


def walk(client, page_url, check_url, field_id, name, bad, good, message, help_text):
    """Open the page, check the field with a bad then a good value; both answers are the one template's
    and the answer's control carries the page's own check."""
    page = text(client.get(page_url))
    page_tag = control(page, field_id)
    bad_tag = assert_one_template(client.post(f"{check_url}?_field={name}", bad, htmx=True), 422, field_id, name,
                                  check_url, help_text, message)
    good_tag = assert_one_template(client.post(f"{check_url}?_field={name}", good, htmx=True), 200, field_id, name,
                                   check_url, help_text)
    assert check_attributes(page_tag) == check_attributes(bad_tag) == check_attributes(good_tag)


def test_a_channel_configuration_field(signed_in, credential):
    walk(signed_in, "/channels/new", "/channels/new", "name", "name",
         form_data(credential, name="9lives"), form_data(credential), "A name starts with a letter, A to Z.",
         "Starts with a letter A-Z, then letters, digits and _ . -; up to 128 characters, unique in this sandbox.")


def test_a_twilio_credential_field(signed_in, app, fake_twilio, credential):
    url = f"/credentials/{credential}"
    walk(signed_in, url, url, "account_sid", "account_sid",
         edit_data(app, credential, account_sid="AC123"), edit_data(app, credential), "is 34 characters long",
         "AC followed by 32 hex digits, from the Account Info pane of the Twilio console.")


def test_a_custom_webhook_field(signed_in, credential):
    walk(signed_in, "/webhooks/custom/new", "/webhooks/custom/new", "hmac_header", "hmac_header",
         inbound_form(credential, hmac_header=""), inbound_form(credential),
         "Enter the name of the header that carries the signature.",
         "The request header the provider puts the signature in, e.g. X-Signature.")


def test_a_custom_credential_field(signed_in, app, provider_endpoint):
    walk(signed_in, "/credentials/custom/new", "/credentials/custom/new", "provider_url", "provider_url",
         new_data(app, provider_endpoint, provider_url="http://x.example"), new_data(app, provider_endpoint),
         "Use an https:// URL", "https only: the endpoint messages are sent to.")


def test_the_guided_sms_steps_fields(signed_in, fake_twilio, credential):
    first = walk_to(signed_in, fake_twilio, upto="credential")
    walk(signed_in, first, first, "name", "name", {"vendor": "twilio", "name": "main TWILIO"},
         {"vendor": "twilio", "name": "Twilio staging"}, "An API credential with this name already exists.",
         "Up to 128 characters, unique among API credentials.")
    first = walk_to(signed_in, fake_twilio, upto="account", name="Twilio two")
    account = step_url(first, "account")
    # The guided step words the help its own way; the answer keeps that wording.
    walk(signed_in, account, account, "account_sid", "account_sid", {"account_sid": "AC12"},
         {"account_sid": fake_twilio.account_sid}, "An Account SID is 34 characters long",
         "AC followed by 32 hex digits.")
    first = walk_to(signed_in, fake_twilio, upto="numbers", name="Twilio three")
    numbers = step_url(first, "numbers")
    walk(signed_in, numbers, numbers, "number_1", "number_1", {"use_1": "y", "number_1": "12"},
         {"use_1": "y", "number_1": fake_twilio.service_numbers[0]}, "Start the number with + and its country code",
         "E.164, e.g. +14155550101: a number of this Twilio account, best one in the Messaging Service's "
         "sender pool.")


def test_a_password_field_is_never_swapped_its_feedback_answers(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    account = step_url(first, "account")
    tag = control(text(signed_in.get(account)), "auth_token")
    assert f'hx-post="{account}?_field=auth_token"' in tag and 'hx-target="#auth_token-feedback"' in tag
    response = signed_in.post(f"{account}?_field=auth_token", {"auth_token": "123"}, htmx=True)
    assert response.status_code == 422
    fragment = text(response).strip()
    assert re.fullmatch(r'<div id="auth_token-feedback" class="feedback" aria-live="polite">'
                        r'<small id="auth_token-error" class="field-error">[^<]+</small></div>', fragment), fragment
    assert "123" not in fragment and "<input" not in fragment


def test_the_guided_rcs_steps_fields(signed_in, app, fake_twilio):
    twilio = make_credential(app, fake_twilio, name="Twilio prod")
    register = start_rcs(signed_in) + "/register"
    data = {"twilio_credential": str(twilio), **RCS_CONSOLE}
    walk(signed_in, register, register, "rcs_sender_id", "rcs_sender_id", {**data, "rcs_sender_id": "bad id!"},
         {**data, "rcs_sender_id": "brand_abc:rcs"}, "An RCS sender id has only letters, digits",
         "As the Twilio console shows it for the sender. Optional until the sender exists.")


def test_a_field_check_leaves_the_session_cookie_alone(signed_in, app, fake_twilio, credential):
    """A check that ends after a save must not put back the session it started with (the save's
    flash message lives there): it sets no cookie at all."""
    url = f"/credentials/{credential}?_field=name"
    response = signed_in.post(url, edit_data(app, credential, name="Renamed"), htmx=True)
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []
    save = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, name="Renamed"))
    assert save.status_code == 303
    assert any(c.startswith("session=") for c in save.headers.getlist("Set-Cookie"))  # the flash is in it
