"""Custom-provider webhooks: creating them (Inbound and Feedback) through every rule of the form,
the write-only HMAC secret, edit conflicts, delete and the audit log; then the receiver, which
reads the provider's JSON by the sample's shape, checks signatures and refuses bad input."""
import hashlib
import hmac
import html
import io
import json
import logging
import os
import re
import subprocess

import pytest

from tests.support.custom_webhooks import FEEDBACK_SAMPLE, INBOUND_SAMPLE, PROD_NUMBER, inbound_form, make_webhook
from tests.support.factories import make_credential
from tests.support.html import field_error, text
from wizard.core.db import database
from wizard.core.models import (
    AuditEntry,
    Consent,
    ConsentEvent,
    CustomWebhook,
    InboundMessage,
    OutboundMessage,
    StatusEvent,
)
from wizard.providers.custom.shape import fill

SECRET = "shared-hmac-secret-8f3a2c"


def feedback_form(**changes):
    data = {"name": "RCS status", "type": "feedback", "credential": "", "sender_number": "",
            "payload": FEEDBACK_SAMPLE, "hmac_secret": "", "hmac_header": "X-Signature"}
    data.update(changes)
    return data


def webhook_named(app, name):
    with app.app_context(), database.connection_context():
        return CustomWebhook.get_or_none(CustomWebhook.name == name)


def count_webhooks(app):
    with app.app_context(), database.connection_context():
        return CustomWebhook.select().count()


def audit_of(app, webhook_id=None):
    with app.app_context(), database.connection_context():
        query = AuditEntry.select().where(AuditEntry.object_type == "CustomWebhook")
        if webhook_id is not None:
            query = query.where(AuditEntry.object_id == webhook_id)
        return list(query.order_by(AuditEntry.id))


def rows(app, model):
    with app.app_context(), database.connection_context():
        return list(model.select().order_by(model.id))


@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio, numbers={"prod": PROD_NUMBER})


# --- The list ---------------------------------------------------------------------------------

def test_the_list_starts_empty_and_warns_that_the_provider_cannot_reach_a_local_url(signed_in):
    page = text(signed_in.get("/webhooks/custom"))
    assert "<h1>Custom provider webhooks of sandbox prod</h1>" in page
    assert "Sandbox prod has no custom webhooks yet." in page
    assert 'href="/webhooks/custom/new"' in page
    assert "PUBLIC_BASE_URL is not set: these URLs use the address you browse with" in page


def test_the_list_shows_each_webhook_with_its_url_to_copy(signed_in, app, credential):
    app.config["PUBLIC_BASE_URL"] = "https://setup.example.com"
    inbound = make_webhook(app, credential, hmac_secret=SECRET)
    feedback = make_webhook(app, None, name="RCS status", type="feedback")
    page = text(signed_in.get("/webhooks/custom"))
    assert "PUBLIC_BASE_URL" not in page
    row = re.search(rf'<tr id="custom-webhook-{inbound.id}">(.*?)</tr>', page, re.S).group(1)
    assert "RCS inbound" in row and "Inbound" in row and "Main Twilio" in row
    assert "+1 415-555-0101 · United States" in row
    assert f'value="https://setup.example.com/hooks/custom/{inbound.key}" readonly' in row
    assert 'class="secondary copy-button" data-copy="#custom-webhook-url-' in row
    assert "<td>Set</td>" in row
    row = re.search(rf'<tr id="custom-webhook-{feedback.id}">(.*?)</tr>', page, re.S).group(1)
    assert "Feedback" in row and "<td>Not set</td>" in row
    assert SECRET not in page


def test_an_http_public_base_url_is_warned_about(signed_in, app, credential):
    app.config["PUBLIC_BASE_URL"] = "http://setup.example.com"
    make_webhook(app, credential)
    page = text(signed_in.get("/webhooks/custom"))
    assert "PUBLIC_BASE_URL is not https: the provider needs a public https address" in page
    assert 'value="http://setup.example.com/hooks/custom/' in page


def test_everything_is_scoped_to_the_current_sandbox(signed_in, app, credential):
    other = make_webhook(app, None, name="Dev status", type="feedback", sandbox="dev")
    make_webhook(app, credential)
    page = text(signed_in.get("/webhooks/custom"))
    assert "RCS inbound" in page and "Dev status" not in page
    response = signed_in.get(f"/webhooks/custom/{other.id}")
    assert response.status_code == 303 and response.headers["Location"] == "/webhooks/custom"
    assert "Webhook Dev status belongs to sandbox dev. Switch to that sandbox to open it." in text(
        signed_in.get("/webhooks/custom"))


def test_unknown_webhooks_are_404(signed_in):
    for url in ("/webhooks/custom/999", "/webhooks/custom/999/delete"):
        assert signed_in.get(url).status_code == 404


# --- Create --------------------------------------------------------------------------------------

def test_the_new_form_chooses_the_only_credential_and_its_number(signed_in, credential):
    page = text(signed_in.get("/webhooks/custom/new"))
    assert "<h1>New custom webhook</h1>" in page
    assert re.search(r'<option selected value="inbound">Inbound</option>', page)
    assert f'<option selected value="{credential}">Main Twilio</option>' in page
    assert f'<option selected value="{PROD_NUMBER}">+1 415-555-0101 · United States</option>' in page
    assert 'value="X-Signature"' in page
    assert "This type needs: {{InboundMessage}}, {{ProfileNumber}}, {{RequestID}}, {{OriginTimestamp}}, " \
           "{{InboundNumber}}." in html.unescape(page)
    assert "<form id=\"custom-webhook-form\" method=\"post\" action=\"/webhooks/custom/new\" novalidate" in page


def test_create_an_inbound_webhook(signed_in, app, credential):
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential))
    assert response.status_code == 303
    created = webhook_named(app, "RCS inbound")
    assert response.headers["Location"] == f"/webhooks/custom/{created.id}"
    assert (created.type, created.credential_id, created.sender_number, created.sandbox.name) == (
        "inbound", credential, PROD_NUMBER, "prod")
    assert created.payload == INBOUND_SAMPLE and created.hmac_secret is None and created.hmac_header == "X-Signature"
    assert len(created.key) >= 24
    page = text(signed_in.get(response.headers["Location"]))
    assert "Webhook RCS inbound created. Give the provider its URL." in page
    assert f'value="http://localhost/hooks/custom/{created.key}" readonly' in page
    assert 'data-copy="#custom-webhook-url"' in page
    [entry] = audit_of(app, created.id)
    assert entry.action == "create" and entry.actor == "admin@example.com"
    assert entry.changed_fields["credential"] == [None, "Main Twilio"]
    assert entry.changed_fields["type"] == [None, "inbound"]
    assert "hmac_secret" not in entry.changed_fields


def test_create_a_feedback_webhook_which_needs_no_credential(signed_in, app, credential):
    signed_in.get("/webhooks/custom/new")
    # Without JavaScript the credential fields were still on the page; a Feedback webhook ignores them.
    response = signed_in.post("/webhooks/custom/new", feedback_form(credential=str(credential),
                                                                    sender_number=PROD_NUMBER))
    assert response.status_code == 303
    created = webhook_named(app, "RCS status")
    assert (created.type, created.credential_id, created.sender_number) == ("feedback", None, "")
    page = text(signed_in.get(f"/webhooks/custom/{created.id}"))
    assert "This type needs: {{clientReference}}, {{code}}, {{status}}." in html.unescape(page)
    assert 'id="credential"' not in page  # the form of a Feedback webhook doesn't ask for one


BAD_INPUT = [
    ({"name": ""}, "name", "Enter a name for the webhook."),
    ({"name": "x" * 129}, "name", "A name has at most 128 characters."),
    ({"name": "Tab\there"}, "name", "A name cannot contain control characters."),
    ({"type": "sms"}, "type", "Choose Inbound or Feedback."),
    ({"credential": ""}, "credential", "Choose the API credential whose messages this webhook receives."),
    ({"credential": "999"}, "credential", "That API credential no longer exists. Choose another one."),
    ({"sender_number": ""}, "sender_number", "Choose the sender number."),
    ({"payload": ""}, "payload", "Paste the provider's sample JSON, with placeholders where the values are."),
    ({"payload": '{\n  "text": "{{InboundMessage}}",\n  "from": "{{ProfileNumber}}"\n  "id": 1\n}'}, "payload",
     "This is not valid JSON: Expecting ',' delimiter at line 4, column 3."),
    ({"payload": '["{{InboundMessage}}"]'}, "payload",
     "The payload is a JSON object: it starts with { and ends with }."),
    ({"payload": INBOUND_SAMPLE.replace('"{{RequestID}}"', '"r-1"')}, "payload",
     "{{RequestID}} is missing: put it where the provider's JSON has that value."),
    ({"payload": '{"a": "{{InboundMessage}}"}'}, "payload",
     "{{ProfileNumber}}, {{RequestID}}, {{OriginTimestamp}}, {{InboundNumber}} are missing: put each where the "
     "provider's JSON has that value."),
    ({"payload": INBOUND_SAMPLE.replace('"event": "message"', '"event": "{{RequestID}}"')}, "payload",
     "{{RequestID}} is used more than once (at $.event, $.message.id): a placeholder marks one place."),
    ({"payload": INBOUND_SAMPLE.replace('"event": "message"', '"event": "to {{InboundNumber}} now"')}, "payload",
     "{{InboundNumber}} at $.event is part of a longer text: a placeholder is the whole value, like "
     "\"{{InboundNumber}}\"."),
    ({"payload": '{"pad": "' + "x" * 70000 + '"}'}, "payload", "A payload has at most 64 KB; this one has 69 KB."),
    ({"hmac_header": ""}, "hmac_header", "Enter the name of the header that carries the signature."),
    ({"hmac_header": "X Signature"}, "hmac_header",
     "A header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~, with no spaces, e.g. X-Signature."),
    ({"hmac_header": "X-Sig\r\nX-Evil: 1"}, "hmac_header",
     "A header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~, with no spaces, e.g. X-Signature."),
    ({"hmac_header": "X" * 65}, "hmac_header", "A header name has at most 64 characters."),
    ({"hmac_secret": "bad\x00secret"}, "hmac_secret", "An HMAC secret cannot contain control characters."),
]


@pytest.mark.parametrize("changes, field, message", BAD_INPUT, ids=[f"{c[1]}-{i}" for i, c in enumerate(BAD_INPUT)])
def test_bad_input_gets_its_error_next_to_the_field_and_saves_nothing(signed_in, app, credential, changes, field,
                                                                       message):
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential, **changes))
    assert response.status_code == 422
    assert html.unescape(field_error(text(response), field)) == message
    assert count_webhooks(app) == 0


def test_feedback_payloads_need_their_own_placeholders(signed_in, app):
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", feedback_form(payload=INBOUND_SAMPLE))
    assert response.status_code == 422
    assert html.unescape(field_error(text(response), "payload")) == (
        "{{clientReference}}, {{code}}, {{status}} are missing: put each where the provider's JSON has that value.")


def test_names_are_unique_ignoring_case_in_a_sandbox_and_free_in_another(signed_in, app, credential):
    make_webhook(app, None, name="RCS Inbound", type="feedback", sandbox="dev")
    make_webhook(app, None, name="RCS status", type="feedback")
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential, name="rcs STATUS"))
    assert response.status_code == 422
    assert field_error(text(response), "name") == "A webhook with this name already exists in this sandbox."
    assert count_webhooks(app) == 2

    # Sandboxes are separate environments: dev's name is free in prod.
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential, name="rcs inbound"))
    assert response.status_code == 303, text(response)
    with app.app_context(), database.connection_context():
        assert sorted((w.sandbox.name, w.name) for w in CustomWebhook.select()) == [
            ("dev", "RCS Inbound"), ("prod", "RCS status"), ("prod", "rcs inbound")]
    created = webhook_named(app, "rcs inbound")
    response = signed_in.post(f"/webhooks/custom/{created.id}", inbound_form(credential, name="RCS Status",
                                                                             version="1"))
    assert response.status_code == 422
    assert field_error(text(response), "name") == "A webhook with this name already exists in this sandbox."


def test_what_was_typed_stays_after_an_error_but_the_secret_does_not(signed_in, app, credential):
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential, name="", hmac_secret=SECRET,
                                                                   hmac_header="X-Provider-Sig"))
    page = text(response)
    assert response.status_code == 422
    assert INBOUND_SAMPLE in html.unescape(page) and 'value="X-Provider-Sig"' in page
    assert SECRET not in page
    assert "Enter the secret again: it is never sent back to your browser." in page


def test_unknown_placeholders_are_a_warning_and_the_webhook_is_saved(signed_in, app, credential):
    payload = INBOUND_SAMPLE.replace('"event": "message"', '"event": "{{channel}}"')
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential, payload=payload))
    assert response.status_code == 303
    assert webhook_named(app, "RCS inbound").payload == payload
    page = html.unescape(text(signed_in.get(response.headers["Location"])))
    assert '<p id="payload-warning" class="warning">{{channel}} is not a value this webhook reads; it is saved, ' \
           'but ignored.</p>' in page


def test_windows_line_ends_are_stored_as_newlines(signed_in, app, credential):
    signed_in.get("/webhooks/custom/new")
    signed_in.post("/webhooks/custom/new", inbound_form(credential, payload=INBOUND_SAMPLE.replace("\n", "\r\n")))
    assert webhook_named(app, "RCS inbound").payload == INBOUND_SAMPLE


def test_a_credential_without_a_number_in_this_sandbox_says_how_to_fix_it(signed_in, app, fake_twilio, credential):
    elsewhere = make_credential(app, fake_twilio, name="Dev Twilio", numbers={"dev": "+14155550103"})
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(elsewhere, sender_number="+14155550103"))
    assert response.status_code == 422
    assert html.unescape(field_error(text(response), "credential")) == (
        "API credential Dev Twilio has no number in sandbox prod. Add its incoming number for sandbox prod on the "
        "API credential's page, then choose it here.")


def test_without_javascript_the_sender_number_follows_on_the_next_submit(signed_in, app, fake_twilio, credential):
    second = make_credential(app, fake_twilio, name="Backup Twilio", numbers={"prod": "+14155550103"})
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(second, sender_number=PROD_NUMBER))
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, "sender_number") == (
        "API credential Backup Twilio has the number +14155550103 in sandbox prod, not +14155550101. Its number is "
        "selected now; save again to use it.")
    assert '<option selected value="+14155550103">' in page


def test_a_sandbox_without_numbers_explains_where_to_add_one(signed_in):
    page = text(signed_in.get("/webhooks/custom/new"))
    assert "No API credential has an incoming number in sandbox prod yet" in page
    assert 'href="/credentials"' in page


# --- Checks as the admin leaves a field (htmx) ------------------------------------------------------

def test_leaving_the_payload_checks_it_alone(signed_in, app, credential):
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new?_field=payload",
                              inbound_form(credential, name="", payload='{"a": 1,}'), htmx=True)
    assert response.status_code == 422
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="payload-field"') and "<html" not in fragment
    assert field_error(fragment, "payload") == \
        "This is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 9."
    assert 'id="name-error"' not in fragment  # only the field the admin left speaks up
    response = signed_in.post("/webhooks/custom/new?_field=payload", inbound_form(credential), htmx=True)
    assert response.status_code == 200 and 'id="payload-error"' not in text(response)
    assert count_webhooks(app) == 0


def test_leaving_the_name_checks_only_the_name(signed_in, app, credential):
    make_webhook(app, credential, name="Taken")
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new?_field=name", inbound_form(credential, name="taken", payload=""),
                              htmx=True)
    assert response.status_code == 422
    fragment = text(response)
    assert fragment.lstrip().startswith('<div class="field" id="field-name">')
    assert field_error(fragment, "name") == "A webhook with this name already exists in this sandbox."


def test_a_new_type_brings_its_fields_and_rechecks_the_payload_out_of_band(signed_in, app, credential):
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new?_field=type", inbound_form(credential, type="feedback"),
                              htmx=True)
    assert response.status_code == 200
    fragment = html.unescape(text(response))
    assert fragment.lstrip().startswith('<div id="type-fields">')
    assert 'id="credential"' not in fragment
    assert '<div id="payload-field" hx-swap-oob="true">' in fragment
    assert "{{clientReference}}, {{code}}, {{status}} are missing" in fragment
    assert "This type needs: {{clientReference}}, {{code}}, {{status}}." in fragment
    # Back to Inbound: the credential and its number come back, with no error before they are touched.
    response = signed_in.post("/webhooks/custom/new?_field=type", inbound_form(credential, payload=""), htmx=True)
    fragment = text(response)
    assert f'<option selected value="{credential}">Main Twilio</option>' in fragment
    assert 'class="field-error"' not in fragment


def test_choosing_a_credential_brings_its_number_in_place(signed_in, app, fake_twilio, credential):
    second = make_credential(app, fake_twilio, name="Backup Twilio", numbers={"prod": "+14155550103"})
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new?_field=credential",
                              inbound_form(second, sender_number=PROD_NUMBER), htmx=True)
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="credential-fields">')
    assert '<option selected value="+14155550103">+1 415-555-0103 · United States</option>' in fragment
    assert 'class="field-error"' not in fragment


def test_the_fields_carry_their_htmx_checks(signed_in, credential):
    page = text(signed_in.get("/webhooks/custom/new"))
    for name, target in (("name", "field-name"), ("type", "type-fields"), ("credential", "credential-fields"),
                         ("payload", "payload-field"), ("hmac_header", "field-hmac_header")):
        assert re.search(rf'hx-post="/webhooks/custom/new\?_field={name}"[^>]*hx-target="#{target}"', page), name
    # A swapped-in password field would come back empty: the secret is checked on save only.
    assert "_field=hmac_secret" not in page


def test_an_unknown_field_check_is_refused(signed_in, credential):
    signed_in.get("/webhooks/custom/new")
    assert signed_in.post("/webhooks/custom/new?_field=version", inbound_form(credential), htmx=True).status_code == 400


def test_htmx_create_redirects_to_the_webhook_and_errors_swap_the_form(signed_in, app, credential):
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential, payload="{"), htmx=True)
    assert response.status_code == 422
    fragment = text(response)
    assert fragment.lstrip().startswith('<form id="custom-webhook-form"') and "<html" not in fragment
    assert html.unescape(field_error(fragment, "payload")) == \
        "This is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2."
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential), htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/webhooks/custom/{webhook_named(app, 'RCS inbound').id}"


# --- The HMAC secret is write-only --------------------------------------------------------------------

def test_the_hmac_secret_is_never_rendered_and_only_shown_as_set(signed_in, app, credential, in_app):
    signed_in.get("/webhooks/custom/new")
    response = signed_in.post("/webhooks/custom/new", inbound_form(credential, hmac_secret=SECRET))
    created = webhook_named(app, "RCS inbound")
    assert created.hmac_secret == SECRET
    with in_app():
        stored = database.execute_sql("SELECT hmac_secret FROM custom_webhook").fetchone()[0]
    assert SECRET not in stored  # encrypted at rest
    for url in (response.headers["Location"], "/webhooks/custom", f"/webhooks/custom/{created.id}/delete",
                f"/audit?object_type=CustomWebhook&object_id={created.id}"):
        assert SECRET not in text(signed_in.get(url)), url
    page = text(signed_in.get(response.headers["Location"]))
    assert "A secret is stored. Leave this blank to keep it, or enter a new one." in page
    assert '<input aria-describedby="hmac_secret-help" autocomplete="new-password" id="hmac_secret" ' \
           'maxlength="1024" name="hmac_secret" type="password" value="">' in page
    [entry] = audit_of(app, created.id)
    assert entry.changed_fields["hmac_secret"] == "(secret changed)"
    assert SECRET not in entry.changes


def test_a_blank_secret_on_edit_keeps_it_a_new_one_replaces_it_and_remove_removes_it(signed_in, app, credential):
    created = make_webhook(app, credential, hmac_secret=SECRET)
    url = f"/webhooks/custom/{created.id}"
    signed_in.get(url)
    assert signed_in.post(url, inbound_form(credential, name="Renamed", version="1")).status_code == 303
    assert webhook_named(app, "Renamed").hmac_secret == SECRET
    entry = audit_of(app, created.id)[-1]
    assert entry.changed_fields == {"name": ["RCS inbound", "Renamed"]}

    assert signed_in.post(url, inbound_form(credential, name="Renamed", version="2",
                                            hmac_secret="another-secret")).status_code == 303
    assert webhook_named(app, "Renamed").hmac_secret == "another-secret"
    assert audit_of(app, created.id)[-1].changed_fields == {"hmac_secret": "(secret changed)"}

    assert signed_in.post(url, inbound_form(credential, name="Renamed", version="3",
                                            remove_hmac_secret="y")).status_code == 303
    assert webhook_named(app, "Renamed").hmac_secret is None
    assert "another-secret" not in audit_of(app, created.id)[-1].changes
    assert "<td>Not set</td>" in text(signed_in.get("/webhooks/custom"))


# --- Edit ---------------------------------------------------------------------------------------------

def test_edit_a_webhook_into_a_feedback_webhook(signed_in, app, credential):
    created = make_webhook(app, credential)
    page = text(signed_in.get(f"/webhooks/custom/{created.id}"))
    assert "<h1>Webhook RCS inbound</h1>" in page
    assert 'name="version" type="hidden" value="1"' in page
    response = signed_in.post(f"/webhooks/custom/{created.id}", feedback_form(name="RCS inbound", version="1",
                                                                              hmac_header="X-Hub-Signature"))
    assert response.status_code == 303 and response.headers["Location"] == f"/webhooks/custom/{created.id}"
    saved = webhook_named(app, "RCS inbound")
    assert (saved.type, saved.credential_id, saved.sender_number, saved.version, saved.key) == (
        "feedback", None, "", 2, created.key)  # the URL the provider has stays the same
    entry = audit_of(app, created.id)[-1]
    assert entry.action == "update"
    assert entry.changed_fields["type"] == ["inbound", "feedback"]
    assert entry.changed_fields["credential"] == ["Main Twilio", None]
    assert entry.changed_fields["hmac_header"] == ["X-Signature", "X-Hub-Signature"]
    assert "Webhook RCS inbound saved." in text(signed_in.get(response.headers["Location"]))


def test_an_edit_over_someone_elses_save_is_a_conflict_that_keeps_the_input(signed_in, app, credential):
    created = make_webhook(app, credential)
    url = f"/webhooks/custom/{created.id}"
    signed_in.get(url)
    assert signed_in.post(url, inbound_form(credential, name="Theirs", version="1")).status_code == 303
    mine = INBOUND_SAMPLE.replace('"event": "message"', '"event": "mine"')
    for htmx in (True, False):
        response = signed_in.post(url, inbound_form(credential, name="Mine", payload=mine, version="1"), htmx=htmx)
        assert response.status_code == 409
        page = text(response)
        assert "Someone else saved this webhook while you were editing it. Your input is kept below." in page
        assert "The saved values now differ in: Name, Payload." in page
        assert 'value="Mine"' in page and mine in html.unescape(page)
        assert 'name="version" type="hidden" value="2"' in page
    assert webhook_named(app, "Theirs").payload == INBOUND_SAMPLE
    assert signed_in.post(url, inbound_form(credential, name="Mine", payload=mine, version="2")).status_code == 303
    assert webhook_named(app, "Mine").version == 3


def test_an_edit_keeps_its_name_and_may_change_case(signed_in, app, credential):
    created = make_webhook(app, credential)
    signed_in.get(f"/webhooks/custom/{created.id}")
    response = signed_in.post(f"/webhooks/custom/{created.id}", inbound_form(credential, name="RCS INBOUND",
                                                                             version="1"))
    assert response.status_code == 303
    assert webhook_named(app, "RCS INBOUND") is not None


def test_names_with_html_are_shown_escaped(signed_in, app, credential):
    make_webhook(app, credential, name="<b>bold</b>")
    page = text(signed_in.get("/webhooks/custom"))
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


# --- Send a sample --------------------------------------------------------------------------------------

def test_send_a_sample_shows_a_curl_command_without_the_secret(signed_in, app, credential):
    created = make_webhook(app, credential)
    page = html.unescape(text(signed_in.get(f"/webhooks/custom/{created.id}")))
    command = re.search(r'<code id="sample-command">(.*?)</code>', page, re.S).group(1)
    assert command.startswith(f"curl -i -X POST http://localhost/hooks/custom/{created.key} \\\n")
    assert "-H 'Content-Type: application/json'" in command
    assert '"text": "HELP"' in command and "{{InboundMessage}}" not in command
    assert "HMAC_SECRET" not in page

    signed = make_webhook(app, credential, name="Signed", hmac_secret=SECRET, hmac_header="X-Provider-Signature")
    page = html.unescape(text(signed_in.get(f"/webhooks/custom/{signed.id}")))
    command = re.search(r'<code id="sample-command">(.*?)</code>', page, re.S).group(1)
    assert "openssl dgst -sha256 -hmac \"$HMAC_SECRET\"" in command
    assert "-H 'X-Provider-Signature: sha256='\"$SIGNATURE\"" in command
    assert "first set HMAC_SECRET in your shell to the shared secret (it is not shown here)" in page
    assert SECRET not in page


@pytest.mark.parametrize("secret", [None, SECRET])
def test_the_sample_command_really_is_accepted(signed_in, app, credential, live_server, secret):
    """Run the page's command in a shell against the app served on 127.0.0.1."""
    app.config["PUBLIC_BASE_URL"] = live_server.url
    created = make_webhook(app, credential, hmac_secret=secret)
    page = html.unescape(text(signed_in.get(f"/webhooks/custom/{created.id}")))
    command = re.search(r'<code id="sample-command">(.*?)</code>', page, re.S).group(1)
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "HMAC_SECRET": secret or ""})
    assert "HTTP/1.1 200" in result.stdout, result.stdout + result.stderr
    assert json.loads(result.stdout.split("\n\n", 1)[1])["status"] == "stored"
    [message] = rows(app, InboundMessage)
    assert (message.body, message.from_number, message.to_number) == ("HELP", "+14155550123", PROD_NUMBER)


# --- Delete --------------------------------------------------------------------------------------------

def test_delete_asks_first_then_deletes_and_records_it(signed_in, app, credential):
    created = make_webhook(app, credential, hmac_secret=SECRET)
    page = text(signed_in.get(f"/webhooks/custom/{created.id}/delete"))
    assert "<h1>Delete webhook RCS inbound?</h1>" in page
    response = signed_in.post(f"/webhooks/custom/{created.id}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/webhooks/custom"
    assert "Webhook RCS inbound deleted." in text(signed_in.get("/webhooks/custom"))
    assert webhook_named(app, "RCS inbound") is None
    entry = audit_of(app, created.id)[-1]
    assert entry.action == "delete"
    assert entry.changed_fields["name"] == ["RCS inbound", None]
    assert entry.changed_fields["credential"] == ["Main Twilio", None]
    assert entry.changed_fields["hmac_secret"] == "(secret changed)" and SECRET not in entry.changes
    # Its URL is gone with it.
    response = app.test_client().post(f"/hooks/custom/{created.key}", json={})
    assert response.status_code == 404


def test_delete_with_htmx_updates_the_list_in_place(signed_in, app, credential):
    keep = make_webhook(app, credential, name="Keep me")
    gone = make_webhook(app, credential)
    page = text(signed_in.get("/webhooks/custom"))
    assert 'hx-confirm="Delete webhook RCS inbound?"' in page
    assert 'hx-target="#custom-webhooks" hx-swap="outerHTML"' in page
    response = signed_in.post(f"/webhooks/custom/{gone.id}/delete", htmx=True)
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<section id="custom-webhooks">') and "<html" not in fragment
    assert f'id="custom-webhook-{keep.id}"' in fragment and f'id="custom-webhook-{gone.id}"' not in fragment
    assert 'hx-swap-oob="true"' in fragment and "Webhook RCS inbound deleted." in fragment


def test_deleting_a_webhook_keeps_the_messages_it_received(signed_in, app, credential):
    created = make_webhook(app, credential)
    post_json(app.test_client(), created, inbound_body())
    signed_in.get("/webhooks/custom")
    signed_in.post(f"/webhooks/custom/{created.id}/delete")
    [message] = rows(app, InboundMessage)
    assert message.custom_webhook_id is None and message.source == "custom"


def test_forms_without_their_csrf_token_save_nothing(signed_in, app, credential):
    created = make_webhook(app, credential)
    for url, data in (("/webhooks/custom/new", inbound_form(credential, name="Sneaky")),
                      (f"/webhooks/custom/{created.id}", inbound_form(credential, name="Sneaky", version="1")),
                      (f"/webhooks/custom/{created.id}/delete", {})):
        for htmx in (False, True):
            response = signed_in.post(url, data, csrf=False, htmx=htmx)
            assert response.status_code == 400
            assert "This form has expired" in text(response)
    assert count_webhooks(app) == 1 and webhook_named(app, "RCS inbound") is not None
    assert audit_of(app) == []


def test_the_admin_pages_need_signing_in(client, admin, credential, app):
    created = make_webhook(app, credential)
    for url in ("/webhooks/custom", "/webhooks/custom/new", f"/webhooks/custom/{created.id}"):
        response = client.get(url)
        assert response.status_code == 303 and "/login" in response.headers["Location"]


# --- The receiver ------------------------------------------------------------------------------------

def inbound_body(text="Hello there", request_id="req-1", profile="+886912345678"):
    return {"event": "message", "message": {"id": request_id, "text": text, "sentAt": "2024-05-01T08:00:00Z"},
            "from": {"phone": profile}, "to": [PROD_NUMBER], "provider": {"extra": True}}


def feedback_body(reference="SM-abc-1", status="delivered", code=0):
    return {"ref": reference, "result": {"code": code, "state": status}, "unknown": "kept"}


def signature(raw: bytes, secret=SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post_json(client, webhook_row, body, headers=None, raw=None, **kwargs):
    raw = raw if raw is not None else json.dumps(body).encode()
    return client.post(f"/hooks/custom/{webhook_row.key}", data=raw,
                       headers={"Content-Type": "application/json", **(headers or {})}, **kwargs)


@pytest.fixture
def inbound(app, credential):
    return make_webhook(app, credential)


@pytest.fixture
def feedback(app):
    return make_webhook(app, None, name="RCS status", type="feedback")


def test_an_inbound_message_is_stored_without_signing_in_or_csrf(app, inbound, credential):
    body = inbound_body()
    raw = json.dumps(body).encode()
    response = post_json(app.test_client(), inbound, body, raw=raw)
    assert response.status_code == 200
    assert response.get_json() == {"status": "stored", "reply": None}
    [message] = rows(app, InboundMessage)
    assert (message.source, message.custom_webhook_id, message.credential_id, message.sandbox.name) == (
        "custom", inbound.id, credential, "prod")
    assert (message.message_sid, message.from_number, message.to_number, message.body) == (
        "req-1", "+886912345678", PROD_NUMBER, "Hello there")
    assert message.params == raw.decode() and message.signed is True


def test_an_inbound_stop_opts_the_sender_out(app, inbound):
    response = post_json(app.test_client(), inbound, inbound_body(text=" stop ", request_id="req-stop"))
    assert response.status_code == 200
    assert response.get_json()["reply"].startswith("You have successfully been unsubscribed.")
    [message] = rows(app, InboundMessage)
    assert message.keyword_category == "opt_out"
    [consent] = rows(app, Consent)
    assert (consent.phone_number, consent.state, consent.sandbox.name) == ("+886912345678", "opted_out", "prod")
    [event] = rows(app, ConsentEvent)
    assert "req-stop" in event.source


def test_a_retried_inbound_message_is_stored_once(app, inbound):
    client = app.test_client()
    first = post_json(client, inbound, inbound_body(text="HELP"))
    again = post_json(client, inbound, inbound_body(text="HELP"))
    assert first.get_json()["status"] == "stored"
    assert again.status_code == 200
    assert again.get_json() == {"status": "duplicate", "reply": first.get_json()["reply"]}
    assert len(rows(app, InboundMessage)) == 1


def test_a_feedback_callback_is_stored_once_when_sent_twice(app, feedback):
    client = app.test_client()
    first = post_json(client, feedback, feedback_body())
    assert first.status_code == 200 and first.get_json() == {"status": "stored"}
    again = post_json(client, feedback, feedback_body())
    assert again.status_code == 200 and again.get_json() == {"status": "duplicate"}
    [event] = rows(app, StatusEvent)
    assert (event.source, event.custom_webhook_id, event.message_sid, event.status, event.error_code) == (
        "custom", feedback.id, "SM-abc-1", "delivered", "0")  # the provider's code, as it sent it
    assert json.loads(event.params)["unknown"] == "kept"
    [outbound] = rows(app, OutboundMessage)
    assert (outbound.message_sid, outbound.status) == ("SM-abc-1", "delivered")


def test_feedback_keeps_the_error_code_and_never_moves_back(app, feedback):
    client = app.test_client()
    post_json(client, feedback, feedback_body(status="undelivered", code=30008))
    post_json(client, feedback, feedback_body(status="sent", code=None))
    assert [(e.status, e.error_code) for e in rows(app, StatusEvent)] == [("undelivered", "30008"), ("sent", None)]
    [outbound] = rows(app, OutboundMessage)
    assert (outbound.status, outbound.error_code) == ("undelivered", "30008")


def test_an_unknown_key_is_404(app, inbound):
    response = app.test_client().post("/hooks/custom/not-a-key", json=inbound_body())
    assert response.status_code == 404
    assert response.get_json() == {"error": "no webhook has this URL"}


def test_a_body_over_64_kb_is_413(app, inbound):
    client = app.test_client()
    big = inbound_body(text="x" * (64 * 1024))
    response = post_json(client, inbound, big)
    assert response.status_code == 413
    assert response.get_json() == {"error": "the body is larger than 65536 bytes"}
    # Without a Content-Length (chunked), the read itself stops at the limit.
    response = client.post(f"/hooks/custom/{inbound.key}", input_stream=io.BytesIO(json.dumps(big).encode()),
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert rows(app, InboundMessage) == []


def test_a_body_of_exactly_64_kb_is_fine(app, inbound):
    body = inbound_body(text="")
    padding = 64 * 1024 - len(json.dumps(body).encode()) - len(', "pad": ""')
    body["pad"] = "p" * padding
    raw = json.dumps(body).encode()
    assert len(raw) == 64 * 1024
    assert post_json(app.test_client(), inbound, body, raw=raw).status_code == 200


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_the_wrong_content_type_is_415(app, inbound, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = app.test_client().post(f"/hooks/custom/{inbound.key}", data=json.dumps(inbound_body()),
                                      headers=headers)
    assert response.status_code == 415
    assert "not application/json" in response.get_json()["error"]


def test_json_with_a_charset_is_fine(app, inbound):
    response = post_json(app.test_client(), inbound, inbound_body(),
                         headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200


@pytest.mark.parametrize("raw, reason", [
    (b'{"message": {"id": "1",}}', "invalid JSON: Expecting property name enclosed in double quotes at line 1, "
                                   "column 24"),
    (b"", "invalid JSON: Expecting value at line 1, column 1"),
    (b'{"a": "\xff"}', "the body is not UTF-8 text"),
    (b'["a list"]', "the body is not a JSON object"),
])
def test_invalid_json_is_400_with_the_reason(app, inbound, raw, reason):
    response = post_json(app.test_client(), inbound, None, raw=raw)
    assert response.status_code == 400
    assert response.get_json() == {"error": reason}
    assert rows(app, InboundMessage) == []


@pytest.mark.parametrize("change, reason", [
    (lambda b: b["message"].pop("text"), "missing field $.message.text"),
    (lambda b: b.pop("from"), "missing field $.from"),
    (lambda b: b.update(to=[]), "missing field $.to[0]"),
    (lambda b: b["message"].update(id={"nested": 1}), "field $.message.id holds an object, not a value"),
    (lambda b: b["from"].update(phone=" "), "field $.from.phone is empty"),
    (lambda b: b["message"].update(id="r" * 65), "field $.message.id is longer than 64 characters"),
])
def test_a_body_that_does_not_fit_the_sample_is_400_with_the_reason(app, inbound, change, reason, caplog):
    body = inbound_body()
    change(body)
    with caplog.at_level(logging.WARNING):
        response = post_json(app.test_client(), inbound, body)
    assert response.status_code == 400
    assert response.get_json() == {"error": reason}
    assert reason in caplog.text
    assert rows(app, InboundMessage) == []


def test_feedback_needs_its_reference_and_status(app, feedback):
    response = post_json(app.test_client(), feedback, {"ref": "SM-1", "result": {"code": 0}})
    assert response.status_code == 400 and response.get_json() == {"error": "missing field $.result.state"}
    response = post_json(app.test_client(), feedback, feedback_body(reference=None))
    assert response.status_code == 400 and response.get_json() == {"error": "field $.ref is empty"}
    assert rows(app, StatusEvent) == []


@pytest.fixture
def signed_inbound(app, credential):
    return make_webhook(app, credential, name="Signed", hmac_secret=SECRET, hmac_header="X-Provider-Signature")


def test_with_a_secret_a_good_signature_is_accepted_with_or_without_its_prefix(app, signed_inbound):
    client = app.test_client()
    raw = json.dumps(inbound_body(request_id="r-1")).encode()
    response = post_json(client, signed_inbound, None, raw=raw, headers={"X-Provider-Signature": signature(raw)})
    assert response.status_code == 200
    raw = json.dumps(inbound_body(request_id="r-2")).encode()
    response = post_json(client, signed_inbound, None, raw=raw,
                         headers={"X-Provider-Signature": "sha256=" + signature(raw).upper()})
    assert response.status_code == 200
    assert [m.message_sid for m in rows(app, InboundMessage)] == ["r-1", "r-2"]
    assert all(m.signed for m in rows(app, InboundMessage))


def test_a_missing_or_bad_signature_is_403_stores_nothing_and_is_logged_without_the_secret(
        app, signed_inbound, caplog):
    client = app.test_client()
    raw = json.dumps(inbound_body()).encode()
    other = json.dumps(inbound_body(text="STOP")).encode()
    attempts = [
        ({}, "the signature header X-Provider-Signature is missing"),
        ({"X-Signature": signature(raw)}, "the signature header X-Provider-Signature is missing"),
        ({"X-Provider-Signature": signature(other)}, "the signature in X-Provider-Signature does not match the body"),
        ({"X-Provider-Signature": signature(raw, "wrong-secret")},
         "the signature in X-Provider-Signature does not match the body"),
        ({"X-Provider-Signature": "sha256=zz"}, "the signature in X-Provider-Signature does not match the body"),
        ({"X-Provider-Signature": "ü"}, "the signature in X-Provider-Signature does not match the body"),
    ]
    with caplog.at_level(logging.WARNING):
        for headers, reason in attempts:
            response = post_json(client, signed_inbound, None, raw=raw, headers=headers)
            assert response.status_code == 403, headers
            assert response.get_json() == {"error": reason}
    assert rows(app, InboundMessage) == [] and rows(app, Consent) == []
    assert "custom webhook" in caplog.text and "Signed" in caplog.text and "does not match" in caplog.text
    assert SECRET not in caplog.text and signed_inbound.key not in caplog.text


def test_the_signature_is_checked_before_the_body_is_read_as_json(app, signed_inbound):
    response = post_json(app.test_client(), signed_inbound, None, raw=b"not json")
    assert response.status_code == 403


def test_a_signed_feedback_webhook(app):
    created = make_webhook(app, None, name="Signed status", type="feedback", hmac_secret=SECRET)
    raw = json.dumps(feedback_body()).encode()
    response = post_json(app.test_client(), created, None, raw=raw, headers={"X-Signature": signature(raw)})
    assert response.status_code == 200 and response.get_json() == {"status": "stored"}


def test_a_sample_filled_in_is_what_the_receiver_reads(app, inbound):
    body = fill(INBOUND_SAMPLE, {"InboundMessage": "START", "ProfileNumber": "+886900000000", "RequestID": "r-9",
                                 "OriginTimestamp": "now", "InboundNumber": PROD_NUMBER})
    response = post_json(app.test_client(), inbound, None, raw=body.encode())
    assert response.status_code == 200
    [consent] = rows(app, Consent)
    assert (consent.phone_number, consent.state) == ("+886900000000", "opted_in")
