"""Names shown to other admins refuse bidi controls (U+202A-U+202E, U+2066-U+2069) and other
invisible format characters, with the message beside the field: a sandbox named with U+202E
would show reversed in the header of every page."""
import html

import pytest

from tests.support.custom_provider import new_data
from tests.support.custom_webhooks import inbound_form
from tests.support.factories import make_credential
from tests.support.html import field_error, text
from tests.support.queries import edit_data
from wizard.core.db import database
from wizard.core.models import ApiCredential, CustomWebhook, KeywordRule, Sandbox, User

INVISIBLE = [
    ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("\u202a", "U+202A (LEFT-TO-RIGHT EMBEDDING)"),
    ("\u2066", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
    ("\u2069", "U+2069 (POP DIRECTIONAL ISOLATE)"),
    ("\u200b", "U+200B (ZERO WIDTH SPACE)"),
    ("\u200f", "U+200F (RIGHT-TO-LEFT MARK)"),
    ("\ufeff", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
    ("\u2028", "U+2028 (LINE SEPARATOR)"),
]


def message(what, described):
    return (f"{what} cannot contain the invisible character {described}, which can make text show differently "
            "from what it is. Type it again rather than pasting it.")


def count(app, model):
    with app.app_context(), database.connection_context():
        return model.select().count()


@pytest.mark.parametrize("character, described", INVISIBLE)
def test_a_sandbox_name_with_an_invisible_character_is_refused_beside_the_field(signed_in, app, character,
                                                                                 described):
    signed_in.get("/sandboxes")
    before = count(app, Sandbox)
    for htmx in (False, True):
        response = signed_in.post("/sandboxes", {"name": f"prod{character}ved"}, htmx=htmx)
        assert response.status_code == 422
        assert html.unescape(field_error(text(response), "name")) == message("A sandbox name", described)
        assert f'value="prod{character}ved"' in text(response)  # what was typed stays
    assert count(app, Sandbox) == before


def test_a_twilio_credential_name_with_a_bidi_override_is_refused(signed_in, app, fake_twilio):
    credential_id = make_credential(app, fake_twilio)
    signed_in.get(f"/credentials/{credential_id}")
    response = signed_in.post(f"/credentials/{credential_id}", edit_data(app, credential_id, name="Main\u202eoilwT"))
    assert response.status_code == 422
    assert html.unescape(field_error(text(response), "name")) == message(
        "A name", "U+202E (RIGHT-TO-LEFT OVERRIDE)")


def test_custom_credential_and_provider_names_with_invisible_characters_are_refused(signed_in, app,
                                                                                    provider_endpoint):
    signed_in.get("/credentials/custom/new")
    response = signed_in.post("/credentials/custom/new", new_data(app, provider_endpoint, name="Acme\u2066 RCS",
                                                                  provider_name="Ac\u200bme"))
    assert response.status_code == 422
    page = html.unescape(text(response))
    assert field_error(page, "name") == message("A name", "U+2066 (LEFT-TO-RIGHT ISOLATE)")
    assert field_error(page, "provider_name") == message("A provider name", "U+200B (ZERO WIDTH SPACE)")
    assert count(app, ApiCredential) == 0


def test_a_custom_webhook_name_with_a_bidi_override_is_refused(signed_in, app, fake_twilio):
    credential_id = make_credential(app, fake_twilio)
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential_id, name="RCS\u202e inbound"))
    assert response.status_code == 422
    assert html.unescape(field_error(text(response), "name")) == message(
        "A name", "U+202E (RIGHT-TO-LEFT OVERRIDE)")
    assert count(app, CustomWebhook) == 0


def test_a_keyword_with_a_zero_width_space_is_refused(signed_in, app, fake_twilio):
    credential_id = make_credential(app, fake_twilio)
    signed_in.get(f"/keywords?credential={credential_id}")
    before = count(app, KeywordRule)
    response = signed_in.post(f"/keywords/rules?credential={credential_id}",
                              {"new-category": "custom", "new-keywords": "hours, ST\u200bOP", "new-reply": "Hi"})
    assert response.status_code == 422
    assert html.unescape(field_error(text(response), "new-keywords")) == message(
        "A keyword", "U+200B (ZERO WIDTH SPACE)")
    assert count(app, KeywordRule) == before


def test_an_admin_email_with_a_bidi_override_is_refused(signed_in, app):
    signed_in.get("/admins")
    response = signed_in.post("/admins", {"email": "admin@exa\u202emple.com", "password": "x" * 16})
    assert response.status_code == 422
    assert html.unescape(field_error(text(response), "email")) == message(
        "An email address", "U+202E (RIGHT-TO-LEFT OVERRIDE)")
    assert count(app, User) == 1


def test_visible_names_in_any_script_are_fine(signed_in, app):
    signed_in.get("/sandboxes")
    for name in ("測試沙箱", "بيئة الاختبار", "Ünïcödé 🚀"):
        response = signed_in.post("/sandboxes", {"name": name})
        assert response.status_code == 303, field_error(text(response), "name")


def test_the_message_is_in_traditional_chinese_too(signed_in):
    signed_in.get("/sandboxes")
    response = signed_in.post("/sandboxes", {"name": "prod\u202eved"}, headers={"Accept-Language": "zh-TW"})
    assert html.unescape(field_error(text(response), "name")) == (
        "沙箱名稱不能包含看不見的字元 U+202E (RIGHT-TO-LEFT OVERRIDE)，這類字元會讓文字顯示得與實際內容不同。"
        "請重新輸入，不要貼上。")
