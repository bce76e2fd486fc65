"""The auth types' registry (wizard.providers.custom.auth) is the only place an auth type is added:
a type registered here, in no module of the app, is offered and checked by the credential form,
kept by the settings, and authenticates the requests prepare() builds and send() makes."""
import pytest
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField

from wizard.core.db import database
from wizard.credentials.custom_forms import CustomCredentialForm
from wizard.providers.custom.auth import (
    AUTH_TYPES,
    DEFAULTS,
    FIELD_LABELS,
    SECRET_FIELDS,
    Authentication,
    AuthField,
    AuthType,
    register,
    unregister,
)
from wizard.providers.custom.http import send
from wizard.providers.custom.request import prepare, redact
from wizard.providers.custom.settings import ProviderError, ProviderSettings
from wizard.providers.transport import Transport

TEMPLATE = '{"from": "{{fromNumber}}", "to": "{{toNumber}}", "text": "{{message}}"}'
TO, FROM = "+14155550123", "+14155550101"


def _authenticate(settings, body, access_token):
    return Authentication([("X-Tenant", TENANT.required(settings, "tenant_id")),
                           ("X-Tenant-Key", TENANT.required(settings, "tenant_key"))],
                          public_headers=frozenset({"x-tenant"}))


def _checks(typed):
    return {"tenant_id": "A tenant ID has only digits."} if typed["tenant_id"] and not typed["tenant_id"].isdigit() \
        else {}


TENANT = AuthType(
    name="tenant",
    label="Tenant key",
    inputs=(AuthField("tenant_id", "Tenant ID", required="Enter the tenant ID.", default="1"),
            AuthField("tenant_key", "Tenant key", PasswordField, secret=True, required="Enter the tenant key.")),
    authenticate=_authenticate,
    header_names=lambda settings: {"x-tenant", "x-tenant-key"},
    checks=_checks,
)


@pytest.fixture
def tenant_type(app):
    register(TENANT)
    with app.test_request_context(method="POST"), database.connection_context():
        yield TENANT
    unregister("tenant")


def typed_form(**fields):
    data = {"name": "Tenant provider", "provider_name": "Tenant", "provider_url": "https://127.0.0.1:8443/send",
            "auth_type": "tenant", "payload_format": "json", "payload_template": TEMPLATE, **fields}
    form = CustomCredentialForm(formdata=MultiDict(data), meta={"csrf": False}, allow_private=True)
    form.validate()
    return form


def test_a_registered_type_is_offered_with_its_fields(tenant_type):
    assert list(AUTH_TYPES)[-1] == "tenant"
    assert (FIELD_LABELS["tenant_key"], DEFAULTS["tenant_id"]) == ("Tenant key", "1")
    assert "tenant_key" in SECRET_FIELDS
    form = CustomCredentialForm(meta={"csrf": False})
    assert ("tenant", "Tenant key") in [(choice.value, choice.label) for choice in form.auth_type.choices]
    assert form.tenant_id.label.text == "Tenant ID" and form.tenant_id.data == "1"
    assert 'type="password"' in form.tenant_key()


def test_the_form_checks_and_keeps_a_registered_type(tenant_type):
    form = typed_form(tenant_id="", tenant_key="")
    assert {name: field.errors for name, field in form._fields.items() if field.errors} == {
        "tenant_id": ["Enter the tenant ID."], "tenant_key": ["Enter the tenant key."]}
    form = typed_form(tenant_id="acme", tenant_key="s3cret")
    assert form.tenant_id.errors == ["A tenant ID has only digits."]
    form = typed_form(tenant_id="42", tenant_key="s3cret", **{"headers-0-name": "X-Tenant", "headers-0-value": "1"})
    assert form.headers[0].form["name"].errors == ["X-Tenant is set by the auth type."]

    form = typed_form(tenant_id="42", tenant_key="s3cret")
    assert form.errors == {}
    settings = form.provider_settings()
    assert (settings.auth_settings, settings.auth_secrets) == ({"tenant_id": "42"}, {"tenant_key": "s3cret"})
    columns = settings.to_columns()
    assert (columns["auth_settings"], columns["auth_secrets"]) == ('{"tenant_id": "42"}', '{"tenant_key": "s3cret"}')
    assert settings.secret_values() == ["s3cret"]


def test_a_registered_type_authenticates_the_request(tenant_type, provider_endpoint):
    settings = ProviderSettings(name="Tenant provider", provider_name="Tenant", provider_url=provider_endpoint.url(),
                                auth_type="tenant", auth_settings={"tenant_id": "42"},
                                auth_secrets={"tenant_key": "s3cret"}, payload_template=TEMPLATE)
    prepared = prepare(settings, TO, FROM, "Hello")
    assert [("X-Tenant", "42"), ("X-Tenant-Key", "s3cret")] == [
        header for header in prepared.headers if header[0].startswith("X-Tenant")]
    text = redact(prepared, settings.secret_values())
    assert "X-Tenant: 42\n" in text and "s3cret" not in text

    send(settings, TO, FROM, "Hello", allow_private=True, transport=Transport(practice=False))
    received = provider_endpoint.requests_to("/send")[0]
    assert (received.header("X-Tenant"), received.header("X-Tenant-Key")) == ("42", "s3cret")

    settings.auth_secrets = {}
    with pytest.raises(ProviderError, match="Tenant key is missing for the auth type Tenant key."):
        prepare(settings, TO, FROM, "Hello")


def test_a_type_or_field_is_registered_once(tenant_type):
    with pytest.raises(ValueError, match="already registered"):
        register(TENANT)
    clash = AuthType(name="other", label="Other", inputs=(AuthField("api_key", "Key"),),
                     authenticate=lambda settings, body, token: Authentication())
    with pytest.raises(ValueError, match="api_key belong to another auth type"):
        register(clash)
    assert "other" not in AUTH_TYPES


def test_an_unregistered_type_leaves_the_form(app):
    with app.test_request_context(method="POST"):
        register(TENANT)
        try:
            assert "tenant_key" in CustomCredentialForm(meta={"csrf": False})._fields
        finally:
            unregister("tenant")
        form = CustomCredentialForm(meta={"csrf": False})
    assert "tenant_key" not in form._fields and "tenant_key" not in SECRET_FIELDS
    assert "tenant" not in [choice.value for choice in form.auth_type.choices]
    assert list(form._fields)[:4] == ["name", "provider_name", "provider_url", "auth_type"]
    assert list(form._fields)[4:] == [*FIELD_LABELS, "headers", "payload_format", "payload_template"]
