"""The custom-provider credential form: provider, auth type and its fields, header rows, payload."""
from collections.abc import Mapping

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from wizard.credentials.forms import CredentialNameForm, incoming_numbers_form
from wizard.providers import transport
from wizard.providers.custom.auth import (
    check_jwt_claims,
    check_jwt_secret,
    client_certificate_problem,
)
from wizard.providers.custom.headers import (
    auth_header_names,
    check_auth_header_name,
    check_headers,
)
from wizard.providers.custom.payload import check_template
from wizard.providers.custom.settings import (
    AUTH_TYPES,
    CONTENT_TYPES,
    FIELD_LABELS,
    HMAC_ALGORITHM_LABELS,
    HMAC_HELP,
    PAYLOAD_FORMATS,
    ProviderSettings,
)
from wizard.providers.custom.urls import check_url
from wizard.shell.fields import (
    CONTROL_CHARACTERS,
    SecretTextAreaField,
    one_kind_of_newline,
    strip,
)

CUSTOM_SECRET_FIELDS = frozenset(name for kind in AUTH_TYPES.values() for name in kind["secrets"])


# What to enter when an auth type's field is left blank.
CUSTOM_FIELD_REQUIRED = {
    "api_key_header": _l("Enter the name of the header that carries the API key, e.g. X-API-Key."),
    "api_key": _l("Enter the API key."),
    "basic_username": _l("Enter the user name."),
    "basic_password": _l("Enter the password."),
    "bearer_token": _l("Enter the bearer token."),
    "oauth_token_url": _l("Enter the token URL, e.g. https://auth.example.com/oauth/token."),
    "oauth_client_id": _l("Enter the client ID."),
    "oauth_client_secret": _l("Enter the client secret."),
    "hmac_secret": _l("Enter the HMAC secret."),
    "hmac_header": _l("Enter the name of the header that carries the signature, e.g. X-Signature."),
    "hmac_algorithm": _l("Choose SHA-256 or SHA-512."),
    "jwt_secret": _l("Enter the JWT secret."),
    "client_certificate": _l("Paste the client certificate (PEM)."),
    "client_key": _l("Paste the client certificate's private key (PEM)."),
}


CUSTOM_FIELD_HELP = {
    "hmac_header": HMAC_HELP,
    "jwt_claims": _l("A JSON object, e.g. {\"iss\": \"acme\"}. Each request adds iat (now) and exp (in 5 minutes) "
                     "and is signed with HS256; the token is sent as a Bearer token."),
    "oauth_scope": _l("Optional; several scopes are separated by spaces."),
    "client_key": _l("Unencrypted, from -----BEGIN ... PRIVATE KEY----- to -----END ... PRIVATE KEY-----."),
}


class HeaderRowForm(Form):
    """One header row; htmx adds and removes rows (headers-0-name, headers-0-value, ...)."""

    name = StringField(_l("Header name"), filters=[strip])
    value = StringField(_l("Header value"), filters=[strip])


class CustomCredentialForm(CredentialNameForm):
    """An API credential with vendor Custom: a provider's HTTP API, its auth, headers and payload.

    Every auth type's fields are in the form; only the chosen type's are checked and kept.
    Secrets are write-only: a blank one keeps the stored value named in `stored_secrets`.
    """

    provider_name = StringField(
        _l("Provider name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the provider's name, e.g. Twilio.")),
                    Length(max=128, message=_l("A provider name has at most 128 characters."))],
    )
    provider_url = StringField(
        _l("Provider URL"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the URL the messages are sent to, e.g. https://api.example.com/messages."))],
    )
    auth_type = SelectField(_l("Auth type"), choices=[SelectChoice(key, kind["label"]) for key, kind in AUTH_TYPES.items()],
                            default="api_key", validate_choice=False)
    api_key_header = StringField(FIELD_LABELS["api_key_header"], default="X-API-Key", filters=[strip])
    api_key = PasswordField(FIELD_LABELS["api_key"], filters=[strip])
    basic_username = StringField(FIELD_LABELS["basic_username"], filters=[strip])
    basic_password = PasswordField(FIELD_LABELS["basic_password"])
    bearer_token = PasswordField(FIELD_LABELS["bearer_token"], filters=[strip])
    oauth_token_url = StringField(FIELD_LABELS["oauth_token_url"], filters=[strip])
    oauth_client_id = StringField(FIELD_LABELS["oauth_client_id"], filters=[strip])
    oauth_client_secret = PasswordField(FIELD_LABELS["oauth_client_secret"], filters=[strip])
    oauth_scope = StringField(FIELD_LABELS["oauth_scope"], filters=[strip])
    hmac_secret = PasswordField(FIELD_LABELS["hmac_secret"])
    hmac_header = StringField(FIELD_LABELS["hmac_header"], default="X-Signature", filters=[strip])
    hmac_algorithm = SelectField(FIELD_LABELS["hmac_algorithm"],
                                 choices=[SelectChoice(key, label) for key, label in HMAC_ALGORITHM_LABELS.items()],
                                 default="sha256", validate_choice=False)
    jwt_secret = PasswordField(FIELD_LABELS["jwt_secret"])
    jwt_claims = TextAreaField(FIELD_LABELS["jwt_claims"], default="{}", filters=[one_kind_of_newline, strip])
    client_certificate = TextAreaField(FIELD_LABELS["client_certificate"], filters=[one_kind_of_newline, strip])
    client_key = SecretTextAreaField(FIELD_LABELS["client_key"], filters=[one_kind_of_newline, strip])
    headers = FieldList(FormField(HeaderRowForm), label=_l("Headers"), max_entries=50)
    payload_format = SelectField(_l("Payload format"),
                                 choices=[SelectChoice(key, label) for key, label in PAYLOAD_FORMATS.items()],
                                 default="json", validate_choice=False)
    payload_template = TextAreaField(_l("Provider payload"), filters=[one_kind_of_newline])

    def __init__(self, *args, stored_secrets=frozenset(), allow_private: bool | None = None, **kwargs):
        """stored_secrets: the names of the secrets the credential already has; a mapping of
        name -> value also lets a new certificate be checked against the stored key.
        allow_private: defaults to the ALLOW_PRIVATE_PROVIDER_URLS setting."""
        super().__init__(*args, **kwargs)
        self.stored_secrets = stored_secrets
        self.allow_private = allow_private
        self.warnings: list[str] = []

    @property
    def chosen_auth(self) -> dict:
        return AUTH_TYPES.get(self.auth_type.data, AUTH_TYPES["api_key"])

    @property
    def content_type(self) -> str:
        """The fixed first header row's value, from the payload format."""
        return CONTENT_TYPES.get(self.payload_format.data, CONTENT_TYPES["json"])

    def _stored(self, name: str) -> str | None:
        if isinstance(self.stored_secrets, Mapping):
            return self.stored_secrets.get(name) or None
        return None

    def _private_allowed(self) -> bool:
        if self.allow_private is not None:
            return self.allow_private
        if current_app.config.get("ALLOW_PRIVATE_PROVIDER_URLS"):
            return True
        # Used only in practice sandboxes: only the Twilio simulator answers, no name is looked up.
        chosen = self.chosen() if hasattr(self, "chosen") else {}
        return bool(chosen) and transport.for_sandbox_ids(chosen).practice

    @staticmethod
    def _error(field, message) -> bool:
        field.errors = [*field.errors, message]
        return False

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        self.warnings = []
        if CONTROL_CHARACTERS.search(self.provider_name.data or "") and not self.provider_name.errors:
            ok = self._error(self.provider_name, _l("A provider name cannot contain control characters."))
        if self.provider_url.data and not self.provider_url.errors:
            problem = check_url(self.provider_url.data, self._private_allowed())
            if problem:
                ok = self._error(self.provider_url, problem)
        if self.auth_type.data not in AUTH_TYPES:
            ok = self._error(self.auth_type, _l("Choose an auth type."))
        else:
            ok = self._validate_auth() and ok
        ok = self._validate_headers() and ok
        if self.payload_format.data not in PAYLOAD_FORMATS:
            ok = self._error(self.payload_format, _l("Choose JSON or form-encoded."))
        elif not self.payload_template.errors:
            check = check_template(self.payload_template.data or "", self.payload_format.data)
            for error in check.errors:
                ok = self._error(self.payload_template, error)
            self.warnings = check.warnings
        return ok

    def _validate_auth(self) -> bool:
        ok, kind = True, self.chosen_auth
        for name in kind["fields"]:
            field = self[name]
            stored = name in kind["secrets"] and name in self.stored_secrets
            if not field.data and name not in kind["optional"] and not stored:
                ok = self._error(field, CUSTOM_FIELD_REQUIRED[name])
        type_ = self.auth_type.data
        for name in ("api_key_header", "hmac_header"):
            if name in kind["fields"] and self[name].data and not self[name].errors:
                problem = check_auth_header_name(self[name].data, type_)
                if problem:
                    ok = self._error(self[name], problem)
        if type_ == "oauth2" and self.oauth_token_url.data:
            problem = check_url(self.oauth_token_url.data, self._private_allowed())
            if problem:
                ok = self._error(self.oauth_token_url, problem)
        if type_ == "hmac" and self.hmac_algorithm.data not in HMAC_ALGORITHM_LABELS:
            ok = self._error(self.hmac_algorithm, CUSTOM_FIELD_REQUIRED["hmac_algorithm"])
        if type_ == "jwt":
            if self.jwt_secret.data and (problem := check_jwt_secret(self.jwt_secret.data)):
                ok = self._error(self.jwt_secret, problem)
            if problem := check_jwt_claims(self.jwt_claims.data):
                ok = self._error(self.jwt_claims, problem)
        if type_ == "none" and self.client_certificate.data:
            key = self.client_key.data or self._stored("client_key")
            if key:
                problem = client_certificate_problem(self.client_certificate.data, key)
                if problem:
                    ok = self._error(self[problem[0]], problem[1])
        return ok

    def _validate_headers(self) -> bool:
        ok = True
        rows = [(entry.form.name.data, entry.form.value.data) for entry in self.headers]
        reserved = auth_header_names(self.provider_settings()) if self.auth_type.data in AUTH_TYPES else set()
        for entry, problems in zip(self.headers, check_headers(rows, reserved)):
            for part, message in problems.items():
                ok = self._error(entry.form[part], message)
        return ok

    def provider_settings(self, stored: Mapping | None = None) -> ProviderSettings:
        """The settings as typed, for prepare/redact/send and for saving (to_columns). A blank
        secret takes its value from `stored` (name -> value), when given."""
        stored = stored if stored is not None else (self.stored_secrets if isinstance(self.stored_secrets, Mapping)
                                                    else {})
        kind = self.chosen_auth
        plain, secrets = {}, {}
        for name in kind["fields"]:
            if name in kind["secrets"]:
                value = self[name].data or stored.get(name) or ""
                if value:
                    secrets[name] = value
            elif self[name].data:
                plain[name] = self[name].data
        headers = [[entry.form.name.data or "", entry.form.value.data or ""] for entry in self.headers
                   if entry.form.name.data or entry.form.value.data]
        return ProviderSettings(
            name=self.name.data or "", provider_name=self.provider_name.data or "",
            provider_url=self.provider_url.data or "", auth_type=self.auth_type.data or "api_key",
            auth_settings=plain, auth_secrets=secrets, headers=headers,
            payload_format=self.payload_format.data or "json", payload_template=self.payload_template.data or "")


def custom_credential_data(settings: ProviderSettings) -> dict:
    """The form's data= to edit saved settings: every value but the secrets (write-only)."""
    data = {"name": settings.name, "provider_name": settings.provider_name, "provider_url": settings.provider_url,
            "auth_type": settings.auth_type, "payload_format": settings.payload_format,
            "payload_template": settings.payload_template,
            "headers": [{"name": name, "value": value} for name, value in settings.headers]}
    data.update({name: value for name, value in settings.auth_settings.items()
                 if name in FIELD_LABELS and name not in CUSTOM_SECRET_FIELDS})
    return data


def custom_form_class(sandboxes):
    """The custom credential form (the RCS step's) with a sender number per sandbox and the version."""

    class CustomCredentialPageForm(CustomCredentialForm, incoming_numbers_form(sandboxes)):
        version = HiddenField()

    return CustomCredentialPageForm
