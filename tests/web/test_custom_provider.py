"""Custom provider settings inside the app: the unsafe-URL check with the app's setting, OAuth2
tokens cached in the row, settings round-tripping through the row, and the credential form."""
import base64
import datetime
import json
import re
from urllib.parse import quote_plus

import pytest
from werkzeug.datastructures import MultiDict

from tests.support.custom_provider import (
    ACCOUNT_SID,
    FROM,
    JSON_TEMPLATE,
    NETWORK,
    SERVICE_SID,
    TO,
    oauth_settings,
    refused,
    send_local,
    settings_for,
)
from tests.support.provider_endpoints import make_authority, oauth_token_route
from wizard.core.db import database
from wizard.core.models import ApiCredential
from wizard.credentials.custom_forms import CustomCredentialForm, custom_credential_data
from wizard.providers.custom import settings as custom_provider
from wizard.providers.custom.auth import AUTH_TYPES
from wizard.providers.custom.http import send
from wizard.providers.custom.presets import twilio_rcs_preset
from wizard.providers.custom.settings import ProviderError, ProviderSettings


def test_send_refuses_unsafe_urls_before_connecting(provider_endpoint, app):
    settings = settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"})
    with pytest.raises(ProviderError, match=re.escape(refused("127.0.0.1"))):
        send(settings, TO, FROM, "m", allow_private=False, transport=NETWORK)
    settings.provider_url = settings.provider_url.replace("https://", "http://")
    with pytest.raises(ProviderError, match="Use an https:// URL"):
        send_local(settings)
    settings.provider_url = provider_endpoint.url(host="localhost")
    with pytest.raises(ProviderError, match=re.escape(refused("localhost"))):
        send(settings, TO, FROM, "m", allow_private=False, transport=NETWORK)
    assert provider_endpoint.requests == []
    # In the app, ALLOW_PRIVATE_PROVIDER_URLS decides.
    settings.provider_url = provider_endpoint.url()
    app.config["ALLOW_PRIVATE_PROVIDER_URLS"] = False  # as in production
    with app.test_request_context():
        with pytest.raises(ProviderError, match="is not a public address"):
            send(settings, TO, FROM, "m", transport=NETWORK)
        app.config["ALLOW_PRIVATE_PROVIDER_URLS"] = True
        assert send(settings, TO, FROM, "m", transport=NETWORK).status == 200
    assert len(provider_endpoint.requests) == 1


def test_oauth2_fetches_a_token_with_basic_client_auth_then_uses_it(provider_endpoint, in_app):
    provider_endpoint.route("/oauth/token", oauth_token_route(expires_in=3600))
    settings = oauth_settings(provider_endpoint)
    with in_app():
        credential = ApiCredential.create(**settings.to_columns())
        answer = send_local(ProviderSettings.from_credential(credential))
    assert answer.status == 200
    token_request, = provider_endpoint.requests_to("/oauth/token")
    assert token_request.body == b"grant_type=client_credentials&scope=messages%3Asend"
    assert token_request.header("Content-Type") == "application/x-www-form-urlencoded"
    # RFC 6749 2.3.1: id and secret form-encoded, then HTTP Basic.
    assert token_request.header("Authorization") == "Basic " + base64.b64encode(
        f"{quote_plus('client id/1')}:{quote_plus('se:cret&1')}".encode()).decode()
    assert provider_endpoint.requests_to("/send")[0].header("Authorization") == "Bearer token-1"


def test_oauth2_caches_the_token_until_it_expires(provider_endpoint, in_app):
    provider_endpoint.route("/oauth/token", oauth_token_route(expires_in=3600))
    with in_app():
        credential = ApiCredential.create(**oauth_settings(provider_endpoint).to_columns())
        send_local(ProviderSettings.from_credential(credential))
        again = ApiCredential.get_by_id(credential.id)  # a later request reads the cache from the row
        send_local(ProviderSettings.from_credential(again))
        assert len(provider_endpoint.requests_to("/oauth/token")) == 1
        assert [r.header("Authorization") for r in provider_endpoint.requests_to("/send")] == ["Bearer token-1"] * 2
        expires = again.oauth_expires_at
        assert datetime.timedelta(minutes=58) < expires - datetime.datetime.utcnow() <= datetime.timedelta(minutes=59)
        stored = database.execute_sql(f"SELECT oauth_token FROM api_credential WHERE id = {int(credential.id)}")
        assert "token-1" not in stored.fetchone()[0]  # encrypted at rest

        again.oauth_expires_at = datetime.datetime.utcnow() - datetime.timedelta(seconds=1)
        again.save()
        send_local(ProviderSettings.from_credential(ApiCredential.get_by_id(credential.id)))
        assert len(provider_endpoint.requests_to("/oauth/token")) == 2
        assert provider_endpoint.requests_to("/send")[-1].header("Authorization") == "Bearer token-2"

        # Changed settings make the cached token stale.
        changed = ProviderSettings.from_credential(ApiCredential.get_by_id(credential.id))
        changed.auth_settings["oauth_scope"] = "messages:read"
        changed.token_cache = custom_provider.CredentialTokenCache(ApiCredential.get_by_id(credential.id))
        send_local(changed)
        assert provider_endpoint.requests_to("/oauth/token")[-1].body == (
            b"grant_type=client_credentials&scope=messages%3Aread")
        assert provider_endpoint.requests_to("/send")[-1].header("Authorization") == "Bearer token-3"


def test_settings_round_trip_through_the_row_with_secrets_encrypted(in_app):
    settings = ProviderSettings(name="Acme RCS", provider_name="Acme", provider_url="https://api.acme.example/send",
                                auth_type="hmac", auth_settings={"hmac_header": "X-Sig", "hmac_algorithm": "sha512",
                                                                 "api_key_header": "left over"},
                                auth_secrets={"hmac_secret": "very-secret", "api_key": "left over"},
                                headers=[["X-Tenant", "acme"]], payload_template=JSON_TEMPLATE)
    assert "very-secret" not in repr(settings)
    columns = settings.to_columns()
    assert json.loads(columns["auth_settings"]) == {"hmac_header": "X-Sig", "hmac_algorithm": "sha512"}
    assert json.loads(columns["auth_secrets"]) == {"hmac_secret": "very-secret"}
    with in_app():
        credential = ApiCredential.create(**columns)
        stored = database.execute_sql(f"SELECT auth_secrets FROM api_credential WHERE id = {int(credential.id)}"
                                      ).fetchone()[0]
        assert "very-secret" not in stored
        loaded = ProviderSettings.from_credential(ApiCredential.get_by_id(credential.id))
    assert loaded == ProviderSettings(name="Acme RCS", provider_name="Acme",
                                      provider_url="https://api.acme.example/send", auth_type="hmac",
                                      auth_settings={"hmac_header": "X-Sig", "hmac_algorithm": "sha512"},
                                      auth_secrets={"hmac_secret": "very-secret"}, headers=[["X-Tenant", "acme"]],
                                      payload_template=JSON_TEMPLATE)
    assert isinstance(loaded.token_cache, custom_provider.CredentialTokenCache)
    assert isinstance(ProviderSettings().token_cache, custom_provider.NoTokenCache)


def test_a_valid_form_gives_settings_ready_to_save(form_context):
    form = make_form(form_context, form_data(**{"headers-0-name": "X-Tenant", "headers-0-value": " acme ",
                                                "headers-1-name": "", "headers-1-value": ""}))
    assert errors_of(form) == {}
    settings = form.provider_settings()
    assert settings == ProviderSettings(
        name="Acme RCS", provider_name="Acme", provider_url="https://127.0.0.1:8443/send", auth_type="bearer",
        auth_settings={}, auth_secrets={"bearer_token": "t0ken"}, headers=[["X-Tenant", "acme"]],
        payload_format="json", payload_template=JSON_TEMPLATE)
    assert form.content_type == "application/json; charset=utf-8"
    assert 'value="t0ken"' not in form.bearer_token()


def test_every_auth_types_fields_are_on_the_form(form_context):
    form = CustomCredentialForm(meta={"csrf": False})
    for kind in AUTH_TYPES.values():
        assert kind["label"]
        for name in kind["fields"]:
            assert form[name].label.text


@pytest.mark.parametrize("auth_type, expected", [
    ("api_key", {"api_key": ["Enter the API key."]}),
    ("basic", {"basic_username": ["Enter the user name."], "basic_password": ["Enter the password."]}),
    ("bearer", {"bearer_token": ["Enter the bearer token."]}),
    ("oauth2", {"oauth_token_url": ["Enter the token URL, e.g. https://auth.example.com/oauth/token."],
                "oauth_client_id": ["Enter the client ID."], "oauth_client_secret": ["Enter the client secret."]}),
    ("hmac", {"hmac_secret": ["Enter the HMAC secret."]}),
    ("jwt", {"jwt_secret": ["Enter the JWT secret."]}),
    ("none", {"client_certificate": ["Paste the client certificate (PEM)."],
              "client_key": ["Paste the client certificate's private key (PEM)."]}),
])
def test_each_auth_types_own_fields_are_required(form_context, auth_type, expected):
    form = make_form(form_context, form_data(auth_type=auth_type, bearer_token=""))
    assert errors_of(form) == expected


def test_a_blank_secret_keeps_the_stored_one(form_context):
    data = form_data(auth_type="basic", bearer_token="", basic_username="acme")
    form = make_form(form_context, data, stored_secrets={"basic_password"})
    assert errors_of(form) == {}
    assert form.provider_settings({"basic_password": "stored-pw"}).auth_secrets == {"basic_password": "stored-pw"}
    form = make_form(form_context, form_data(auth_type="basic", basic_username="acme", basic_password="new-pw"),
                     stored_secrets={"basic_password": "stored-pw"})
    assert form.provider_settings().auth_secrets == {"basic_password": "new-pw"}
    # A stored secret of another auth type doesn't count.
    form = make_form(form_context, form_data(bearer_token=""), stored_secrets={"basic_password"})
    assert errors_of(form) == {"bearer_token": ["Enter the bearer token."]}


def test_each_problem_is_put_next_to_its_field(form_context):
    form = make_form(form_context, form_data(
        provider_url="http://api.example.com/send", auth_type="hmac", hmac_secret="s", hmac_header="X Sig",
        payload_template='{"to": "{{toNumber}}", "n": {{count}}}',
        **{"headers-0-name": "X-Ok", "headers-0-value": "1", "headers-1-name": "x-ok", "headers-1-value": "a\rb",
           "headers-2-name": "Content-Type", "headers-2-value": "text/plain"}))
    assert errors_of(form) == {
        "provider_url": ["Use an https:// URL: the request carries secrets that only TLS keeps private."],
        "hmac_header": ["A header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~, with no spaces "
                        "or colons, e.g. X-Request-Id."],
        "headers-1-name": ["x-ok is already in another row: each header is sent once."],
        "headers-1-value": ["A header value cannot contain a line break (CR or LF)."],
        "headers-2-name": ["Content-Type is set from the payload format, with its charset; it is always sent and "
                           "cannot be set here."],
        "payload_template": ['{{count}} at line 1, column 29 is outside a string: put it in quotes, like '
                             '"{{count}}".',
                             "{{fromNumber}}, {{message}} are missing: put each where the provider expects that "
                             "value."],
    }
    assert form.warnings == ["{{count}} is not a value the platform fills in: it is sent empty."]


def test_the_form_refuses_private_urls_unless_allowed(form_context):
    form_context.config["ALLOW_PRIVATE_PROVIDER_URLS"] = False  # as in production
    form = make_form(form_context, form_data(), allow_private=None)  # the app's setting: off
    assert errors_of(form) == {"provider_url": [refused("127.0.0.1")]}
    form = make_form(form_context, form_data(auth_type="oauth2", oauth_token_url="https://10.0.0.8/token",
                                             oauth_client_id="id", oauth_client_secret="s"), allow_private=False)
    assert errors_of(form)["oauth_token_url"] == [refused("10.0.0.8")]


def test_auth_header_names_are_checked(form_context):
    form = make_form(form_context, form_data(auth_type="hmac", hmac_secret="s", hmac_header="X-Timestamp"))
    assert errors_of(form) == {"hmac_header": ["X-Timestamp is already set by the request; name another header."]}
    form = make_form(form_context, form_data(auth_type="api_key", api_key="k", api_key_header="Host"))
    assert errors_of(form) == {"api_key_header": ["Host is already set by the request; name another header."]}
    form = make_form(form_context, form_data(auth_type="api_key", api_key="k", api_key_header="Authorization"))
    assert errors_of(form) == {}  # some providers take "Authorization: <key>"


def test_auth_header_rows_clash_with_the_auth_type(form_context):
    form = make_form(form_context, form_data(**{"headers-0-name": "Authorization", "headers-0-value": "x"}))
    assert errors_of(form) == {"headers-0-name": ["Authorization is set by the auth type."]}
    form = make_form(form_context, form_data(auth_type="api_key", api_key_header="X-Key", api_key="k",
                                             **{"headers-0-name": "x-key", "headers-0-value": "x"}))
    assert errors_of(form) == {"headers-0-name": ["x-key is set by the auth type."]}


def test_jwt_and_pem_fields_are_checked(form_context):
    form = make_form(form_context, form_data(auth_type="jwt", jwt_secret="short", jwt_claims='["not", "object"]'))
    assert errors_of(form) == {
        "jwt_secret": ["An HS256 secret has at least 32 bytes (RFC 7518); this one has 5."],
        "jwt_claims": ["The claims are a JSON object: they start with { and end with }."]}
    ca = make_authority()
    certificate, key = ca.issue("client", client=True)
    _other, other_key = ca.issue("other", client=True)
    form = make_form(form_context, form_data(auth_type="none", client_certificate=certificate, client_key=other_key))
    assert list(errors_of(form)) == ["client_key"]
    form = make_form(form_context, form_data(auth_type="none", client_certificate="nonsense", client_key=key))
    assert list(errors_of(form)) == ["client_certificate"]
    # On edit the new certificate is checked against the stored key.
    form = make_form(form_context, form_data(auth_type="none", client_certificate=certificate),
                     stored_secrets={"client_key": other_key})
    assert list(errors_of(form)) == ["client_key"]
    form = make_form(form_context, form_data(auth_type="none", client_certificate=certificate),
                     stored_secrets={"client_key": key})
    assert errors_of(form) == {}
    assert form.provider_settings().auth_secrets == {"client_key": key}


def test_secrets_are_never_rendered_back(form_context):
    ca = make_authority()
    _certificate, key = ca.issue("client", client=True)
    form = make_form(form_context, form_data(auth_type="none", client_key=key, basic_password="pw-secret",
                                             bearer_token="tok-secret", hmac_secret="hm-secret",
                                             jwt_secret="jwt-secret", oauth_client_secret="oa-secret",
                                             api_key="key-secret"))
    html = "".join(str(form[name]()) for name in ("client_key", "basic_password", "bearer_token", "hmac_secret",
                                                  "jwt_secret", "oauth_client_secret", "api_key"))
    for secret in ("PRIVATE KEY", "pw-secret", "tok-secret", "hm-secret", "jwt-secret", "oa-secret", "key-secret"):
        assert secret not in html


def test_edit_data_holds_everything_but_the_secrets(form_context):
    settings = twilio_rcs_preset(ACCOUNT_SID, "f" * 32, SERVICE_SID)
    settings.name, settings.headers = "Twilio RCS", [["X-Tenant", "acme"]]
    data = custom_credential_data(settings)
    assert data == {"name": "Twilio RCS", "provider_name": "Twilio", "provider_url": settings.provider_url,
                    "auth_type": "basic", "payload_format": "form", "payload_template": settings.payload_template,
                    "headers": [{"name": "X-Tenant", "value": "acme"}], "basic_username": ACCOUNT_SID}
    form = CustomCredentialForm(formdata=None, data=data, meta={"csrf": False})
    assert form.headers[0].form.name.data == "X-Tenant" and form.basic_username.data == ACCOUNT_SID
    assert "f" * 32 not in json.dumps(data)


def form_data(**fields):
    data = {"name": "Acme RCS", "provider_name": "Acme", "provider_url": "https://127.0.0.1:8443/send",
            "auth_type": "bearer", "bearer_token": "t0ken", "payload_format": "json",
            "payload_template": JSON_TEMPLATE.replace("\n", "\r\n")}
    data.update(fields)
    return MultiDict({key: value for key, value in data.items() if value is not None})


def make_form(app, data, **kwargs):
    kwargs.setdefault("allow_private", True)
    form = CustomCredentialForm(formdata=data, meta={"csrf": False}, **kwargs)
    form.validate()
    return form


@pytest.fixture
def form_context(app):
    with app.test_request_context(method="POST"), database.connection_context():
        yield app


def errors_of(form) -> dict:
    found = {name: list(field.errors) for name, field in form._fields.items() if field.errors and name != "headers"}
    for index, entry in enumerate(form.headers):
        for part in ("name", "value"):
            if entry.form[part].errors:
                found[f"headers-{index}-{part}"] = list(entry.form[part].errors)
    return found
