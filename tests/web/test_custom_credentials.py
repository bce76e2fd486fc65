"""Custom provider credentials on the API credentials page: the list beside Twilio ones, create
and edit outside the RCS flow (the shared fields, header rows, auth type swap, live preview,
sender numbers, optimistic locking), Send test request against a local HTTPS provider
(tests/support/provider_endpoints.py), and delete. No response and no database byte shows a secret."""
import html
import json

import pytest

from tests.support.app import ADMIN_PASSWORD, BrowserLikeClient, create_admin
from tests.support.custom_provider import API_KEY, JSON_TEMPLATE, SENDER, make_custom, new_data
from tests.support.custom_provider import custom_edit_data as edit_data
from tests.support.factories import make_channel_configuration, make_credential
from tests.support.html import field_error, text
from tests.support.network import closed_port_url
from tests.support.provider_endpoints import ProviderEndpoint, make_authority, oauth_token_route
from tests.support.queries import audit_entries, sandbox_id, stored
from wizard.core.db import database
from wizard.core.models import ApiCredential, ChannelConfiguration, CredentialNumber, CustomWebhook
from wizard.providers.custom.settings import REDACTED

NEW_KEY = "ak-live-0d9c8b7a6f5e4d3c2b1a0f9e"
CLIENT_SECRET = "cs-9a8b7c6d5e4f3a2b1c0d"
SECRETS = (API_KEY, NEW_KEY, CLIENT_SECRET)


# --- helpers ----------------------------------------------------------------------------

class WatchedClient:
    """The signed-in client, keeping every response body to look for secrets afterwards."""

    def __init__(self, client):
        self.client, self.bodies = client, []
        self.secrets = list(SECRETS)  # a test adds those it makes up as it goes (a private key)

    def __getattr__(self, name):
        return getattr(self.client, name)

    def _kept(self, response, url):
        self.bodies.append((url, response.get_data(as_text=True)))
        return response

    def get(self, url, *args, **kwargs):
        return self._kept(self.client.get(url, *args, **kwargs), url)

    def post(self, url, *args, **kwargs):
        return self._kept(self.client.post(url, *args, **kwargs), url)

    def htmx_get(self, url, **kwargs):
        return self._kept(self.client.htmx_get(url, **kwargs), url)


@pytest.fixture
def web(signed_in):
    """The signed-in admin's client; after the test, no response it got may hold a secret."""
    watched = WatchedClient(signed_in)
    yield watched
    assert watched.bodies
    for url, body in watched.bodies:
        for secret in watched.secrets:
            assert secret not in body, f"{url} shows a secret"


def raw_column(app, column: str, credential_id: int) -> str:
    """A column as the database holds it, without the model's decryption."""
    with app.app_context(), database.connection_context():
        query = f"SELECT {column} FROM api_credential WHERE id = {int(credential_id)}"
        return database.execute_sql(query).fetchone()[0]


def error_of(page: str, field_id: str) -> str:
    return html.unescape(field_error(page, field_id) or "")


def count(app, model=ApiCredential) -> int:
    with app.app_context(), database.connection_context():
        return model.select().count()


@pytest.fixture
def custom(app, provider_endpoint):
    return make_custom(app, provider_endpoint)


# --- the list ---------------------------------------------------------------------------

def test_the_list_shows_custom_credentials_beside_twilio_ones(web, app, fake_twilio, provider_endpoint):
    twilio = make_credential(app, fake_twilio, "Main Twilio")
    custom = make_custom(app, provider_endpoint, name="Acme RCS", provider_name="Acme")
    failed = make_custom(app, provider_endpoint, name="Broken RCS", provider_name="Acme",
                         numbers={"prod": "+14155550102"}, verification_state="failed",
                         verification_error="The provider answered 401 Unauthorized: bad key")
    page = text(web.get("/credentials"))
    assert "Main Twilio" in page and "Acme RCS" in page and "Broken RCS" in page
    row = page.split(f'<tr id="credential-{custom}">')[1].split("</tr>")[0]
    assert "Custom: Acme" in row and "127.0.0.1 · API key" in row and "prod: +1 415-555-0101 · United States" in row
    assert "API key: set" in row and "Never verified" in row
    assert f'href="/credentials/{custom}"' in row and ">Edit</a>" in row
    assert f'href="/credentials/{custom}/test"' in row and ">Send test request</a>" in row
    assert f'hx-post="/credentials/{custom}/delete"' in row
    assert "Verify SMS connection" not in row
    broken = page.split(f'<tr id="credential-{failed}">')[1].split("</tr>")[0]
    assert "Failed" in broken and "The provider answered 401 Unauthorized: bad key" in broken
    twilio_row = page.split(f'<tr id="credential-{twilio}">')[1].split("</tr>")[0]
    assert f"••••{fake_twilio.auth_token[-4:]}" in twilio_row and "Verify SMS connection" in twilio_row
    # Create new API credential: Twilio through the guided flow, or a custom provider.
    assert "Create new API credential" in page and 'action="/setup/sms"' in page
    assert 'href="/credentials/custom/new"' in page and ">Custom provider</a>" in page


def test_the_empty_list_offers_both_ways_to_a_credential(web):
    page = text(web.get("/credentials"))
    assert "No API credentials in sandbox prod yet" in page
    assert 'action="/setup/sms"' in page and 'href="/credentials/custom/new"' in page


# --- create -----------------------------------------------------------------------------

def test_the_new_page_has_the_shared_fields_and_takes_the_name_it_is_given(web, app):
    page = text(web.get("/credentials/custom/new?name=Acme%20RCS"))
    assert "<h1>New API credential with vendor Custom</h1>" in page
    assert 'value="Acme RCS"' in page
    for label in ("Provider name", "Provider URL", "Auth type", "Headers", "Payload format", "Provider payload"):
        assert label in page
    assert 'id="api_key_header"' in page and 'value="X-API-Key"' in page  # API key is the first auth type
    assert 'id="basic_username"' not in page
    assert "{{fromNumber}}" in page  # an example payload to start from
    prod = sandbox_id(app, "prod")
    assert f'<input checked id="use_{prod}"' in page  # the sandbox in the header is the likely one
    assert "Sender number for prod" in page
    # The shared template's htmx actions post to this page.
    assert 'data-hx-post="/credentials/custom/new"' in page and '"action": "auth_fields"' in html.unescape(page)
    assert 'value="add_header"' in page and 'novalidate' in page


def test_create_with_an_api_key_then_the_test_request_the_provider_receives(web, app, provider_endpoint, in_app):
    web.get("/credentials/custom/new")
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint))
    assert response.status_code == 303 and response.headers["Location"] == "/credentials"
    assert "API credential Local provider created. Send a test request to verify it." in text(web.get("/credentials"))
    with in_app():
        credential = ApiCredential.get(ApiCredential.name == "Local provider")
    saved = stored(app, credential.id)
    assert (saved.vendor, saved.provider_name, saved.auth_type) == ("custom", "Local", "api_key")
    assert saved.provider_url == provider_endpoint.url("/send")
    assert json.loads(saved.auth_settings) == {"api_key_header": "X-API-Key"}
    assert json.loads(saved.headers) == [["X-Tenant", "acme"]]
    assert saved.secrets == {"api_key": API_KEY}  # decrypted on read...
    assert API_KEY not in raw_column(app, "auth_secrets", credential.id)  # ...encrypted at rest
    assert saved.stored_numbers == {"prod": SENDER}
    assert saved.verification_state == "never" and saved.version == 1
    entry = audit_entries(app)[-1]
    assert entry.action == "create" and entry.changed_fields["provider_url"] == [None, saved.provider_url]
    assert entry.changed_fields["auth_secrets"] == "(secret changed)"
    assert entry.changed_fields["number (prod)"] == [None, SENDER]
    assert API_KEY not in entry.changes

    page = text(web.get(f"/credentials/{credential.id}/test"))
    assert "<h1>Send test request</h1>" in page and '<label for="number">Number</label>' in page
    assert '<label for="message">Message</label>' in page and f"Sent from {SENDER}" in page
    response = web.post(f"/credentials/{credential.id}/test", {"number": "+14155550123", "message": "Hello \"you\""})
    assert response.status_code == 200
    [received] = provider_endpoint.requests_to("/send")
    assert received.header("X-API-Key") == API_KEY and received.header("X-Tenant") == "acme"
    assert received.header("Content-Type") == "application/json; charset=utf-8"
    assert json.loads(received.body) == {"from": SENDER, "to": "+14155550123", "text": 'Hello "you"'}
    page = html.unescape(text(response))
    assert "Request sent" in page and f"X-API-Key: {REDACTED}" in page and "X-Tenant: acme" in page
    assert '"text": "Hello \\"you\\""' in page
    assert "Provider's answer" in page and "200 OK" in page and '{"id": "msg-1", "status": "accepted"}' in page
    assert "API credential Local provider is verified." in page
    saved = stored(app, credential.id)
    assert saved.verification_state == "verified" and saved.verified_at is not None
    assert saved.version == 1  # a test is not an edit
    row = text(web.get("/credentials")).split(f'<tr id="credential-{credential.id}">')[1].split("</tr>")[0]
    assert "Verified" in row


def test_create_with_htmx_goes_to_the_list(web, app, provider_endpoint):
    web.get("/credentials/custom/new")
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint), htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/credentials"
    assert count(app) == 1


def test_the_sms_flows_vendor_custom_leads_to_the_new_page(web, app):
    web.get("/setup")
    start = web.post("/setup/sms")
    response = web.post(start.headers["Location"], {"vendor": "custom", "name": "Acme RCS"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/credentials/custom/new?name=Acme+RCS"
    assert 'value="Acme RCS"' in text(web.get(response.headers["Location"]))


# --- bad input --------------------------------------------------------------------------

BAD_JSON = '{\n  "from": "{{fromNumber}}",\n  "to": "{{toNumber}}"\n  "text": "{{message}}"\n}'


@pytest.mark.parametrize("changes, field, message", [
    ({"provider_url": "http://127.0.0.1/send"}, "provider_url",
     "Use an https:// URL: the request carries secrets that only TLS keeps private."),
    ({"provider_url": "not a url"}, "provider_url", "A URL cannot contain spaces or control characters."),
    ({"payload_template": '{"to": "{{toNumber}}", "text": "{{message}}"}'}, "payload_template",
     "{{fromNumber}} is missing: put it where the provider expects that value."),
    ({"payload_template": BAD_JSON}, "payload_template",
     "This is not valid JSON: Expecting ',' delimiter at line 4, column 3."),
    ({"headers-1-name": "x-tenant", "headers-1-value": "other"}, "headers-1-name",
     "x-tenant is already in another row: each header is sent once."),
    ({"headers-0-value": "acme\r\nX-Injected: 1"}, "headers-0-value",
     "A header value cannot contain a line break (CR or LF)."),
    ({"headers-0-name": "X Tenant"}, "headers-0-name", "A header name has only letters, digits and"),
    ({"headers-0-name": "X-API-Key"}, "headers-0-name", "X-API-Key is set by the auth type."),
    ({"api_key": ""}, "api_key", "Enter the API key."),
    ({"name": ""}, "name", "Enter a name for the API credential."),
    ({"number_1": "0412 345 678"}, "number_1", "Start the number with + and its country code"),
])
def test_bad_input_is_refused_next_to_its_field_and_kept(web, app, provider_endpoint, changes, field, message):
    web.get("/credentials/custom/new")
    data = new_data(app, provider_endpoint, **changes)
    response = web.post("/credentials/custom/new", data)
    assert response.status_code == 422
    page = text(response)
    assert error_of(page, field).startswith(message), error_of(page, field)
    assert html.escape(data["provider_url"], quote=True) in page  # what was typed stays
    assert "Type it again: a secret is never sent back to your browser." in page or not data.get("api_key")
    assert count(app) == 0 and count(app, CredentialNumber) == 0


def test_a_private_address_is_refused_unless_the_operator_allows_it(web, app, provider_endpoint):
    app.config["ALLOW_PRIVATE_PROVIDER_URLS"] = False
    web.get("/credentials/custom/new")
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint))
    assert response.status_code == 422
    assert error_of(text(response), "provider_url") == (
        "127.0.0.1 is not a public address that answers. A provider URL must reach the public internet (an operator "
        "can allow private addresses with ALLOW_PRIVATE_PROVIDER_URLS=1).")
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint,
                                                              provider_url="http://127.0.0.1/send"))
    assert error_of(text(response), "provider_url").startswith("Use an https:// URL")
    assert count(app) == 0


def test_a_name_is_unique_across_every_credential(web, app, fake_twilio, provider_endpoint):
    make_credential(app, fake_twilio, "Main Twilio")
    web.get("/credentials/custom/new")
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint, name="main twilio"))
    assert response.status_code == 422
    assert error_of(text(response), "name") == "An API credential with this name already exists."


def test_at_least_one_sandbox_with_a_number(web, app, provider_endpoint):
    prod = sandbox_id(app, "prod")
    web.get("/credentials/custom/new")
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint, **{f"use_{prod}": None}))
    assert response.status_code == 422
    assert "Choose at least one sandbox that will use this credential." in text(response)
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint, **{f"number_{prod}": ""}))
    assert error_of(text(response), f"number_{prod}") == "Enter the incoming number for sandbox prod."


def test_a_client_certificate_that_does_not_parse_or_match_is_refused(web, app, provider_endpoint, authority):
    certificate, key = authority.issue("client.test", client=True)
    _other_certificate, other_key = authority.issue("other.test", client=True)
    web.secrets.extend([key.splitlines()[1], other_key.splitlines()[1]])
    web.get("/credentials/custom/new")
    mtls = {"auth_type": "none", "api_key": None, "api_key_header": None}
    bad_pem = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----"
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint, **mtls,
                                                              client_certificate=bad_pem, client_key=key))
    assert response.status_code == 422
    assert error_of(text(response), "client_certificate").startswith(
        "The client certificate is not a PEM certificate")
    assert "bm90IGEgY2VydA==" in text(response)  # the certificate is not a secret: it stays
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint, **mtls,
                                                              client_certificate=certificate, client_key=other_key))
    assert error_of(text(response), "client_key").startswith(
        "This private key does not belong to the client certificate")
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint, **mtls,
                                                              client_certificate=certificate, client_key="nope"))
    assert error_of(text(response), "client_key").startswith("The private key is not a PEM private key")
    assert count(app) == 0

    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint, **mtls,
                                                              client_certificate=certificate, client_key=key))
    assert response.status_code == 303
    credential = stored(app, 1)
    assert credential.secrets == {"client_key": key.strip()}
    assert key.splitlines()[1] not in raw_column(app, "auth_secrets", credential.id)
    # Editing with a new certificate checks it against the stored key, which stays blank.
    web.get(f"/credentials/{credential.id}")
    other_certificate, _key = authority.issue("third.test", client=True)
    response = web.post(f"/credentials/{credential.id}", edit_data(app, credential.id,
                                                                     client_certificate=other_certificate))
    assert response.status_code == 422
    assert error_of(text(response), "client_key").startswith("This private key does not belong")


def test_an_unknown_placeholder_is_only_a_warning(web, app, provider_endpoint):
    template = JSON_TEMPLATE.replace('"text"', '"campaign": "{{campaignId}}", "text"')
    web.get("/credentials/custom/new")
    preview = text(web.post("/credentials/custom/new", new_data(app, provider_endpoint, payload_template=template,
                                                                  action="preview"), htmx=True))
    assert "{{campaignId}} is not a value the platform fills in: it is sent empty." in preview
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint, payload_template=template))
    assert response.status_code == 303
    assert "{{campaignId}} is not a value the platform fills in: it is sent empty." in text(web.get("/credentials"))


def test_a_form_without_its_csrf_token_is_refused(web, app, provider_endpoint):
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint), csrf=False)
    assert response.status_code == 400 and count(app) == 0


# --- the form's htmx parts ------------------------------------------------------------------

def test_the_auth_type_fields_swap_in_place(web, app, provider_endpoint):
    web.get("/credentials/custom/new")
    data = new_data(app, provider_endpoint, auth_type="oauth2", action="auth_fields")
    response = web.post("/credentials/custom/new", data, htmx=True)
    assert response.status_code == 200
    fragment = text(response)
    assert '<fieldset id="auth-fields">' in fragment and "<html" not in fragment
    for name in ("oauth_token_url", "oauth_client_id", "oauth_client_secret", "oauth_scope"):
        assert f'id="{name}"' in fragment
    assert 'id="api_key"' not in fragment and "field-error" not in fragment  # not validated yet
    assert 'value="Local provider"' in fragment  # the rest of what was typed is there too
    # Without JavaScript the button re-renders the whole page with the new type's fields.
    page = text(web.post("/credentials/custom/new", {**data, "auth_type": "hmac"}))
    assert "<html" in page and 'id="hmac_secret"' in page and 'id="hmac_algorithm"' in page
    assert "Each request carries the Unix time in seconds in the X-Timestamp header" in page


def test_header_rows_are_added_and_removed_in_place(web, app, provider_endpoint):
    web.get("/credentials/custom/new")
    data = new_data(app, provider_endpoint, **{"headers-1-name": "X-Campaign", "headers-1-value": "spring"})
    fragment = text(web.post("/credentials/custom/new", {**data, "action": "add_header"}, htmx=True))
    assert 'id="header-rows"' in fragment
    assert 'name="headers-2-name"' in fragment and 'name="headers-3-name"' not in fragment
    assert 'value="X-Campaign"' in fragment and 'value="spring"' in fragment
    assert "Content-Type" in fragment and "Set by the payload format" in fragment  # the fixed row
    fragment = text(web.post("/credentials/custom/new", {**data, "action": "remove_header:0"}, htmx=True))
    assert 'value="X-Tenant"' not in fragment
    assert 'name="headers-0-name" type="text" value="X-Campaign"' in fragment  # renumbered
    assert 'name="headers-1-name"' not in fragment
    # Without JavaScript: the whole page, the other fields kept.
    page = text(web.post("/credentials/custom/new", {**data, "action": "add_header"}))
    assert "<html" in page and 'name="headers-2-name"' in page and 'value="Local provider"' in page
    assert "Type it again: a secret is never sent back to your browser." in page
    assert count(app) == 0


def test_the_payload_format_sets_the_content_type_row(web, app, provider_endpoint):
    web.get("/credentials/custom/new")
    fragment = text(web.post("/credentials/custom/new", new_data(
        app, provider_endpoint, payload_format="form", action="auth_fields"), htmx=True))
    assert "application/x-www-form-urlencoded; charset=utf-8" in fragment


def test_the_live_preview_shows_the_request_with_secrets_redacted(web, app, provider_endpoint):
    web.get("/credentials/custom/new")
    response = web.post("/credentials/custom/new", new_data(app, provider_endpoint, action="preview"), htmx=True)
    assert response.status_code == 200
    fragment = html.unescape(text(response))
    assert fragment.lstrip().startswith('<section id="request-preview"')
    assert f"POST /send HTTP/1.1\nHost: 127.0.0.1:{provider_endpoint.port}" in fragment
    assert f"X-API-Key: {REDACTED}" in fragment and "X-Tenant: acme" in fragment
    assert f'"from": "{SENDER}"' in fragment and '"text": "Test message"' in fragment
    assert provider_endpoint.requests == []  # a preview sends nothing
    problem = html.unescape(text(web.post("/credentials/custom/new", new_data(
        app, provider_endpoint, payload_template=BAD_JSON, action="preview"), htmx=True)))
    assert "The provider payload cannot be used: This is not valid JSON" in problem
    # Without JavaScript, the Preview button shows it on the page.
    page = html.unescape(text(web.post("/credentials/custom/new", new_data(app, provider_endpoint,
                                                                              action="preview"))))
    assert "<html" in page and f"X-API-Key: {REDACTED}" in page


def test_the_edit_preview_redacts_the_stored_secret(web, app, custom):
    page = html.unescape(text(web.get(f"/credentials/{custom}")))
    assert f"X-API-Key: {REDACTED}" in page  # shown from the start
    # A secret inside the payload is redacted too, wherever it is.
    template = JSON_TEMPLATE.replace('"text"', f'"key": "{API_KEY}", "text"')
    fragment = html.unescape(text(web.post(f"/credentials/{custom}", edit_data(
        app, custom, payload_template=template, action="preview"), htmx=True)))
    assert f'"key": "{REDACTED}"' in fragment


def test_a_field_is_checked_as_the_admin_leaves_it(web, app, provider_endpoint):
    web.get("/credentials/custom/new")
    response = web.post("/credentials/custom/new?_field=provider_url",
                        new_data(app, provider_endpoint, provider_url="http://x.example"), htmx=True)
    assert response.status_code == 422
    fragment = text(response)
    # The answer is that field again (the one template of every field check), with its error.
    assert fragment.lstrip().startswith('<div class="field" id="field-provider_url">') and "<html" not in fragment
    assert '<small id="provider_url-error" class="field-error">Use an https:// URL' in fragment
    response = web.post("/credentials/custom/new?_field=provider_url", new_data(app, provider_endpoint), htmx=True)
    assert response.status_code == 200 and 'class="field-error"' not in text(response)
    assert text(response).lstrip().startswith('<div class="field" id="field-provider_url">')
    assert count(app) == 0


# --- edit -------------------------------------------------------------------------------

def test_the_edit_page_is_filled_in_and_says_which_secrets_are_stored(web, app, custom):
    page = text(web.get(f"/credentials/{custom}"))
    assert "<h1>API credential Local provider</h1>" in page and "Custom: Local" in page
    assert 'value="Local provider"' in page and 'value="X-Tenant"' in page and 'value="acme"' in page
    assert 'name="version" type="hidden" value="1"' in page
    assert "A value is stored; leave blank to keep it." in page
    assert f'href="/credentials/{custom}/test"' in page
    assert f'data-hx-post="/credentials/{custom}"' in page and '"action": "auth_fields"' in html.unescape(page)


def test_a_blank_secret_keeps_the_stored_one_and_a_rename_keeps_it_verified(web, app, custom, provider_endpoint,
                                                                           in_app):
    with in_app():
        ApiCredential.update(verification_state="verified").where(ApiCredential.id == custom).execute()
    web.get(f"/credentials/{custom}")
    response = web.post(f"/credentials/{custom}", edit_data(app, custom, name="Local (renamed)",
                                                              **{"headers-1-name": "X-Campaign",
                                                                 "headers-1-value": "spring"}))
    assert response.status_code == 303, text(response)
    saved = stored(app, custom)
    assert saved.name == "Local (renamed)" and saved.secrets == {"api_key": API_KEY}
    assert json.loads(saved.headers) == [["X-Tenant", "acme"], ["X-Campaign", "spring"]]
    assert saved.verification_state == "verified" and saved.version == 2
    entry = audit_entries(app)[-1]
    assert set(entry.changed_fields) == {"name", "headers"}
    # The kept key still goes out.
    web.get(f"/credentials/{custom}/test")
    web.post(f"/credentials/{custom}/test", {"number": "+14155550123", "message": "Hi"})
    assert provider_endpoint.requests_to("/send")[-1].header("X-API-Key") == API_KEY


@pytest.mark.parametrize("changes, audited", [
    ({"api_key": NEW_KEY}, {"auth_secrets"}),
    # Another host: the stored key is typed again (it is not sent to a new host unasked).
    ({"provider_url": "https://127.0.0.1:1/other", "api_key": NEW_KEY}, {"provider_url", "auth_secrets"}),
    ({"api_key_header": "X-Key"}, {"auth_settings"}),
    ({"auth_type": "bearer", "bearer_token": NEW_KEY}, {"auth_type", "auth_settings", "auth_secrets"}),
])
def test_a_new_url_auth_or_secret_must_be_verified_again(web, app, custom, changes, audited, in_app):
    with in_app():
        ApiCredential.update(verification_state="verified", oauth_token="cached").where(
            ApiCredential.id == custom).execute()
    web.get(f"/credentials/{custom}")
    response = web.post(f"/credentials/{custom}", edit_data(app, custom, **changes))
    assert response.status_code == 303, text(response)
    saved = stored(app, custom)
    assert saved.verification_state == "never" and saved.verified_at is None and saved.oauth_token is None
    page = text(web.get("/credentials"))
    assert "send a test request to verify API credential Local provider again." in page
    entry = audit_entries(app)[-1]
    assert audited <= set(entry.changed_fields) and entry.changed_fields["verification_state"] == ["verified", "never"]
    assert NEW_KEY not in entry.changes and API_KEY not in entry.changes
    if "auth_secrets" in audited:
        assert entry.changed_fields["auth_secrets"] == "(secret changed)"
        assert NEW_KEY in saved.auth_secrets and NEW_KEY not in raw_column(app, "auth_secrets", custom)


def test_a_conflicting_save_is_409_and_keeps_what_was_typed(web, app, custom):
    web.get(f"/credentials/{custom}")
    mine = edit_data(app, custom, name="Mine", provider_name="My provider")
    # Meanwhile a colleague saves the same credential.
    create_admin(app, "colleague@example.com")
    colleague = BrowserLikeClient(app.test_client())
    colleague.get("/login")
    colleague.post("/login", {"email": "colleague@example.com", "password": ADMIN_PASSWORD})
    colleague.get(f"/credentials/{custom}")
    assert colleague.post(f"/credentials/{custom}", edit_data(app, custom, name="Theirs")).status_code == 303

    response = web.post(f"/credentials/{custom}", mine, htmx=True)
    assert response.status_code == 409
    fragment = text(response)
    assert fragment.lstrip().startswith('<section id="custom-credential-form">')
    assert "Someone else saved this credential after you opened it." in fragment and "Name: Theirs" in fragment
    assert 'value="Mine"' in fragment and 'value="My provider"' in fragment
    assert 'name="version" type="hidden" value="2"' in fragment
    assert stored(app, custom).name == "Theirs"
    # Saving again now overwrites theirs, knowingly.
    response = web.post(f"/credentials/{custom}", {**mine, "version": "2"})
    assert response.status_code == 303 and stored(app, custom).name == "Mine"


def test_a_sandbox_whose_channel_configuration_sends_through_it_stays(web, app, custom, in_app):
    make_channel_configuration(app, custom, name="RCS_Marketing", channel="rcs")
    prod = sandbox_id(app, "prod")
    dev = sandbox_id(app, "dev")
    web.get(f"/credentials/{custom}")
    response = web.post(f"/credentials/{custom}", edit_data(app, custom, **{
        f"use_{prod}": None, f"use_{dev}": "y", f"number_{dev}": "+14155550102"}))
    assert response.status_code == 422
    assert "Channel configuration RCS_Marketing sends through this credential in sandbox prod" in error_of(
        text(response), f"use_{prod}")
    assert stored(app, custom).stored_numbers == {"prod": SENDER}
    # A new number is followed by the configurations that send from it.
    response = web.post(f"/credentials/{custom}", edit_data(app, custom, **{f"number_{prod}": "+14155550109"}))
    assert response.status_code == 303
    with in_app():
        assert ChannelConfiguration.get().sender_number == "+14155550109"


# --- Send test request -------------------------------------------------------------------

@pytest.mark.parametrize("status, reason", [(401, "Unauthorized"), (503, "Service Unavailable")])
def test_a_4xx_or_5xx_answer_is_shown_and_fails_the_credential(web, app, custom, provider_endpoint, status, reason):
    provider_endpoint.answer("/send", status=status, body=b'{"error": "invalid_key", "detail": "Key revoked"}')
    web.get(f"/credentials/{custom}/test")
    response = web.post(f"/credentials/{custom}/test", {"number": "+14155550123", "message": "Hi"}, htmx=True)
    assert response.status_code == 200
    fragment = html.unescape(text(response))
    assert fragment.lstrip().startswith('<section id="test-section">')
    assert f"{status} {reason}" in fragment and '{"error": "invalid_key", "detail": "Key revoked"}' in fragment
    assert "Content-Type: application/json" in fragment  # the provider's headers
    assert "API credential Local provider is not verified: the request got no 2xx answer." in fragment
    assert 'value="+14155550123"' in fragment  # the form stays filled in
    saved = stored(app, custom)
    assert saved.verification_state == "failed"
    assert saved.verification_error == (f'The provider answered {status} {reason}: '
                                        '{"error": "invalid_key", "detail": "Key revoked"}')
    assert saved.verification_error in html.unescape(text(web.get("/credentials")))


def test_a_long_answer_is_cut_at_8_kb_and_says_so(web, app, custom, provider_endpoint):
    provider_endpoint.answer("/send", status=200, body=b"a" * 9000, headers=[("Content-Type", "text/plain")])
    web.get(f"/credentials/{custom}/test")
    page = text(web.post(f"/credentials/{custom}/test", {"number": "+14155550123", "message": "Hi"}))
    assert "a" * 8192 in page and "a" * 8193 not in page
    assert "The answer is longer than 8 KB; only its start is shown." in page


def test_an_answer_that_echoes_the_secret_is_shown_without_it(web, app, custom, provider_endpoint):
    provider_endpoint.answer("/send", status=400, body=f'{{"error": "bad key {API_KEY}"}}'.encode(),
                             headers=[("Content-Type", "application/json"), ("X-Echo", API_KEY)])
    web.get(f"/credentials/{custom}/test")
    page = html.unescape(text(web.post(f"/credentials/{custom}/test", {"number": "+14155550123", "message": "Hi"})))
    assert f"bad key {REDACTED}" in page and f"X-Echo: {REDACTED}" in page
    assert API_KEY not in stored(app, custom).verification_error


def test_send_errors_are_shown_with_their_text(web, app, fake_twilio, provider_endpoint, authority, tmp_path):
    unreachable = make_custom(app, name="Gone", provider_url=closed_port_url().replace("http:", "https:") + "/send")
    untrusted = ProviderEndpoint(make_authority("Someone else's CA"), tmp_path / "untrusted").start()
    try:
        stranger = make_custom(app, name="Stranger", provider_url=untrusted.url("/send"),
                               numbers={"prod": "+14155550102"})
        private = make_custom(app, provider_endpoint, name="Private", numbers={"prod": "+14155550103"})
        cases = [
            (unreachable, "127.0.0.1 is not a public address that answers."),  # one message for private targets
            (stranger, "The TLS connection to 127.0.0.1 failed: [SSL: CERTIFICATE_VERIFY_FAILED]"),
        ]
        for credential, message in cases:
            web.get(f"/credentials/{credential}/test")
            page = html.unescape(text(web.post(f"/credentials/{credential}/test",
                                                 {"number": "+14155550123", "message": "Hi"})))
            assert message in page, page[-2000:]
            assert "Request sent" in page  # what was attempted is shown
            saved = stored(app, credential)
            assert saved.verification_state == "failed" and saved.verification_error.startswith(message)
        # DNS may point elsewhere by the time of sending: the address is checked again then.
        app.config["ALLOW_PRIVATE_PROVIDER_URLS"] = False
        web.get(f"/credentials/{private}/test")
        page = html.unescape(text(web.post(f"/credentials/{private}/test",
                                             {"number": "+14155550123", "message": "Hi"})))
        assert "127.0.0.1 is not a public address that answers." in page
        assert provider_endpoint.requests == []
    finally:
        untrusted.stop()


def test_a_provider_that_does_not_answer_in_10_seconds_times_out(web, app, custom, provider_endpoint):
    provider_endpoint.answer("/send", status=200, delay=12)
    web.get(f"/credentials/{custom}/test")
    page = text(web.post(f"/credentials/{custom}/test", {"number": "+14155550123", "message": "Hi"}))
    assert "127.0.0.1 did not answer within 10 seconds." in page
    saved = stored(app, custom)
    assert (saved.verification_state, saved.verification_error) == ("failed", "127.0.0.1 did not answer within 10 "
                                                                                "seconds.")


def test_oauth_tokens_are_cached_on_the_credential_and_token_errors_shown(web, app, provider_endpoint, in_app):
    provider_endpoint.route("/oauth/token", oauth_token_route(expires_in=3600))
    credential = make_custom(app, provider_endpoint, name="OAuth provider", auth_type="oauth2", auth_settings={
        "oauth_token_url": provider_endpoint.url("/oauth/token"), "oauth_client_id": "client-1"},
        auth_secrets={"oauth_client_secret": CLIENT_SECRET})
    web.get(f"/credentials/{credential}/test")
    for _attempt in range(2):
        page = html.unescape(text(web.post(f"/credentials/{credential}/test",
                                             {"number": "+14155550123", "message": "Hi"})))
        assert "200 OK" in page and f"Authorization: {REDACTED}" in page
    assert len(provider_endpoint.requests_to("/oauth/token")) == 1  # the second send used the cached token
    assert [r.header("Authorization") for r in provider_endpoint.requests_to("/send")] == ["Bearer token-1"] * 2
    saved = stored(app, credential)
    assert json.loads(saved.oauth_token)["token"] == "token-1" and saved.oauth_expires_at is not None
    assert "token-1" not in raw_column(app, "oauth_token", credential)  # encrypted at rest

    provider_endpoint.answer("/oauth/token", status=401, body=b'{"error": "invalid_client"}')
    with in_app():
        ApiCredential.update(oauth_token=None, oauth_expires_at=None).where(ApiCredential.id == credential).execute()
    page = html.unescape(text(web.post(f"/credentials/{credential}/test",
                                         {"number": "+14155550123", "message": "Hi"})))
    assert 'The token endpoint answered 401 Unauthorized: {"error": "invalid_client"}' in page
    assert stored(app, credential).verification_state == "failed"


@pytest.mark.parametrize("data, field, message", [
    ({"number": "", "message": "Hi"}, "number", "Enter the number to send the test message to."),
    ({"number": "0412 345 678", "message": "Hi"}, "number", "Start the number with + and its country code"),
    ({"number": "+14155550123", "message": ""}, "message", "Enter the message to send."),
])
def test_the_test_request_form_checks_its_input(web, app, custom, provider_endpoint, data, field, message):
    web.get(f"/credentials/{custom}/test")
    response = web.post(f"/credentials/{custom}/test", data)
    assert response.status_code == 422
    assert error_of(text(response), field).startswith(message)
    assert provider_endpoint.requests == [] and stored(app, custom).verification_state == "never"


def test_pages_of_the_wrong_vendor_or_no_credential_are_404(web, app, fake_twilio, custom):
    twilio = make_credential(app, fake_twilio, numbers={"prod": "+14155550109"})
    assert web.get(f"/credentials/{twilio}/test").status_code == 404
    assert web.get(f"/credentials/{custom}/verify").status_code == 404
    assert web.get("/credentials/999/test").status_code == 404
    assert web.get(f"/credentials/{twilio}").status_code == 200  # the Twilio form still answers there


# --- delete -----------------------------------------------------------------------------

def test_delete_is_refused_while_used_then_done(web, app, custom, in_app):
    configuration = make_channel_configuration(app, custom, name="RCS_Marketing", channel="rcs")
    page = text(web.get(f"/credentials/{custom}/delete"))
    assert ("API credential Local provider is used by channel configuration RCS_Marketing and cannot be deleted."
            in page)
    response = web.post(f"/credentials/{custom}/delete", htmx=True)
    assert response.status_code == 409 and stored(app, custom) is not None
    assert f'<tr id="credential-{custom}">' in text(response)

    with in_app():
        ChannelConfiguration.delete().where(ChannelConfiguration.id == configuration).execute()
        hook = CustomWebhook.create(name="Acme inbound", name_key="acme inbound", type="inbound", credential=custom,
                                    sandbox=sandbox_id(app, "prod"), payload="{}")
    response = web.post(f"/credentials/{custom}/delete")
    assert response.status_code == 303
    assert "API credential Local provider is used by webhook Acme inbound and cannot be deleted." in text(
        web.get("/credentials"))
    with in_app():
        hook.delete_instance()

    page = text(web.get(f"/credentials/{custom}/delete"))
    assert "Local keeps your account there; only this setup forgets how to reach it, and its secrets." in page
    response = web.post(f"/credentials/{custom}/delete")
    assert response.status_code == 303
    assert "API credential Local provider deleted." in text(web.get("/credentials"))
    assert stored(app, custom) is None and count(app, CredentialNumber) == 0
    entry = audit_entries(app)[-1]
    assert entry.action == "delete" and entry.changed_fields["provider_url"][1] is None
    assert entry.changed_fields["name"] == ["Local provider", None] and "auth_secrets" not in entry.changed_fields
    assert API_KEY not in entry.changes
