"""API credentials: the list, edit (re-verified against the fake Twilio), delete, and
Verify SMS connection (its segment counter: tests/unit/test_segment_counter.py)."""
import html
import re

import pytest

import tests.support.fake_twilio
from tests.support.app import ADMIN_PASSWORD, BrowserLikeClient, create_admin
from tests.support.factories import make_channel_configuration, make_credential
from tests.support.fake_twilio import API_HOST, MESSAGING_HOST, new_sid, new_token
from tests.support.html import field_error, text
from tests.support.network import closed_port_url
from tests.support.queries import audit_entries, edit_data, sandbox_id
from wizard.core.db import database
from wizard.core.models import ApiCredential, ChannelConfiguration, CredentialNumber

# --- helpers ----------------------------------------------------------------------------

def stored(app, credential_id) -> ApiCredential | None:
    with app.app_context(), database.connection_context():
        credential = ApiCredential.get_or_none(ApiCredential.id == credential_id)
        if credential is not None:
            credential.stored_numbers = {n.sandbox.name: n.phone_number for n in credential.numbers}
        return credential


def assert_secret_absent(response, *tokens):
    page = text(response)
    for token in tokens:
        assert token not in page


def form_error(html_text) -> str:
    return " ".join(re.findall(r'class="form-error"[^>]*>\s*(?:<p>)?([^<]*)<', html_text))


@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio)


# --- the list ---------------------------------------------------------------------------

def test_the_list_is_scoped_to_the_current_sandbox_and_masks_the_token(signed_in, app, fake_twilio):
    main = make_credential(app, fake_twilio, "Main Twilio", numbers={"prod": "+14155550101", "dev": "+14155550102"})
    make_credential(app, fake_twilio, "Dev only", numbers={"dev": "+14155550103"})
    page = text(signed_in.get("/credentials"))
    assert "<h1>API credentials</h1>" in page
    assert "Main Twilio" in page and "Dev only" not in page
    # every sandbox of a listed credential
    assert "prod: +1 415-555-0101 · United States" in page and "dev: +1 415-555-0102 · United States" in page
    assert f"••••{fake_twilio.auth_token[-4:]}" in page
    assert fake_twilio.auth_token not in page
    assert f'href="/credentials/{main}"' in page
    assert "Twilio" in page and "Verified" in page

    signed_in.post("/sandboxes/current", {"sandbox": sandbox_id(app, "dev"), "next": "/credentials"})
    page = text(signed_in.get("/credentials"))
    assert "Main Twilio" in page and "Dev only" in page


def test_the_stored_tokens_last_characters_are_marked_as_no_words_of_the_page(signed_in, app, fake_twilio, in_app):
    # A mask like ••••ddac is neither English nor Chinese: a reader's translator must leave it alone.
    credential = make_credential(app, fake_twilio)
    with in_app():
        ApiCredential.update(auth_token_last4="ddac").where(ApiCredential.id == credential).execute()
    page = text(signed_in.get(f"/credentials/{credential}"))
    assert "Leave it blank to keep the stored one (<span translate=\"no\">••••ddac</span>)." in page


def test_an_empty_list_explains_and_offers_the_guided_flow(signed_in, app):
    page = text(signed_in.get("/credentials"))
    assert "No API credentials in sandbox prod yet" in page
    assert ("Create new API credential" in page) == ("guided.start" in app.view_functions)


def test_the_list_shows_verification_states_and_the_configurations_using_each(signed_in, app, fake_twilio, in_app):
    import datetime

    make_credential(app, fake_twilio, "Checked", verified_at=datetime.datetime(2024, 5, 1, 9, 30))
    broken = make_credential(app, fake_twilio, "Broken", numbers={"prod": "+14155550102"})
    fresh = make_credential(app, fake_twilio, "Fresh", numbers={"prod": "+14155550103"})
    with in_app():
        ApiCredential.update(verification_state="failed", verification_error="Twilio error 20003: Authenticate").where(
            ApiCredential.id == broken).execute()
        ApiCredential.update(verification_state="never").where(ApiCredential.id == fresh).execute()
    make_channel_configuration(app, fresh, name="Spring_sale")
    make_channel_configuration(app, fresh, name="Receipts", sms_type="transactional")
    page = text(signed_in.get("/credentials"))
    rows = {name: row for name, row in
            ((re.search(r">(Checked|Broken|Fresh)<", row).group(1), row)
             for row in re.findall(r"<tr id=\"credential-\d+\">.*?</tr>", page, re.S))}
    assert "Verified" in rows["Checked"] and "2024" in rows["Checked"]
    assert "Failed" in rows["Broken"] and "Twilio error 20003: Authenticate" in rows["Broken"]
    assert "Never verified" in rows["Fresh"]
    assert "Receipts" in rows["Fresh"] and "Spring_sale" in rows["Fresh"]
    assert "Receipts" not in rows["Checked"]


def test_names_with_html_are_shown_escaped(signed_in, app, fake_twilio):
    make_credential(app, fake_twilio, "<script>alert(1)</script>")
    page = text(signed_in.get("/credentials"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_credentials_are_404(signed_in):
    for path in ("/credentials/999", "/credentials/999/delete", "/credentials/999/verify",
                 "/credentials/999/messages/SM" + "0" * 32):
        assert signed_in.get(path).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, admin):
    response = client.get("/credentials")
    assert response.status_code == 303 and "/login" in response.headers["Location"]


# --- edit -------------------------------------------------------------------------------

def test_the_edit_page_is_filled_in_but_never_shows_the_token(signed_in, app, fake_twilio, credential):
    response = signed_in.get(f"/credentials/{credential}")
    page = text(response)
    assert "<h1>API credential Main Twilio</h1>" in page
    assert 'value="Main Twilio"' in page and f'value="{fake_twilio.account_sid}"' in page
    assert f'value="{fake_twilio.service_sid}"' in page and 'value="+14155550101"' in page
    assert 'name="version" type="hidden" value="1"' in page
    assert f"••••{fake_twilio.auth_token[-4:]}" in page
    assert_secret_absent(response, fake_twilio.auth_token)
    # Leaving a field checks it on the server: the field carries its own htmx request.
    assert f'hx-post="/credentials/{credential}?_field=account_sid"' in page
    assert 'hx-target="#field-account_sid"' in page


def test_edit_with_a_new_token_verifies_it_with_twilio_and_audits_without_the_secret(
        signed_in, app, fake_twilio, credential, in_app):
    new = new_token()
    fake_twilio.accounts[fake_twilio.account_sid].auth_token = new  # rotated in the Twilio console
    signed_in.get(f"/credentials/{credential}")
    fake_twilio.clear_requests()
    response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, name="Main (rotated)",
                                                                    auth_token=new))
    assert response.status_code == 303 and response.headers["Location"] == "/credentials"
    asked = {(r.host, r.path) for r in fake_twilio.requests}
    assert (API_HOST, f"/2010-04-01/Accounts/{fake_twilio.account_sid}.json") in asked
    assert (MESSAGING_HOST, f"/v1/Services/{fake_twilio.service_sid}") in asked
    saved = stored(app, credential)
    assert saved.name == "Main (rotated)" and saved.auth_token == new
    assert saved.verification_state == "verified" and saved.verified_at is not None
    assert saved.version == 2 and saved.auth_token_last4 == new[-4:]
    page = text(signed_in.get("/credentials"))
    assert "API credential Main (rotated) saved." in page
    assert new not in page
    entry = audit_entries(app)[-1]
    assert entry.action == "update"
    assert entry.changed_fields["name"] == ["Main Twilio", "Main (rotated)"]
    assert entry.changed_fields["auth_token"] == "(secret changed)"
    assert new not in entry.changes
    with in_app():
        raw = database.execute_sql("SELECT auth_token FROM api_credential").fetchone()[0]
    assert new not in raw  # encrypted at rest


def test_a_blank_token_keeps_the_stored_one_and_a_rename_asks_twilio_nothing(
        signed_in, app, fake_twilio, credential):
    signed_in.get(f"/credentials/{credential}")
    fake_twilio.clear_requests()
    response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, name="Renamed"))
    assert response.status_code == 303
    assert fake_twilio.requests == []
    saved = stored(app, credential)
    assert saved.name == "Renamed" and saved.auth_token == fake_twilio.auth_token
    assert audit_entries(app)[-1].changed_fields == {"name": ["Main Twilio", "Renamed"]}


def test_another_messaging_service_is_verified_and_its_number_warning_shown(signed_in, app, fake_twilio, credential):
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}", edit_data(
        app, credential, messaging_service_sid=fake_twilio.second_service_sid), htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/credentials"
    page = text(signed_in.get("/credentials"))
    assert "+14155550101 belongs to the account but not to the Messaging Service" in page
    assert stored(app, credential).messaging_service_sid == fake_twilio.second_service_sid


def test_numbers_can_be_added_for_another_sandbox_and_removed(signed_in, app, fake_twilio, credential):
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}", edit_data(
        app, credential, numbers={"prod": "+14155550101", "dev": "+14155550102"}))
    assert response.status_code == 303
    assert stored(app, credential).stored_numbers == {"prod": "+14155550101", "dev": "+14155550102"}
    assert audit_entries(app)[-1].changed_fields == {"number (dev)": [None, "+14155550102"]}
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, numbers={"dev": "+14155550102"}))
    assert response.status_code == 303
    assert stored(app, credential).stored_numbers == {"dev": "+14155550102"}
    assert audit_entries(app)[-1].changed_fields == {"number (prod)": ["+14155550101", None]}


def test_a_sandbox_whose_configuration_uses_the_credential_stays(signed_in, app, fake_twilio):
    credential = make_credential(app, fake_twilio, numbers={"prod": "+14155550101", "dev": "+14155550102"})
    make_channel_configuration(app, credential, name="Dev_alerts", sandbox="dev")
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}",
                              edit_data(app, credential, numbers={"prod": "+14155550101"}))
    assert response.status_code == 422
    assert "Channel configuration Dev_alerts sends through this credential in sandbox dev" in field_error(
        text(response), f"use_{sandbox_id(app, 'dev')}")
    assert stored(app, credential).stored_numbers == {"prod": "+14155550101", "dev": "+14155550102"}


def test_a_new_number_is_followed_by_the_configurations_that_send_from_it(signed_in, app, fake_twilio, credential,
                                                                          in_app):
    configuration = make_channel_configuration(app, credential)
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}",
                              edit_data(app, credential, numbers={"prod": "+14155550102"}))
    assert response.status_code == 303
    assert "Channel configuration Marketing_SMS now sends from +14155550102." in text(signed_in.get("/credentials"))
    with in_app():
        assert ChannelConfiguration.get_by_id(configuration).sender_number == "+14155550102"
    assert audit_entries(app, "ChannelConfiguration")[-1].changed_fields == {
        "sender_number": ["+14155550101", "+14155550102"]}


HEX32 = "0123456789abcdef" * 2


@pytest.mark.parametrize("field, value, message", [
    ("name", "", "Enter a name for the API credential."),
    ("name", "x" * 129, "A name has at most 128 characters."),
    ("name", "OTHER twilio", "An API credential with this name already exists."),
    ("name", "bad\x07name", "A name cannot contain control characters."),
    ("account_sid", "", "Enter the Account SID."),
    ("account_sid", "XY" + HEX32, "An Account SID starts with AC."),
    ("account_sid", "AC" + HEX32[:30], "An Account SID is 34 characters long: AC and 32 hex digits (this one has 32)."),
    ("account_sid", "AC" + "g" * 32, "An Account SID has only the hex digits 0-9 and a-f after AC."),
    ("auth_token", "abc123", "An Auth Token is 32 hex digits (0-9, a-f); this one has 6 characters."),
    ("auth_token", "z" * 32, "An Auth Token is 32 hex digits (0-9, a-f); this one has 32 characters."),
    ("messaging_service_sid", "", "Choose or enter the Messaging Service SID."),
    ("messaging_service_sid", "SM" + HEX32, "A Messaging Service SID starts with MG."),
    ("messaging_service_sid", "MG" + HEX32 + "00", "A Messaging Service SID is 34 characters long"),
    ("number_prod", "4155550101", "Start the number with + and its country code"),
    ("number_prod", "+1" + "2" * 20, "This is not a valid phone number"),
    ("number_prod", "", "Enter the incoming number for sandbox prod."),
])
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(
        signed_in, app, fake_twilio, credential, field, value, message):
    make_credential(app, fake_twilio, "Other Twilio", numbers={"prod": "+14155550102"})
    field_id = f"number_{sandbox_id(app, 'prod')}" if field == "number_prod" else field
    signed_in.get(f"/credentials/{credential}")
    fake_twilio.clear_requests()
    for htmx in (False, True):
        response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, **{field_id: value}),
                                  htmx=htmx)
        assert response.status_code == 422
        assert message in html.unescape(field_error(text(response), field_id) or "")
        assert ("<html" in text(response)) is not htmx
        if field == "name" and value:
            assert f'value="{html.escape(value)}"' in text(response)  # what was typed stays
        assert_secret_absent(response, fake_twilio.auth_token)
    assert fake_twilio.requests == []
    assert stored(app, credential).version == 1
    assert [e.action for e in audit_entries(app)] == []


def test_at_least_one_sandbox_must_use_the_credential(signed_in, app, credential):
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, numbers={}))
    assert response.status_code == 422
    assert "Choose at least one sandbox that will use this credential." in form_error(text(response))


def test_a_number_not_on_the_account_is_refused(signed_in, app, fake_twilio, credential):
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}",
                              edit_data(app, credential, numbers={"prod": "+14155550000"}))
    assert response.status_code == 422
    assert field_error(text(response), f"number_{sandbox_id(app, 'prod')}") == (
        "+14155550000 is not a phone number of this Twilio account.")
    assert stored(app, credential).stored_numbers == {"prod": "+14155550101"}


def test_a_wrong_token_is_twilios_20003_next_to_the_token_and_never_echoed(
        signed_in, app, fake_twilio, credential, caplog):
    wrong = new_token()
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, auth_token=wrong))
    assert response.status_code == 422
    error = field_error(text(response), "auth_token")
    assert error.startswith("Twilio error 20003: Authenticate")
    assert "Enter the new Auth Token again" in text(response)
    assert_secret_absent(response, wrong, fake_twilio.auth_token)
    assert wrong not in caplog.text and fake_twilio.auth_token not in caplog.text
    assert stored(app, credential).auth_token == fake_twilio.auth_token


def test_an_account_sid_of_another_account_fails_authentication(signed_in, app, fake_twilio, credential):
    other = fake_twilio.add_account()
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}", edit_data(app, credential, account_sid=other.sid))
    assert response.status_code == 422
    assert field_error(text(response), "auth_token").startswith("Twilio error 20003")
    assert stored(app, credential).account_sid == fake_twilio.account_sid


def test_a_messaging_service_that_does_not_exist_is_twilios_20404(signed_in, app, fake_twilio, credential):
    missing = new_sid("MG")
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}",
                              edit_data(app, credential, messaging_service_sid=missing))
    assert response.status_code == 422
    error = field_error(text(response), "messaging_service_sid")
    assert error.startswith("Twilio error 20404:") and error.endswith("It does not exist in this account.")
    assert stored(app, credential).messaging_service_sid == fake_twilio.service_sid


def test_a_suspended_account_is_refused(signed_in, app, fake_twilio, credential):
    fake_twilio.accounts[fake_twilio.account_sid].status = "suspended"
    signed_in.get(f"/credentials/{credential}")
    response = signed_in.post(f"/credentials/{credential}",
                              edit_data(app, credential, auth_token=fake_twilio.auth_token))
    assert response.status_code == 422
    assert "This Twilio account is suspended" in field_error(text(response), "account_sid")


def test_unreachable_twilio_keeps_the_input_and_offers_to_save_again(signed_in, app, fake_twilio, credential):
    app.config["TWILIO_BASE_URL"] = closed_port_url()
    signed_in.get(f"/credentials/{credential}")
    for htmx in (False, True):
        response = signed_in.post(f"/credentials/{credential}", edit_data(
            app, credential, name="Kept", auth_token=fake_twilio.auth_token), htmx=htmx)
        assert response.status_code == 422
        page = text(response)
        assert "Twilio could not be reached: connection refused. Your input is kept; try again." in page
        assert ">Save again</button>" in page and 'value="Kept"' in page
        assert_secret_absent(response, fake_twilio.auth_token)
    app.config["TWILIO_BASE_URL"] = fake_twilio.base_url
    response = signed_in.post(f"/credentials/{credential}", edit_data(
        app, credential, name="Kept", auth_token=fake_twilio.auth_token))
    assert response.status_code == 303 and stored(app, credential).name == "Kept"


def sign_in_another_browser(app) -> BrowserLikeClient:
    other = BrowserLikeClient(app.test_client())
    other.get("/login")
    other.post("/login", {"email": "colleague@example.com", "password": ADMIN_PASSWORD})
    return other


def test_a_conflicting_save_is_refused_and_keeps_the_input(signed_in, app, fake_twilio, credential):
    create_admin(app, "colleague@example.com")
    colleague = sign_in_another_browser(app)
    mine = edit_data(app, credential, name="Mine")
    colleague.get(f"/credentials/{credential}")
    signed_in.get(f"/credentials/{credential}")
    assert colleague.post(f"/credentials/{credential}", edit_data(app, credential, name="Theirs")).status_code == 303

    for htmx in (False, True):
        response = signed_in.post(f"/credentials/{credential}", mine, htmx=htmx)
        assert response.status_code == 409
        page = text(response)
        assert "Someone else saved this credential after you opened it." in page
        assert 'value="Mine"' in page and "<li>Name: Theirs</li>" in page
        assert 'name="version" type="hidden" value="2"' in page  # saving again overwrites, knowingly
    assert stored(app, credential).name == "Theirs"

    mine["version"] = "2"
    assert signed_in.post(f"/credentials/{credential}", mine).status_code == 303
    assert stored(app, credential).name == "Mine"
    assert [e.actor for e in audit_entries(app)] == ["colleague@example.com", "admin@example.com"]


def test_leaving_a_field_checks_just_that_field(signed_in, app, fake_twilio, credential):
    signed_in.get(f"/credentials/{credential}")
    fake_twilio.clear_requests()
    bad = signed_in.post(f"/credentials/{credential}?_field=account_sid",
                         edit_data(app, credential, account_sid="AC123"), htmx=True)
    assert bad.status_code == 422
    fragment = text(bad)
    assert fragment.lstrip().startswith('<div class="field" id="field-account_sid">')
    assert "<html" not in fragment and 'id="field-name"' not in fragment
    assert "is 34 characters long" in field_error(fragment, "account_sid")
    good = signed_in.post(f"/credentials/{credential}?_field=name", edit_data(app, credential, name="Fine"),
                          htmx=True)
    assert good.status_code == 200 and field_error(text(good), "name") is None and 'value="Fine"' in text(good)
    number = f"number_{sandbox_id(app, 'prod')}"
    assert signed_in.post(f"/credentials/{credential}?_field={number}", edit_data(app, credential, **{number: "12"}),
                          htmx=True).status_code == 422
    assert signed_in.post(f"/credentials/{credential}?_field=auth_token", edit_data(app, credential),
                          htmx=True).status_code == 400
    assert fake_twilio.requests == [] and stored(app, credential).name == "Main Twilio"


def test_posts_without_the_csrf_token_are_refused(signed_in, app, credential):
    signed_in.get(f"/credentials/{credential}")
    for path, data in ((f"/credentials/{credential}", edit_data(app, credential, name="X")),
                       (f"/credentials/{credential}/delete", {}),
                       (f"/credentials/{credential}/verify", {"number": "+14155550123", "message": "Hi"})):
        response = signed_in.post(path, data, csrf=False)
        assert response.status_code == 400
        assert "This form has expired" in text(response)
    assert stored(app, credential).name == "Main Twilio"


# --- delete -------------------------------------------------------------------------------

def test_delete_is_refused_while_a_channel_configuration_uses_the_credential(signed_in, app, fake_twilio, credential):
    make_channel_configuration(app, credential, name="Spring_sale")
    make_channel_configuration(app, credential, name="Receipts")
    refusal = ("API credential Main Twilio is used by channel configurations Receipts, Spring_sale "
               "and cannot be deleted.")
    assert refusal in text(signed_in.get(f"/credentials/{credential}/delete"))
    response = signed_in.post(f"/credentials/{credential}/delete")
    assert response.status_code == 303
    assert refusal in text(signed_in.get("/credentials"))
    response = signed_in.post(f"/credentials/{credential}/delete", htmx=True)
    assert response.status_code == 409
    assert f'<tr id="credential-{credential}">' in text(response) and refusal in text(response)
    assert stored(app, credential) is not None
    assert audit_entries(app) == []


def test_delete_after_confirmation_without_javascript(signed_in, app, fake_twilio, credential, in_app):
    page = text(signed_in.get(f"/credentials/{credential}/delete"))
    assert "Delete API credential Main Twilio?" in page and "cannot be undone" in page
    response = signed_in.post(f"/credentials/{credential}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/credentials"
    assert "API credential Main Twilio deleted." in text(signed_in.get("/credentials"))
    assert stored(app, credential) is None
    with in_app():
        assert CredentialNumber.select().count() == 0
    entry = audit_entries(app)[-1]
    assert entry.action == "delete" and entry.changed_fields["name"] == ["Main Twilio", None]


def test_delete_with_htmx_removes_the_row_in_place(signed_in, app, fake_twilio, credential):
    page = text(signed_in.get("/credentials"))
    assert f'hx-post="/credentials/{credential}/delete"' in page
    assert 'hx-confirm="Delete API credential Main Twilio?"' in page
    response = signed_in.post(f"/credentials/{credential}/delete", htmx=True)
    assert response.status_code == 200
    fragment = text(response)
    assert "<tr" not in fragment  # the row is swapped for nothing
    assert 'hx-swap-oob="true"' in fragment and "API credential Main Twilio deleted." in fragment
    assert stored(app, credential) is None


# --- Verify SMS connection ------------------------------------------------------------------


def test_the_counter_fragment_as_the_admin_types(signed_in, fake_twilio, credential):
    signed_in.get(f"/credentials/{credential}/verify")
    url = f"/credentials/{credential}/verify?_counter=1"
    fragment = text(signed_in.post(url, {"message": "a" * 161}, htmx=True))
    assert fragment.lstrip().startswith('<span id="message-counter">') and "<html" not in fragment
    assert "161 characters · 2 segments (GSM-7)" in fragment
    assert "1 character · 1 segment (GSM-7)" in text(signed_in.post(url, {"message": "a"}, htmx=True))
    assert "2 characters · 1 segment (UCS-2)" in text(signed_in.post(url, {"message": "a😀"}, htmx=True))
    fragment = text(signed_in.post(url, {"message": "a" * 159 + "€"}, htmx=True))
    assert "160 characters · 2 segments (GSM-7)" in fragment and "These characters count twice: €" in fragment
    # Line breaks arrive as CRLF from a browser and count once, as they are sent.
    assert "3 characters" in text(signed_in.post(url, {"message": "a\r\nb"}, htmx=True))
    # Without JavaScript the Count button re-renders the page; nothing is sent.
    page = text(signed_in.post(url, {"number": "+14155550123", "message": "Hello"}))
    assert "5 characters · 1 segment (GSM-7)" in page and "\r\nHello</textarea>" in page
    assert fake_twilio.requests_matching("POST") == []


def test_verify_sms_sends_through_the_messaging_service_and_shows_the_message(
        signed_in, app, fake_twilio, credential):
    page = text(signed_in.get(f"/credentials/{credential}/verify"))
    assert "<h1>Verify SMS connection</h1>" in page and '<label for="number">Number</label>' in page
    assert '<label for="message">Message</label>' in page and "0 characters · 0 segments" in page
    response = signed_in.post(f"/credentials/{credential}/verify", {"number": "+14155550123", "message": "Hello €"})
    assert response.status_code == 303
    sent = fake_twilio.requests_matching("POST", API_HOST,
                                         f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json")
    assert len(sent) == 1
    assert sent[0].form["To"] == "+14155550123" and sent[0].form["Body"] == "Hello €"
    assert sent[0].form["MessagingServiceSid"] == fake_twilio.service_sid
    assert "StatusCallback" not in sent[0].form  # PUBLIC_BASE_URL is not set
    sid = next(iter(fake_twilio.messages))
    assert response.headers["Location"] == f"/credentials/{credential}/messages/{sid}"
    page = text(signed_in.get(response.headers["Location"]))
    assert f'<code id="message-sid">{sid}</code>' in page and "<code>accepted</code>" in page
    assert_secret_absent(response, fake_twilio.auth_token)


def test_verify_sms_with_htmx_shows_the_result_in_place_and_keeps_the_form(signed_in, fake_twilio, credential):
    signed_in.get(f"/credentials/{credential}/verify")
    response = signed_in.post(f"/credentials/{credential}/verify", {"number": "+14155550123", "message": "Hi"},
                              htmx=True)
    assert response.status_code == 200
    fragment = text(response)
    sid = next(iter(fake_twilio.messages))
    assert fragment.lstrip().startswith('<section id="verify-section">') and "<html" not in fragment
    assert f'<code id="message-sid">{sid}</code>' in fragment and 'value="+14155550123"' in fragment


def test_refresh_fetches_the_status_again(signed_in, fake_twilio, credential):
    signed_in.get(f"/credentials/{credential}/verify")
    signed_in.post(f"/credentials/{credential}/verify", {"number": "+14155550123", "message": "Hi"})
    sid = next(iter(fake_twilio.messages))
    fake_twilio.messages[sid].status = "delivered"
    fragment = text(signed_in.htmx_get(f"/credentials/{credential}/messages/{sid}"))
    assert fragment.lstrip().startswith('<div id="message-status-panel"') and "<code>delivered</code>" in fragment
    assert "delivered to the phone" in fragment
    fake_twilio.messages[sid].status, fake_twilio.messages[sid].error_code = "undelivered", 30003
    fake_twilio.messages[sid].error_message = "Unreachable destination handset"
    page = text(signed_in.get(f"/credentials/{credential}/messages/{sid}"))
    assert "Twilio error 30003: Unreachable destination handset" in page
    missing = new_sid("SM")
    page = text(signed_in.get(f"/credentials/{credential}/messages/{missing}"))
    assert "Twilio error 20404" in page
    assert signed_in.get(f"/credentials/{credential}/messages/not-a-sid").status_code == 404


@pytest.mark.parametrize("data, field, message", [
    ({"number": "", "message": "Hi"}, "number", "Enter the number to send the test message to."),
    ({"number": "0412 345 678", "message": "Hi"}, "number", "Start the number with + and its country code"),
    ({"number": "+14155550123", "message": ""}, "message", "Enter the message to send."),
    ({"number": "+14155550123", "message": "x" * 1601}, "message", "A message has at most 1600 characters."),
])
def test_verify_sms_bad_input(signed_in, fake_twilio, credential, data, field, message):
    signed_in.get(f"/credentials/{credential}/verify")
    response = signed_in.post(f"/credentials/{credential}/verify", data)
    assert response.status_code == 422
    assert message in field_error(text(response), field)
    assert fake_twilio.requests_matching("POST") == []


def test_twilios_21211_shows_next_to_the_number(signed_in, fake_twilio, credential, monkeypatch):
    # This fake Twilio knows only North American numbers: others are Twilio's 21211.
    monkeypatch.setattr(tests.support.fake_twilio, "E164", re.compile(r"^\+1\d{10}$"))
    signed_in.get(f"/credentials/{credential}/verify")
    response = signed_in.post(f"/credentials/{credential}/verify", {"number": "+442071838750", "message": "Hi"})
    assert response.status_code == 422
    assert field_error(text(response), "number") == (
        "Twilio error 21211: The &#39;To&#39; number +442071838750 is not a valid phone number.")
    assert "\r\nHi</textarea>" in text(response)


def test_unreachable_twilio_on_send_keeps_the_input(signed_in, app, credential):
    app.config["TWILIO_BASE_URL"] = closed_port_url()
    signed_in.get(f"/credentials/{credential}/verify")
    response = signed_in.post(f"/credentials/{credential}/verify", {"number": "+14155550123", "message": "Hi"},
                              htmx=True)
    assert response.status_code == 422
    page = text(response)
    assert "Twilio could not be reached: connection refused. Your input is kept; try again." in page
    assert ">Send again</button>" in page and 'value="+14155550123"' in page and "\r\nHi</textarea>" in page


def test_the_status_callback_goes_along_when_the_app_has_a_public_address(signed_in, app, fake_twilio, in_app):
    credential = make_credential(app, fake_twilio, numbers={"dev": "+14155550102", "prod": "+14155550101"})
    app.config["PUBLIC_BASE_URL"] = "https://setup.example.com"
    signed_in.get(f"/credentials/{credential}/verify")
    assert signed_in.post(f"/credentials/{credential}/verify",
                          {"number": "+14155550123", "message": "Hi"}).status_code == 303
    with in_app():
        number = CredentialNumber.get(CredentialNumber.credential == credential,
                                      CredentialNumber.sandbox == sandbox_id(app, "prod"))
    sent = fake_twilio.requests_matching("POST", API_HOST)[-1]
    # The receiver of the credential's number in the current sandbox (prod).
    assert sent.form["StatusCallback"] == f"https://setup.example.com/hooks/twilio/{number.webhook_key}/status"
