"""Forms and their validators. Every label and message goes through the catalog."""
import re
from collections.abc import Mapping

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, FieldList, Form, FormField, HiddenField, PasswordField, SelectField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from wizard.custom_provider import (AUTH_TYPES, CONTENT_TYPES, FIELD_LABELS, HMAC_ALGORITHM_LABELS, HMAC_HELP,
                                    PAYLOAD_FORMATS, ProviderSettings, auth_header_names, check_auth_header_name,
                                    check_headers, check_jwt_claims, check_jwt_secret, check_template, check_url,
                                    client_certificate_problem)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def one_kind_of_newline(value):
    # Browsers send a textarea's line breaks as CRLF; phones get, and providers count, LF.
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class AccountForm(FlaskForm):
    """Email and password: the first admin, and every admin added after."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter an email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            Regexp(EMAIL, message=_l("Enter an email address like name@example.com.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter a password.")),
            Length(min=MIN_PASSWORD, message=_l("Use at least 12 characters.")),
            Length(max=1024, message=_l("A password has at most 1024 characters.")),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(_l("Enter your email address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class SandboxForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a name for the sandbox.")),
            Length(max=64, message=_l("A sandbox name has at most 64 characters.")),
        ],
    )

    def __init__(self, *args, sandbox=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sandbox = sandbox  # the one being renamed, if any

    def validate_name(self, field):
        from wizard.models import Sandbox

        if CONTROL_CHARACTERS.search(field.data or ""):
            raise ValidationError(_l("A sandbox name cannot contain control characters."))
        clash = Sandbox.select().where(Sandbox.name_key == Sandbox.key_for(field.data))
        if self.sandbox is not None:
            clash = clash.where(Sandbox.id != self.sandbox.id)
        if clash.exists():
            raise ValidationError(_l("A sandbox with this name already exists."))


# --- Twilio API credentials -------------------------------------------------------

ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
AUTH_TOKEN = re.compile(r"^[0-9a-fA-F]{32}$")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def sid_validator(prefix: str, what: str, pattern: re.Pattern):
    """Explain exactly what is wrong with a SID: prefix, length or characters."""

    def check(form, field):
        value = field.data or ""
        if pattern.match(value):
            return
        if not value.startswith(prefix):
            raise ValidationError(_l("%(what)s starts with %(prefix)s.", what=what, prefix=prefix))
        if len(value) != 34:
            raise ValidationError(
                _l("%(what)s is 34 characters long: %(prefix)s and 32 hex digits (this one has %(count)s).",
                   what=what, prefix=prefix, count=len(value))
            )
        raise ValidationError(
            _l("%(what)s has only the hex digits 0-9 and a-f after %(prefix)s.", what=what, prefix=prefix)
        )

    return check


def auth_token_validator(form, field):
    value = field.data or ""
    if value and not AUTH_TOKEN.match(value):
        raise ValidationError(_l("An Auth Token is 32 hex digits (0-9, a-f); this one has %(count)s characters.",
                                 count=len(value)))


def e164_validator(form, field):
    value = field.data or ""
    if value and not E164.match(value):
        raise ValidationError(_l("Enter the number in E.164 format: + then country code and number, "
                                 "up to 15 digits, e.g. +14155550101."))


def no_spaces(value):
    return re.sub(r"\s+", "", value) if isinstance(value, str) else value


class CredentialNameForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a name for the API credential.")),
            Length(max=128, message=_l("A name has at most 128 characters.")),
        ],
    )

    def __init__(self, *args, credential_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.credential_id = credential_id  # the one being edited, if any

    def validate_name(self, field):
        from wizard.models import ApiCredential

        if CONTROL_CHARACTERS.search(field.data or ""):
            raise ValidationError(_l("A name cannot contain control characters."))
        clash = ApiCredential.select().where(ApiCredential.name_key == field.data.casefold())
        if self.credential_id is not None:
            clash = clash.where(ApiCredential.id != self.credential_id)
        if clash.exists():
            raise ValidationError(_l("An API credential with this name already exists."))


class TwilioAccountForm(FlaskForm):
    account_sid = StringField(
        _l("Account SID"),
        filters=[no_spaces],
        validators=[DataRequired(_l("Enter the Account SID.")),
                    sid_validator("AC", _l("An Account SID"), ACCOUNT_SID)],
    )
    auth_token = PasswordField(
        _l("Auth Token"),
        filters=[no_spaces],
        validators=[auth_token_validator],
    )

    def __init__(self, *args, token_stored=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.token_stored = token_stored  # a blank token then keeps the stored one

    def validate_auth_token(self, field):
        if not field.data and not self.token_stored:
            raise ValidationError(_l("Enter the Auth Token."))


class MessagingServiceForm(FlaskForm):
    messaging_service_sid = StringField(
        _l("Messaging Service SID"),
        filters=[no_spaces],
        validators=[DataRequired(_l("Choose or enter the Messaging Service SID.")),
                    sid_validator("MG", _l("A Messaging Service SID"), MESSAGING_SERVICE_SID)],
    )


def incoming_numbers_form(sandboxes):
    """A form with, for each sandbox, a checkbox "use it here" and its incoming number.

    Its texts carry sandbox names, which admins type: they use gettext, never a lazy
    string, which templates would treat as safe HTML.
    """

    class IncomingNumbersForm(FlaskForm):
        def validate(self, extra_validators=None):
            ok = super().validate(extra_validators)
            used = [s for s in sandboxes if self[f"use_{s.id}"].data]
            if not used:
                self.form_errors.append(_l("Choose at least one sandbox that will use this credential."))
                ok = False
            for sandbox in used:
                field = self[f"number_{sandbox.id}"]
                if not field.data and not field.errors:
                    field.errors = [gettext("Enter the incoming number for sandbox %(name)s.", name=sandbox.name)]
                    ok = False
            return ok

        def chosen(self) -> dict[int, str]:
            return {s.id: self[f"number_{s.id}"].data for s in sandboxes if self[f"use_{s.id}"].data}

    for sandbox in sandboxes:
        setattr(IncomingNumbersForm, f"use_{sandbox.id}",
                BooleanField(gettext("Use in sandbox %(name)s", name=sandbox.name)))
        setattr(IncomingNumbersForm, f"number_{sandbox.id}",
                StringField(gettext("Incoming number for %(name)s", name=sandbox.name), filters=[no_spaces],
                            validators=[Length(max=16, message=_l("An E.164 number has at most 15 digits.")),
                                        e164_validator]))
    IncomingNumbersForm.sandboxes = sandboxes
    return IncomingNumbersForm


# --- Channel configurations ------------------------------------------------------

CHANNEL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+$")
EXECUTION_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

# The channels a configuration can send through, as data: each names the credential
# vendors that can carry it.
CHANNELS = {
    "sms": {"label": _l("SMS/MMS"), "vendors": ("twilio",)},
    "rcs": {"label": _l("RCS"), "vendors": ("custom",)},  # through a custom provider (the RCS flow)
}
SMS_TYPES = {"marketing": _l("Marketing"), "transactional": _l("Transactional")}
DEFAULT_EXECUTION_FIELD = "mobilePhone.number"
CHANNEL_NAME_CHARACTER = re.compile(r"[A-Za-z0-9_.-]")


# Messages that carry what an admin typed use gettext, not _l: a lazy string counts as safe
# HTML in templates (flask-babel's LazyString.__html__), so its arguments would go out unescaped.


def lowercase(value):
    return value.lower() if isinstance(value, str) else value


class ChannelFieldsForm(FlaskForm):
    """What every channel configuration has, whatever carries it: name, SMS type, short URLs,
    the profile field with the phone number. The RCS flow uses it alone: its credential
    doesn't exist until the flow finishes."""

    configuration_id = None  # the one being edited, if any

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a name for the channel configuration.")),
                    Length(max=128, message=_l("A name has at most 128 characters."))],
    )
    description = TextAreaField(
        _l("Description"),
        filters=[strip],
        validators=[Length(max=1000, message=_l("A description has at most 1000 characters."))],
    )
    sms_type = SelectField(_l("SMS type"), choices=[SelectChoice("", _l("Choose the SMS type")),
                                                    *(SelectChoice(*item) for item in SMS_TYPES.items())],
                           validate_choice=False)
    subdomain = StringField(
        _l("Subdomain for short URLs"),
        filters=[strip, lowercase],
        validators=[Length(max=253, message=_l("A host name has at most 253 characters."))],
    )
    execution_field = StringField(
        _l("Execution field"),
        default=DEFAULT_EXECUTION_FIELD,
        filters=[strip],
        validators=[DataRequired(_l("Enter the profile attribute that holds the phone number, "
                                    "e.g. mobilePhone.number.")),
                    Length(max=255, message=_l("An execution field has at most 255 characters."))],
    )
    version = HiddenField()  # the version the edit form was opened at

    def validate_name(self, field):
        from wizard.models import ChannelConfiguration

        value = field.data or ""
        if field.errors or not value:
            return
        if not CHANNEL_NAME.fullmatch(value):
            if not re.match(r"[A-Za-z]", value):
                raise ValidationError(_l("A name starts with a letter, A to Z."))
            wrong = dict.fromkeys(c for c in value if not CHANNEL_NAME_CHARACTER.fullmatch(c))
            raise ValidationError(gettext("A name has only letters A-Z, digits and _ . - (not %(characters)s).",
                                          characters=" ".join(f"“{c}”" for c in wrong)))
        clash = ChannelConfiguration.select().where(ChannelConfiguration.name_key == value.casefold())
        if self.configuration_id is not None:
            clash = clash.where(ChannelConfiguration.id != self.configuration_id)
        clash = clash.first()
        if clash is not None:
            raise ValidationError(gettext("A channel configuration with this name already exists in sandbox "
                                          "%(sandbox)s.", sandbox=clash.sandbox.name))

    def validate_sms_type(self, field):
        if field.data not in SMS_TYPES:
            raise ValidationError(_l("Choose Marketing or Transactional."))

    def validate_subdomain(self, field):
        value = field.data or ""
        if field.errors or not value:
            return
        if "/" in value or ":" in value:
            raise ValidationError(_l("Enter only the host name, like go.example.com, without https:// or a path."))
        if not HOSTNAME.fullmatch(value):
            raise ValidationError(_l("Enter a host name like go.example.com: parts of letters, digits and hyphens, "
                                     "separated by dots."))

    def validate_execution_field(self, field):
        if field.errors or not field.data:
            return
        if not EXECUTION_FIELD.fullmatch(field.data):
            raise ValidationError(_l("Enter the attribute's path like mobilePhone.number: names of letters, digits "
                                     "and _, separated by dots, each starting with a letter or _."))


def credentials_with_a_number(sandbox, vendors=None) -> dict:
    """{credential id: its CredentialNumber} for the credentials with a number in this sandbox."""
    from wizard.models import ApiCredential, CredentialNumber

    query = CredentialNumber.select(CredentialNumber, ApiCredential).join(ApiCredential).where(
        CredentialNumber.sandbox == sandbox.id)
    if vendors is not None:
        query = query.where(ApiCredential.vendor.in_(vendors))
    return {n.credential.id: n for n in query.order_by(ApiCredential.name_key)}


class ChoosesCredential:
    """A form part: its `credential` select offers the credentials in `self.numbers`, and its
    `sender_number` select the chosen one's number in this sandbox."""

    def offer_credentials(self, sandbox):
        from wizard.models import ApiCredential

        self.chosen_credential = None
        if (self.credential.data or "").isdigit():
            self.chosen_credential = ApiCredential.get_or_none(ApiCredential.id == int(self.credential.data))
        self.credential.choices = [SelectChoice("", _l("Choose an API credential"))] + [
            SelectChoice(str(credential_id), number.credential.name) for credential_id, number in self.numbers.items()]
        chosen = self.chosen_credential
        if chosen is not None and chosen.id not in self.numbers:
            # Kept in the list so that its error beside the field makes sense.
            self.credential.choices.append(
                SelectChoice(str(chosen.id), gettext("%(name)s (no number in sandbox %(sandbox)s)",
                                                     name=chosen.name, sandbox=sandbox.name)))
        number = self.number_here()
        self.sender_number.choices = ([SelectChoice(number)] if number
                                      else [SelectChoice("", _l("Choose an API credential first"))])

    def number_here(self) -> str | None:
        """The chosen credential's number in this sandbox, when it can be used here."""
        chosen = self.chosen_credential
        if chosen is None or chosen.id not in self.numbers:
            return None
        return self.numbers[chosen.id].phone_number


class ChannelConfigurationForm(ChoosesCredential, ChannelFieldsForm):
    """A channel configuration in one sandbox: its credential must have a number there, and
    the sender number is that number."""

    channel = SelectField(_l("Channel"), choices=[SelectChoice(key, c["label"]) for key, c in CHANNELS.items()],
                          default="sms", validate_choice=False)
    credential = SelectField(_l("API credential"), validate_choice=False)
    sender_number = SelectField(_l("Sender number"), validate_choice=False)

    def __init__(self, *args, sandbox, configuration_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sandbox, self.configuration_id = sandbox, configuration_id
        # The credentials this sandbox can send through: a number here, and a vendor that fits.
        self.numbers = credentials_with_a_number(sandbox, CHANNELS.get(self.channel.data, CHANNELS["sms"])["vendors"])
        self.offer_credentials(sandbox)

    def validate_channel(self, field):
        if field.data not in CHANNELS:
            raise ValidationError(_l("Choose a channel."))

    def validate_credential(self, field):
        chosen = self.chosen_credential
        if not field.data:
            raise ValidationError(_l("Choose an API credential."))
        if chosen is None:
            raise ValidationError(_l("That API credential no longer exists. Choose another one."))
        if chosen.id in self.numbers:
            return
        channel = CHANNELS.get(self.channel.data, CHANNELS["sms"])
        if chosen.vendor not in channel["vendors"]:
            raise ValidationError(gettext("API credential %(name)s cannot send %(channel)s messages.",
                                          name=chosen.name, channel=channel["label"]))
        raise ValidationError(gettext("API credential %(name)s has no number in sandbox %(sandbox)s. Add its "
                                      "incoming number for sandbox %(sandbox)s on the API credential's page, then "
                                      "choose it here.", name=chosen.name, sandbox=self.sandbox.name))

    def validate_sender_number(self, field):
        number = self.number_here()
        if number is None:
            return  # the credential's own error says what is wrong
        if not field.data:
            raise ValidationError(_l("Choose the sender number."))
        if field.data != number:
            # Without JavaScript the list still showed the previous credential's number.
            raise ValidationError(gettext("API credential %(name)s sends from %(number)s in sandbox %(sandbox)s, "
                                          "not from %(chosen)s. Its number is selected now; save again to use it.",
                                          name=self.chosen_credential.name, number=number,
                                          sandbox=self.sandbox.name, chosen=field.data))


# --- Custom provider credentials -----------------------------------------------------


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


def one_line_break(value):
    # Browsers send a textarea's line breaks as CRLF.
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class SecretTextAreaField(TextAreaField):
    """A textarea for a multi-line secret (a PEM private key): like a PasswordField, its value is
    never rendered back into the page."""

    def _value(self):
        return ""


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
    jwt_claims = TextAreaField(FIELD_LABELS["jwt_claims"], default="{}", filters=[one_line_break, strip])
    client_certificate = TextAreaField(FIELD_LABELS["client_certificate"], filters=[one_line_break, strip])
    client_key = SecretTextAreaField(FIELD_LABELS["client_key"], filters=[one_line_break, strip])
    headers = FieldList(FormField(HeaderRowForm), label=_l("Headers"), max_entries=50)
    payload_format = SelectField(_l("Payload format"),
                                 choices=[SelectChoice(key, label) for key, label in PAYLOAD_FORMATS.items()],
                                 default="json", validate_choice=False)
    payload_template = TextAreaField(_l("Provider payload"), filters=[one_line_break])

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
        from flask import current_app

        if self.allow_private is not None:
            return self.allow_private
        return bool(current_app.config.get("ALLOW_PRIVATE_PROVIDER_URLS"))

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
