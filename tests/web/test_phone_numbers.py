"""Phone numbers are validated by libphonenumber (the phonenumbers package), not a regex: a number
must be valid in its country, digits of any script are stored as 0-9, and wherever an admin picks
a number it is shown formatted, with its country, in the reader's language."""
import html
import re

import pytest

from tests.support.channels import form_data
from tests.support.factories import make_credential
from tests.support.guided import step_url, walk_to
from tests.support.html import field_error, text
from tests.support.queries import edit_data, stored
from wizard.core.db import database
from wizard.core.models import Sandbox

NOT_VALID = ("This is not a valid phone number: check the country code and the number of digits, "
             "e.g. +1 415-555-0101.")
ARABIC_INDIC = "+١٤١٥٥٥٥٠١٠٢"  # +14155550102 in Arabic-Indic digits
US = "+1 415-555-0101 · United States"


def error_of(response, field_id):
    found = field_error(text(response), field_id)
    return html.unescape(found) if found is not None else None


@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio)


@pytest.mark.parametrize("typed", ["+12345", "+1 415 555 010", "+999 4155550101", "+44 20 7183 875"])
def test_a_number_invalid_in_its_country_is_refused_beside_the_field(signed_in, app, credential, typed):
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, numbers={"prod": typed}))
    assert response.status_code == 422
    assert error_of(response, "number_1") == NOT_VALID
    assert f'value="{typed}"' in text(response)  # what was typed stays
    assert stored(app, credential).stored_numbers == {"prod": "+14155550101"}


def test_letters_are_not_read_as_digits(signed_in, app, credential):
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential,
                                                                      numbers={"prod": "+1 800 FLOWERS"}))
    assert response.status_code == 422
    assert error_of(response, "number_1") == ("A phone number has only digits, spaces and + - ( ) ., "
                                              "e.g. +1 415-555-0101.")


@pytest.mark.parametrize("typed", [ARABIC_INDIC, "+1 (415) 555-0102", "＋１ ４１５ ５５５ ０１０２"])
def test_a_valid_number_is_stored_in_e164_with_ascii_digits(signed_in, app, credential, fake_twilio, typed):
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, numbers={"prod": typed}))
    assert response.status_code == 303, error_of(response, "number_1")
    assert stored(app, credential).stored_numbers == {"prod": "+14155550102"}


@pytest.mark.parametrize("typed, message", [
    ("+12345", NOT_VALID),
    ("0912 345 678", "Start the number with + and its country code, e.g. +1 415-555-0101."),
])
def test_the_test_message_recipient_is_checked_before_twilio_is_asked(signed_in, fake_twilio, credential, typed,
                                                                      message):
    signed_in.get(f"/credentials/{credential}/verify")
    fake_twilio.clear_requests()
    response = signed_in.post(f"/credentials/{credential}/verify", {"number": typed, "message": "Hi"})
    assert response.status_code == 422
    assert error_of(response, "number") == message
    assert fake_twilio.requests_matching("POST") == []


def test_the_guided_numbers_step_refuses_an_invalid_number(signed_in, fake_twilio):
    numbers = step_url(walk_to(signed_in, fake_twilio, upto="numbers"), "numbers")
    signed_in.get(numbers)
    response = signed_in.post(numbers, {"use_1": "y", "number_1": "+12345"})
    assert response.status_code == 422
    assert error_of(response, "number_1") == NOT_VALID


def test_the_guided_numbers_step_offers_the_numbers_formatted_with_their_country(signed_in, fake_twilio):
    numbers = step_url(walk_to(signed_in, fake_twilio, upto="numbers"), "numbers")
    page = text(signed_in.get(numbers))
    assert f'<option value="+14155550101">{US} · in the Messaging Service</option>' in page
    assert f"Numbers of the Messaging Service: {US}, +1 415-555-0102 · United States" in page


def test_a_chosen_sender_number_is_shown_formatted_with_its_country(signed_in, app, credential):
    page = text(signed_in.get("/channels/new"))
    assert f'<option value="+14155550101">{US}</option>' in page
    signed_in.post("/channels/new", form_data(credential))
    row = re.search(r'<tr id="channel-\d+">.*?</tr>', text(signed_in.get("/channels")), re.S).group(0)
    assert US in row


def test_number_lists_show_the_country_in_traditional_chinese_too(signed_in, app, fake_twilio):
    make_credential(app, fake_twilio, numbers={"prod": "+14155550101", "dev": "+886912345678"})
    page = text(signed_in.get("/credentials", headers={"Accept-Language": "zh-TW"}))
    assert "prod: +1 415-555-0101 · 美國" in page and "dev: +886 912 345 678 · 台灣" in page
    page = text(signed_in.get("/credentials"))
    assert "prod: +1 415-555-0101 · United States" in page and "dev: +886 912 345 678 · Taiwan" in page


def test_the_keyword_pages_chooser_shows_numbers_with_their_country(signed_in, app, fake_twilio):
    make_credential(app, fake_twilio, name="First")
    make_credential(app, fake_twilio, name="Second", numbers={"prod": "+442071838750"})
    page = text(signed_in.get("/keywords"))
    assert f"First ({US})" in page and "Second (+44 20 7183 8750 · United Kingdom)" in page


def test_the_practice_reply_form_offers_numbers_with_their_country(signed_in, app, fake_twilio):
    with app.app_context(), database.connection_context():
        sandbox = Sandbox.create(name="practice", name_key="practice", is_practice=True)
    make_credential(app, fake_twilio, name="Demo", numbers={"practice": "+14155550101"})
    signed_in.get("/sandboxes")
    signed_in.post("/sandboxes/current", {"sandbox": sandbox.id, "next": "/sandboxes"})
    page = text(signed_in.get("/practice"))
    assert re.search(rf'<option[^>]*value="\d+">{re.escape(US)} · Demo</option>', page), page
