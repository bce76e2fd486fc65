"""Channel configurations: create (draft or submitted), the form's rules, the credential and
its sender number per sandbox, edit with its conflict, duplicate, delete and the audit log."""
import html
import re

import pytest

from tests.support.channels import form_data
from tests.support.factories import make_channel_configuration, make_credential
from tests.support.html import field_error, option_values, selected_option, text
from wizard.core.db import database
from wizard.core.models import ApiCredential, AuditEntry, ChannelConfiguration, Sandbox

PROD_NUMBER = "+14155550101"


def configuration_named(app, name):
    with app.app_context(), database.connection_context():
        return ChannelConfiguration.get_or_none(ChannelConfiguration.name == name)


def count_configurations(app):
    with app.app_context(), database.connection_context():
        return ChannelConfiguration.select().count()


def audit_of(app, configuration_id=None):
    with app.app_context(), database.connection_context():
        query = AuditEntry.select().where(AuditEntry.object_type == "ChannelConfiguration")
        if configuration_id is not None:
            query = query.where(AuditEntry.object_id == configuration_id)
        return list(query.order_by(AuditEntry.id))


def switch_to(client, app, sandbox_name):
    with app.app_context(), database.connection_context():
        sandbox = Sandbox.get_or_none(Sandbox.name == sandbox_name) or Sandbox.create(
            name=sandbox_name, name_key=sandbox_name.casefold())
    client.post("/sandboxes/current", {"sandbox": sandbox.id, "next": "/channels"})


@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio)


# --- Create ------------------------------------------------------------------------------

def test_the_list_starts_empty_and_offers_a_new_configuration(signed_in):
    page = text(signed_in.get("/channels"))
    assert "<h1>Channel configurations</h1>" in page
    assert "Sandbox prod has no channel configurations yet." in page
    assert 'href="/channels/new"' in page


def test_the_only_credential_of_the_sandbox_is_chosen_with_its_number(signed_in, credential):
    page = text(signed_in.get("/channels/new"))
    assert selected_option(page, "credential") == (str(credential), "Main Twilio")
    assert option_values(page, "sender_number") == [PROD_NUMBER]
    assert selected_option(page, "channel") == ("sms", "SMS/MMS")
    assert 'value="mobilePhone.number"' in page
    assert 'name="action" value="draft"' in page and 'name="action" value="submit"' in page


def test_save_as_draft(signed_in, app, credential, fake_twilio):
    signed_in.get("/channels/new")
    fake_twilio.clear_requests()
    response = signed_in.post("/channels/new", form_data(credential, subdomain="Go.Example.com"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/channels"
    page = text(signed_in.get("/channels"))
    assert "Channel configuration Spring_sale saved as a draft." in page
    row = re.search(r'<tr id="channel-\d+">.*?</tr>', page, re.S).group(0)
    for shown in ("Spring_sale", "SMS/MMS", "Marketing", "Main Twilio", "+1 415-555-0101 · United States", "Draft"):
        assert shown in row
    assert fake_twilio.requests == []  # a draft asks Twilio nothing
    saved = configuration_named(app, "Spring_sale")
    assert (saved.status, saved.status_reason, saved.subdomain, saved.sandbox.name) == (
        "draft", None, "go.example.com", "prod")
    [entry] = audit_of(app, saved.id)
    assert entry.action == "create"
    assert entry.changed_fields["name"] == [None, "Spring_sale"]
    assert entry.changed_fields["credential"] == [None, "Main Twilio"]
    assert entry.changed_fields["status"] == [None, "draft"]


def test_submit_verifies_the_credential_live_and_makes_it_active(signed_in, app, credential, fake_twilio, in_app):
    signed_in.get("/channels/new")
    fake_twilio.clear_requests()
    response = signed_in.post("/channels/new", form_data(credential, action="submit"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/channels"
    page = text(signed_in.get("/channels"))
    assert ("Channel configuration Spring_sale is active: API credential Main Twilio passed the check with Twilio."
            in page)
    assert "Active" in re.search(r'<tr id="channel-\d+">.*?</tr>', page, re.S).group(0)
    assert fake_twilio.requests_matching("GET", path=f"/2010-04-01/Accounts/{fake_twilio.account_sid}.json")
    assert fake_twilio.requests_matching("GET", path=f"/v1/Services/{fake_twilio.service_sid}")
    saved = configuration_named(app, "Spring_sale")
    assert (saved.status, saved.status_reason) == ("active", None)
    with in_app():
        checked = ApiCredential.get_by_id(credential)
        assert checked.verification_state == "verified" and checked.verified_at is not None
    assert audit_of(app, saved.id)[0].changed_fields["status"] == [None, "active"]


def test_submit_with_a_suspended_account_stays_a_draft_with_the_reason(signed_in, app, credential, fake_twilio, in_app):
    fake_twilio.accounts[fake_twilio.account_sid].status = "suspended"
    signed_in.get("/channels/new")
    response = signed_in.post("/channels/new", form_data(credential, action="submit"))
    saved = configuration_named(app, "Spring_sale")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/channels/{saved.id}"  # back to it, to see why
    reason = "This Twilio account is suspended and cannot send messages. Reactivate it in the Twilio console first."
    assert (saved.status, saved.status_reason) == ("draft", reason)
    page = text(signed_in.get(response.headers["Location"]))
    assert ("Channel configuration Spring_sale was saved but stays a draft: API credential Main Twilio did not "
            "pass the check with Twilio.") in page
    assert f"The last submit failed: {reason}" in page
    assert f"The last submit failed: {reason}" in text(signed_in.get("/channels"))
    with in_app():
        checked = ApiCredential.get_by_id(credential)
        assert (checked.verification_state, checked.verification_error) == ("failed", reason)


def test_submit_shows_twilios_own_code_and_text(signed_in, app, fake_twilio):
    wrong_token = make_credential(app, fake_twilio, auth_token="0" * 32)
    signed_in.get("/channels/new")
    signed_in.post("/channels/new", form_data(wrong_token, action="submit"))
    saved = configuration_named(app, "Spring_sale")
    assert saved.status == "draft"
    assert saved.status_reason.startswith("Twilio error 20003: ")
    assert "Twilio error 20003: " in text(signed_in.get(f"/channels/{saved.id}"))


def test_names_of_128_characters_and_longest_fields_are_fine(signed_in, app, credential):
    signed_in.get("/channels/new")
    name = "N" + "x" * 127
    response = signed_in.post("/channels/new", form_data(
        credential, name=name, description="d" * 1000, execution_field="a" * 255,
        subdomain="a" * 63 + "." + "b" * 63 + ".example.com"))
    assert response.status_code == 303, text(response)
    assert configuration_named(app, name) is not None


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"name": ""}, "name", "Enter a name for the channel configuration."),
        ({"name": "   "}, "name", "Enter a name for the channel configuration."),
        ({"name": "1st_sale"}, "name", "A name starts with a letter, A to Z."),
        ({"name": "_sale"}, "name", "A name starts with a letter, A to Z."),
        ({"name": "Éte"}, "name", "A name starts with a letter, A to Z."),
        ({"name": "Spring sale!"}, "name", "A name has only letters A-Z, digits and _ . - (not “ ” “!”)."),
        ({"name": "N" * 129}, "name", "A name has at most 128 characters."),
        ({"description": "d" * 1001}, "description", "A description has at most 1000 characters."),
        ({"channel": "fax"}, "channel", "Choose a channel."),
        ({"sms_type": ""}, "sms_type", "Choose Marketing or Transactional."),
        ({"sms_type": "bulk"}, "sms_type", "Choose Marketing or Transactional."),
        ({"credential": ""}, "credential", "Choose an API credential."),
        ({"credential": "999"}, "credential", "That API credential no longer exists. Choose another one."),
        ({"sender_number": ""}, "sender_number", "Choose the sender number."),
        ({"subdomain": "https://go.example.com/"}, "subdomain",
         "Enter only the host name, like go.example.com, without https:// or a path."),
        ({"subdomain": "localhost"}, "subdomain", "Enter a host name like go.example.com: parts of letters, digits "
                                                  "and hyphens, separated by dots."),
        ({"subdomain": "-go.example.com"}, "subdomain", "Enter a host name like go.example.com: parts of letters, "
                                                        "digits and hyphens, separated by dots."),
        ({"subdomain": "go_links.example.com"}, "subdomain", "Enter a host name like go.example.com: parts of "
                                                             "letters, digits and hyphens, separated by dots."),
        ({"subdomain": ("a" * 63 + ".") * 4 + "com"}, "subdomain", "A host name has at most 253 characters."),
        ({"execution_field": ""}, "execution_field",
         "Enter the profile attribute that holds the phone number, e.g. mobilePhone.number."),
        ({"execution_field": "mobile phone"}, "execution_field",
         "Enter the attribute's path like mobilePhone.number: names of letters, digits and _, separated by dots, "
         "each starting with a letter or _."),
        ({"execution_field": "mobilePhone..number"}, "execution_field",
         "Enter the attribute's path like mobilePhone.number: names of letters, digits and _, separated by dots, "
         "each starting with a letter or _."),
        ({"execution_field": "1phone"}, "execution_field",
         "Enter the attribute's path like mobilePhone.number: names of letters, digits and _, separated by dots, "
         "each starting with a letter or _."),
        ({"execution_field": "a" * 256}, "execution_field", "An execution field has at most 255 characters."),
    ],
)
def test_bad_input_gets_an_error_next_to_the_field_and_saves_nothing(signed_in, app, credential, changes, field,
                                                                     message):
    signed_in.get("/channels/new")
    for htmx in (False, True):
        for action in ("draft", "submit"):
            response = signed_in.post("/channels/new", form_data(credential, action=action, **changes), htmx=htmx)
            assert response.status_code == 422
            page = text(response)
            assert field_error(page, field) == message
            assert ("<html" in page) is not htmx
    assert count_configurations(app) == 0


def test_what_was_typed_stays_after_an_error(signed_in, credential):
    signed_in.get("/channels/new")
    page = text(signed_in.post("/channels/new", form_data(
        credential, name="9lives", description="Kept text", sms_type="transactional", subdomain="go.example.com")))
    assert 'value="9lives"' in page and "Kept text</textarea>" in page and 'value="go.example.com"' in page
    assert selected_option(page, "sms_type") == ("transactional", "Transactional")
    assert selected_option(page, "credential")[0] == str(credential)


def test_names_are_unique_ignoring_case_in_a_sandbox_and_free_in_another(signed_in, app, fake_twilio, credential):
    other = make_credential(app, fake_twilio, name="Dev Twilio", numbers={"dev": "+14155550102"})
    make_channel_configuration(app, other, name="Spring_sale", sandbox="dev")
    make_channel_configuration(app, credential, name="Summer_sale")
    signed_in.get("/channels/new")
    response = signed_in.post("/channels/new", form_data(credential, name="SUMMER_SALE"))
    assert response.status_code == 422
    assert field_error(text(response), "name") == (
        "A channel configuration with this name already exists in this sandbox.")
    assert count_configurations(app) == 2

    # Sandboxes are separate environments: dev's name is free in prod.
    response = signed_in.post("/channels/new", form_data(credential, name="SPRING_SALE"))
    assert response.status_code == 303, text(response)
    with app.app_context(), database.connection_context():
        assert sorted((c.sandbox.name, c.name) for c in ChannelConfiguration.select()) == [
            ("dev", "Spring_sale"), ("prod", "SPRING_SALE"), ("prod", "Summer_sale")]
    edited = configuration_named(app, "SPRING_SALE")
    response = signed_in.post(f"/channels/{edited.id}", form_data(credential, name="summer_sale",
                                                                  version=str(edited.version)))
    assert response.status_code == 422
    assert field_error(text(response), "name") == (
        "A channel configuration with this name already exists in this sandbox.")


def test_names_with_html_are_shown_escaped(signed_in, app, fake_twilio):
    credential = make_credential(app, fake_twilio, name="<b>Bold</b> Twilio")
    signed_in.get("/channels/new")
    refused = text(signed_in.post("/channels/new", form_data(credential, name="Bad<script>alert(1)</script>")))
    assert "<script>alert(1)" not in refused
    assert 'value="Bad&lt;script&gt;alert(1)&lt;/script&gt;"' in refused
    assert "(not “&lt;” “&gt;” “(” “)” “/”)" in refused
    signed_in.post("/channels/new", form_data(credential, description="<img src=x onerror=alert(1)>"))
    saved = configuration_named(app, "Spring_sale")
    for page in (text(signed_in.get("/channels")), text(signed_in.get(f"/channels/{saved.id}"))):
        assert "<b>Bold</b>" not in page and "&lt;b&gt;Bold&lt;/b&gt; Twilio" in page
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


# --- The credential and its sender number ----------------------------------------------

def test_a_link_with_a_credential_preselects_it_and_its_number(signed_in, app, fake_twilio, credential):
    second = make_credential(app, fake_twilio, name="Backup Twilio", numbers={"prod": "+14155550103"},
                             messaging_service_sid=fake_twilio.second_service_sid)
    page = text(signed_in.get("/channels/new"))  # two to choose from: none is chosen for the admin
    assert selected_option(page, "credential") == ("", "Choose an API credential")
    assert option_values(page, "credential") == ["", str(second), str(credential)]  # by name
    assert option_values(page, "sender_number") == [""]
    page = text(signed_in.get(f"/channels/new?credential={second}"))
    assert selected_option(page, "credential") == (str(second), "Backup Twilio")
    assert option_values(page, "sender_number") == ["+14155550103"]
    assert field_error(page, "credential") is None
    response = signed_in.post("/channels/new", form_data(second, sender_number="+14155550103"))
    assert response.status_code == 303
    assert configuration_named(app, "Spring_sale").sender_number == "+14155550103"


def test_choosing_another_credential_brings_its_number_in_place(signed_in, app, fake_twilio, credential):
    second = make_credential(app, fake_twilio, name="Backup Twilio", numbers={"prod": "+14155550103"})
    response = signed_in.htmx_get(f"/channels/new?_field=credential&credential={second}")
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="credential-fields">') and "<html" not in fragment
    assert selected_option(fragment, "credential")[0] == str(second)
    assert option_values(fragment, "sender_number") == ["+14155550103"]
    # Back to "choose": the sender number waits for a credential.
    response = signed_in.htmx_get("/channels/new?_field=credential&credential=")
    assert response.status_code == 422
    assert field_error(text(response), "credential") == "Choose an API credential."
    assert option_values(text(response), "sender_number") == [""]
    # The same on an existing configuration's page.
    configuration = make_channel_configuration(app, credential)
    response = signed_in.htmx_get(f"/channels/{configuration}?_field=credential&credential={second}")
    assert option_values(text(response), "sender_number") == ["+14155550103"]


def test_without_javascript_the_server_checks_the_credential_and_number_belong_together(
        signed_in, app, fake_twilio, credential):
    second = make_credential(app, fake_twilio, name="Backup Twilio", numbers={"prod": "+14155550103"})
    signed_in.get("/channels/new")
    # The admin changed the credential; the list still showed the first one's number.
    response = signed_in.post("/channels/new", form_data(second, sender_number=PROD_NUMBER))
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, "sender_number") == (
        "API credential Backup Twilio sends from +14155550103 in sandbox prod, not from +14155550101. "
        "Its number is selected now; save again to use it.")
    assert option_values(page, "sender_number") == ["+14155550103"]
    assert count_configurations(app) == 0
    assert signed_in.post("/channels/new", form_data(second, sender_number="+14155550103")).status_code == 303


def test_a_credential_without_a_number_in_this_sandbox_says_how_to_fix_it(signed_in, app, fake_twilio, credential):
    dev_only = make_credential(app, fake_twilio, name="Dev Twilio", numbers={"dev": "+14155550102"})
    message = ("API credential Dev Twilio has no number in sandbox prod. Add its incoming number for sandbox prod "
               "on the API credential's page, then choose it here.")
    page = text(signed_in.get(f"/channels/new?credential={dev_only}"))  # e.g. from the guided flow's last step
    assert html.unescape(field_error(page, "credential")) == message
    assert selected_option(page, "credential") == (str(dev_only), "Dev Twilio (no number in sandbox prod)")
    assert f'href="/credentials/{dev_only}">Add a number for sandbox prod to API credential Dev Twilio</a>' in page
    assert option_values(page, "sender_number") == [""]
    response = signed_in.post("/channels/new", form_data(dev_only, sender_number="+14155550102"))
    assert response.status_code == 422
    assert html.unescape(field_error(text(response), "credential")) == message
    assert field_error(text(response), "sender_number") is None
    assert count_configurations(app) == 0


def test_a_sandbox_without_numbers_explains_where_to_add_one(signed_in, app, fake_twilio):
    make_credential(app, fake_twilio, numbers={"dev": "+14155550102"})
    page = text(signed_in.get("/channels/new"))
    assert ("No API credential has an incoming number in sandbox prod yet, so this configuration has nothing "
            "to send through.") in page
    assert 'href="/credentials"' in page
    assert option_values(page, "credential") == [""]


# --- Checking a field as the admin leaves it --------------------------------------------

def test_a_field_is_checked_alone_as_the_admin_leaves_it(signed_in, app, credential):
    signed_in.get("/channels/new")
    response = signed_in.post("/channels/new?_field=name", form_data(credential, name="9lives"), htmx=True)
    assert response.status_code == 422
    fragment = text(response)
    assert fragment.lstrip().startswith('<div class="field" id="field-name">')
    assert field_error(fragment, "name") == "A name starts with a letter, A to Z."
    assert 'id="field-description"' not in fragment and "<html" not in fragment
    response = signed_in.post("/channels/new?_field=name", form_data(credential, sms_type=""), htmx=True)
    assert response.status_code == 200  # the other fields' errors wait until they are left or submitted
    assert field_error(text(response), "name") is None
    response = signed_in.post("/channels/new?_field=subdomain", form_data(credential, subdomain="x"), htmx=True)
    assert field_error(text(response), "subdomain").startswith("Enter a host name like go.example.com")
    assert count_configurations(app) == 0
    assert signed_in.post("/channels/new?_field=status", form_data(credential), htmx=True).status_code == 400
    assert signed_in.htmx_get("/channels/new?_field=description").status_code == 400
    # On an existing configuration its own name is no clash.
    configuration = make_channel_configuration(app, credential, name="Spring_sale")
    response = signed_in.post(f"/channels/{configuration}?_field=name", form_data(credential), htmx=True)
    assert response.status_code == 200


def test_the_fields_carry_their_htmx_checks(signed_in, credential):
    page = text(signed_in.get("/channels/new"))
    name_input = re.search(r'<input[^>]*id="name"[^>]*>', page).group(0)
    for attribute in ('hx-post="/channels/new?_field=name"', 'hx-trigger="change"', 'hx-target="#field-name"',
                      'hx-swap="outerHTML"', 'hx-sync="this:replace"'):
        assert attribute in name_input
    credential_select = re.search(r'<select[^>]*id="credential"[^>]*>', page).group(0)
    assert 'hx-get="/channels/new?_field=credential"' in credential_select
    assert 'hx-target="#credential-fields"' in credential_select
    assert 'novalidate' in re.search(r'<form id="channel-form"[^>]*>', page).group(0)


# --- Sandboxes ---------------------------------------------------------------------------

def test_everything_is_scoped_to_the_current_sandbox(signed_in, app, fake_twilio):
    both = make_credential(app, fake_twilio, numbers={"prod": PROD_NUMBER, "dev": "+14155550102"})
    prod_only = make_credential(app, fake_twilio, name="Prod only", numbers={"prod": "+14155550103"})
    in_prod = make_channel_configuration(app, both, name="Prod_sale", sandbox="prod")
    in_dev = make_channel_configuration(app, both, name="Dev_sale", sandbox="dev")

    page = text(signed_in.get("/channels"))
    assert "Prod_sale" in page and "Dev_sale" not in page
    assert option_values(text(signed_in.get("/channels/new")), "credential") == ["", str(both), str(prod_only)]

    switch_to(signed_in, app, "dev")
    page = text(signed_in.get("/channels"))
    assert "Dev_sale" in page and "Prod_sale" not in page
    new = text(signed_in.get("/channels/new"))
    assert option_values(new, "credential") == ["", str(both)]
    assert option_values(new, "sender_number") == ["+14155550102"]
    signed_in.post("/channels/new", form_data(both, name="Dev_news", sender_number="+14155550102"))
    assert configuration_named(app, "Dev_news").sandbox.name == "dev"

    # Another sandbox's configuration is not opened, changed, copied or deleted from here.
    response = signed_in.get(f"/channels/{in_prod}")
    assert response.status_code == 303 and response.headers["Location"] == "/channels"
    assert ("Channel configuration Prod_sale belongs to sandbox prod. Switch to that sandbox to open it."
            in text(signed_in.get("/channels")))
    for url in (f"/channels/{in_prod}/duplicate", f"/channels/{in_prod}/delete"):
        assert signed_in.post(url).status_code == 303
    assert signed_in.post(f"/channels/{in_prod}", form_data(both, name="Hijacked")).status_code == 303
    assert configuration_named(app, "Prod_sale") is not None
    assert count_configurations(app) == 3
    assert signed_in.get(f"/channels/{in_dev}").status_code == 200


def test_unknown_configurations_are_404(signed_in):
    for url in ("/channels/999", "/channels/999/delete"):
        assert signed_in.get(url).status_code == 404
    assert signed_in.post("/channels/999/duplicate").status_code == 404


# --- Edit --------------------------------------------------------------------------------

def test_edit_a_configuration_and_submit_it(signed_in, app, credential):
    configuration = make_channel_configuration(app, credential, name="Spring_sale")
    page = text(signed_in.get(f"/channels/{configuration}"))
    assert "<h1>Channel configuration Spring_sale</h1>" in page
    assert 'name="version" type="hidden" value="1"' in page
    assert selected_option(page, "sms_type") == ("marketing", "Marketing")
    response = signed_in.post(f"/channels/{configuration}", form_data(
        credential, name="Summer_sale", sms_type="transactional", version="1", action="submit"))
    assert response.status_code == 303
    saved = configuration_named(app, "Summer_sale")
    assert (saved.id, saved.status, saved.sms_type, saved.version) == (configuration, "active", "transactional", 2)
    [entry] = [e for e in audit_of(app, configuration) if e.action == "update"]
    assert entry.changed_fields == {"name": ["Spring_sale", "Summer_sale"], "sms_type": ["marketing", "transactional"],
                                    "description": ["", "Promotions for the spring."], "status": ["draft", "active"]}
    # Saving as a draft takes an active configuration back to draft.
    signed_in.post(f"/channels/{configuration}", form_data(credential, name="Summer_sale", version="2"))
    assert configuration_named(app, "Summer_sale").status == "draft"


def test_an_edit_over_someone_elses_save_is_a_conflict_that_keeps_the_input(signed_in, app, credential):
    configuration = make_channel_configuration(app, credential, name="Spring_sale")
    signed_in.get(f"/channels/{configuration}")
    assert signed_in.post(f"/channels/{configuration}", form_data(
        credential, name="Theirs", version="1")).status_code == 303
    for htmx in (True, False):
        response = signed_in.post(f"/channels/{configuration}", form_data(
            credential, name="Mine", description="My words", version="1"), htmx=htmx)
        assert response.status_code == 409
        page = text(response)
        assert "Someone else saved this channel configuration while you were editing it." in page
        assert "The saved values now differ in: Name, Description." in page
        assert 'value="Mine"' in page and "My words</textarea>" in page
        assert 'name="version" type="hidden" value="2"' in page
    assert configuration_named(app, "Theirs") is not None
    # Saving again, knowingly, replaces their values.
    assert signed_in.post(f"/channels/{configuration}", form_data(
        credential, name="Mine", version="2")).status_code == 303
    assert configuration_named(app, "Mine").version == 3


def test_an_edit_keeps_its_name_and_may_change_case(signed_in, app, credential):
    configuration = make_channel_configuration(app, credential, name="Spring_sale")
    signed_in.get(f"/channels/{configuration}")
    response = signed_in.post(f"/channels/{configuration}", form_data(credential, name="SPRING_sale", version="1"))
    assert response.status_code == 303
    assert configuration_named(app, "SPRING_sale") is not None


# --- Duplicate and delete ------------------------------------------------------------------

def test_duplicate_copies_as_a_draft_and_opens_the_copy(signed_in, app, credential):
    original = make_channel_configuration(app, credential, name="Spring_sale", status="active",
                                          subdomain="go.example.com", description="Spring")
    signed_in.get("/channels")
    response = signed_in.post(f"/channels/{original}/duplicate")
    assert response.status_code == 303
    copy = configuration_named(app, "Spring_sale-copy")
    assert response.headers["Location"] == f"/channels/{copy.id}"
    assert (copy.status, copy.subdomain, copy.description, copy.sender_number, copy.sandbox.name) == (
        "draft", "go.example.com", "Spring", PROD_NUMBER, "prod")
    page = text(signed_in.get(response.headers["Location"]))
    assert "Channel configuration Spring_sale copied as Spring_sale-copy, a draft." in page
    assert 'value="Spring_sale-copy"' in page
    signed_in.post(f"/channels/{original}/duplicate")
    signed_in.post(f"/channels/{original}/duplicate", htmx=True)
    assert configuration_named(app, "Spring_sale-copy-2") is not None
    assert configuration_named(app, "Spring_sale-copy-3") is not None
    assert [e.action for e in audit_of(app, copy.id)] == ["create"]


def test_a_copy_is_named_by_what_its_own_sandbox_holds(signed_in, app, fake_twilio, credential):
    other = make_credential(app, fake_twilio, name="Dev Twilio", numbers={"dev": "+14155550102"})
    make_channel_configuration(app, other, name="Spring_sale-copy", sandbox="dev")
    original = make_channel_configuration(app, credential, name="Spring_sale")
    signed_in.get("/channels")
    response = signed_in.post(f"/channels/{original}/duplicate")
    assert response.status_code == 303
    assert "copied as Spring_sale-copy, a draft." in text(signed_in.get(response.headers["Location"]))
    with app.app_context(), database.connection_context():
        assert sorted((c.sandbox.name, c.name) for c in ChannelConfiguration.select()) == [
            ("dev", "Spring_sale-copy"), ("prod", "Spring_sale"), ("prod", "Spring_sale-copy")]


def test_duplicating_a_long_name_stays_within_128_characters(signed_in, app, credential):
    name = "L" + "o" * 127
    original = make_channel_configuration(app, credential, name=name)
    signed_in.get("/channels")
    signed_in.post(f"/channels/{original}/duplicate")
    copy = configuration_named(app, "L" + "o" * 122 + "-copy")
    assert copy is not None and len(copy.name) == 128


def test_delete_asks_first_then_deletes_and_records_it(signed_in, app, credential):
    configuration = make_channel_configuration(app, credential, name="Spring_sale")
    page = text(signed_in.get(f"/channels/{configuration}/delete"))
    assert "<h1>Delete channel configuration Spring_sale?</h1>" in page
    response = signed_in.post(f"/channels/{configuration}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/channels"
    assert "Channel configuration Spring_sale deleted." in text(signed_in.get("/channels"))
    assert configuration_named(app, "Spring_sale") is None
    entry = audit_of(app, configuration)[-1]
    assert entry.action == "delete"
    assert entry.changed_fields["name"] == ["Spring_sale", None]
    assert entry.changed_fields["credential"] == ["Main Twilio", None]


def test_delete_with_htmx_updates_the_list_in_place(signed_in, app, credential):
    keep = make_channel_configuration(app, credential, name="Keep_me")
    gone = make_channel_configuration(app, credential, name="Spring_sale")
    page = text(signed_in.get("/channels"))
    assert 'hx-confirm="Delete channel configuration Spring_sale?"' in page
    response = signed_in.post(f"/channels/{gone}/delete", htmx=True)
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<section id="channel-configurations">') and "<html" not in fragment
    assert f'id="channel-{keep}"' in fragment and f'id="channel-{gone}"' not in fragment
    assert 'hx-swap-oob="true"' in fragment and "Channel configuration Spring_sale deleted." in fragment
    assert [e.action for e in audit_of(app, gone)] == ["delete"]


def test_forms_without_their_csrf_token_save_nothing(signed_in, app, credential):
    configuration = make_channel_configuration(app, credential, name="Spring_sale")
    for url, data in (("/channels/new", form_data(credential, name="Sneaky")),
                      (f"/channels/{configuration}", form_data(credential, name="Sneaky", version="1")),
                      (f"/channels/{configuration}/duplicate", {}),
                      (f"/channels/{configuration}/delete", {})):
        for htmx in (False, True):
            response = signed_in.post(url, data, csrf=False, htmx=htmx)
            assert response.status_code == 400
            assert "This form has expired" in text(response)
    assert count_configurations(app) == 1
    assert configuration_named(app, "Spring_sale") is not None
    assert audit_of(app) == []
