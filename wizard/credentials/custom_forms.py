"""The custom-provider credential form: provider, auth type and its fields, header rows, payload."""
from collections.abc import Mapping

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.form import FormMeta
from wtforms.validators import DataRequired, Length

from wizard.credentials.forms import CredentialNameForm, incoming_numbers_form
from wizard.providers import transport
from wizard.providers.custom.auth import (
    AUTH_FIELDS,
    AUTH_TYPES,
    FIELD_LABELS,
    SECRET_FIELDS,
    Typed,
    auth_header_names,
)
from wizard.providers.custom.destinations import moved_secrets, moved_urls
from wizard.providers.custom.headers import MAX_HEADER_ROWS, check_headers
from wizard.providers.custom.payload import check_template, payload_help
from wizard.providers.custom.settings import (
    CONTENT_TYPES,
    PAYLOAD_FORMATS,
    ProviderSettings,
)
from wizard.providers.custom.urls import check_url
from wizard.shell.fields import (
    one_kind_of_newline,
    strip,
    visible_name,
)
from wizard.shell.i18n import joined

CUSTOM_SECRET_FIELDS = SECRET_FIELDS  # every auth type's secrets (the registry's, kept up to date)


class HeaderRowForm(Form):
    """One header row; htmx adds and removes rows (headers-0-name, headers-0-value, ...)."""

    name = StringField(_l("Header name"), filters=[strip])
    value = StringField(_l("Header value"), filters=[strip])


def _add_auth_fields(form_class):
    """Give the form class a field for each field of each registered auth type it lacks yet, and
    take away those it was given for a type unregistered since."""
    added = form_class.__dict__.get("_auth_fields_added", frozenset())
    for name in added - AUTH_FIELDS.keys():
        delattr(form_class, name)
    for name, spec in AUTH_FIELDS.items():
        if not hasattr(form_class, name):
            setattr(form_class, name, spec.unbound())
            added |= {name}
    form_class._auth_fields_added = added & AUTH_FIELDS.keys()


class _AuthFieldsMeta(FormMeta):
    """Before each form is made, its class is given the fields of the auth types registered since
    (wizard.providers.custom.auth.register), and loses those of types unregistered since."""

    def __call__(cls, *args, **kwargs):
        _add_auth_fields(cls)
        return super().__call__(*args, **kwargs)


class _ProviderForm(CredentialNameForm):
    provider_name = StringField(
        _l("Provider name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the provider's name, e.g. Twilio.")),
                    Length(max=128, message=_l("A provider name has at most 128 characters.")),
                    visible_name(_l("A provider name"))],
    )
    provider_url = StringField(
        _l("Provider URL"),
        description=_l("https only: the endpoint messages are sent to."),
        render_kw={"inputmode": "url", "spellcheck": "false"},
        filters=[strip],
        validators=[DataRequired(_l("Enter the URL the messages are sent to, e.g. https://api.example.com/messages."))],
    )
    auth_type = SelectField(_l("Auth type"), default="api_key", validate_choice=False,
                            choices=lambda: [SelectChoice(key, kind.label) for key, kind in AUTH_TYPES.items()])


_add_auth_fields(_ProviderForm)  # here, so that the fields come right after the auth type, in the registry's order


class CustomCredentialForm(_ProviderForm, metaclass=_AuthFieldsMeta):
    """An API credential with vendor Custom: a provider's HTTP API, its auth, headers and payload.

    Every auth type's fields are in the form (wizard.providers.custom.auth: AUTH_TYPES); only the
    chosen type's are checked and kept. Secrets are write-only: a blank one keeps the stored value
    named in `stored_secrets`, unless a URL it is sent to now points to another origin than in
    `stored_urls` (wizard.providers.custom.destinations): then it must be typed again.
    """

    # Rows past MAX_HEADER_ROWS are kept to be refused beside their fields (check_headers); past
    # twice as many the form reads no further.
    headers = FieldList(FormField(HeaderRowForm), label=_l("Headers"), max_entries=2 * MAX_HEADER_ROWS)
    payload_format = SelectField(_l("Payload format"),
                                 choices=[SelectChoice(key, label) for key, label in PAYLOAD_FORMATS.items()],
                                 default="json", validate_choice=False)
    payload_template = TextAreaField(
        _l("Provider payload"), filters=[one_kind_of_newline],
        render_kw={"rows": 6, "spellcheck": "false", "class": "code"})

    def __init__(self, *args, stored_secrets=frozenset(), stored_urls: Mapping | None = None,
                 allow_private: bool | None = None, **kwargs):
        """stored_secrets: the names of the secrets the credential already has; a mapping of
        name -> value also lets a new certificate be checked against the stored key.
        stored_urls: the URLs those secrets were stored for, by field name (provider_url,
        oauth_token_url). allow_private: defaults to the ALLOW_PRIVATE_PROVIDER_URLS setting."""
        super().__init__(*args, **kwargs)
        self.stored_secrets = stored_secrets
        self.stored_urls = stored_urls or {}
        self.allow_private = allow_private
        self.warnings: list[str] = []
        # The help follows what is typed: a Twilio field may carry a placeholder's value.
        self.payload_template.description = payload_help(self.payload_template.data, self.payload_format.data)

    @property
    def chosen_auth(self):
        """The chosen AuthType (.label, .inputs, .fields, .secrets), API key when none is."""
        return AUTH_TYPES.get(self.auth_type.data, AUTH_TYPES["api_key"])

    @property
    def content_type(self) -> str:
        """The fixed first header row's value, from the payload format."""
        return CONTENT_TYPES.get(self.payload_format.data, CONTENT_TYPES["json"])

    @property
    def moved_secrets(self) -> set[str]:
        """The chosen type's stored secrets that may not be kept: a URL they go to points to another
        origin now. They are neither sent nor saved; the admin types them again."""
        stored = [name for name in self.chosen_auth.secrets if name in self.stored_secrets]
        return moved_secrets(self.stored_urls, self.data, stored)

    @property
    def kept_secrets(self) -> set[str]:
        """The names of the stored secrets a blank field keeps."""
        return set(self.stored_secrets) - self.moved_secrets

    def _stored_values(self) -> Mapping:
        """The stored secrets' values that may be kept, when given (else only their names are known)."""
        stored = self.stored_secrets if isinstance(self.stored_secrets, Mapping) else {}
        return {name: value for name, value in stored.items() if name in self.kept_secrets}

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
        ok, kind, moved = True, self.chosen_auth, self.moved_secrets
        self._note_moved(moved)
        for spec in kind.inputs:
            field = self[spec.name]
            if spec.name in moved:
                if not field.data:
                    url = self[moved_urls(spec.name, self.stored_urls, self.data)[0]]
                    ok = self._error(field, _("Type it again: the %(url)s now points to another host.",
                                              url=url.label.text))
                continue
            stored = spec.secret and spec.name in self.stored_secrets
            if not field.data and not spec.optional and not stored:
                ok = self._error(field, spec.required)
        typed = Typed({name: self[name].data for name in kind.fields}, self._stored_values(), self._private_allowed)
        for name, message in kind.checks(typed).items():
            ok = self._error(self[name], message)
        return ok

    def _note_moved(self, moved: set[str]):
        """Beside each URL that moved: which stored secrets saving it clears."""
        by_url = {}
        for name in (name for name in self.chosen_auth.secrets if name in moved):
            for url_field in moved_urls(name, self.stored_urls, self.data):
                by_url.setdefault(url_field, []).append(str(FIELD_LABELS[name]))
        for url_field, labels in by_url.items():
            self[url_field].notes = [ngettext(
                "Another host than before: the stored %(names)s will be cleared, so type it again.",
                "Another host than before: the stored %(names)s will be cleared, so type them again.",
                len(labels), names=joined(labels))]

    def _validate_headers(self) -> bool:
        ok = True
        rows = [(entry.form.name.data, entry.form.value.data) for entry in self.headers]
        reserved = auth_header_names(self.provider_settings()) if self.auth_type.data in AUTH_TYPES else set()
        for entry, problems in zip(self.headers, check_headers(rows, reserved), strict=True):
            for part, message in problems.items():
                ok = self._error(entry.form[part], message)
        return ok

    def provider_settings(self, stored: Mapping | None = None) -> ProviderSettings:
        """The settings as typed, for prepare/redact/send and for saving (to_columns). A blank
        secret takes its value from `stored` (name -> value), when given."""
        stored = stored if stored is not None else (self.stored_secrets if isinstance(self.stored_secrets, Mapping)
                                                    else {})
        stored = {name: value for name, value in stored.items() if name not in self.moved_secrets}
        kind = self.chosen_auth
        plain, secrets = {}, {}
        for name in kind.fields:
            if name in kind.secrets:
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
                 if name in AUTH_FIELDS and name not in SECRET_FIELDS})
    return data


def custom_form_class(sandboxes):
    """The custom credential form (the RCS step's) with a sender number per sandbox and the version."""

    class CustomCredentialPageForm(CustomCredentialForm, incoming_numbers_form(sandboxes)):
        version = HiddenField()

    return CustomCredentialPageForm
