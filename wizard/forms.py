"""Forms and their validators. Every label and message goes through the catalog."""
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def strip(value):
    return value.strip() if isinstance(value, str) else value


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


def incoming_numbers_form(sandboxes, numbers: dict | None = None):
    """A form with, for each sandbox, a checkbox "use it here" and its incoming number."""
    from wtforms import BooleanField

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
                    field.errors = [_l("Enter the incoming number for sandbox %(name)s.", name=sandbox.name)]
                    ok = False
            return ok

        def chosen(self) -> dict[int, str]:
            return {s.id: self[f"number_{s.id}"].data for s in sandboxes if self[f"use_{s.id}"].data}

    for sandbox in sandboxes:
        setattr(IncomingNumbersForm, f"use_{sandbox.id}",
                BooleanField(_l("Use in sandbox %(name)s", name=sandbox.name)))
        setattr(IncomingNumbersForm, f"number_{sandbox.id}",
                StringField(_l("Incoming number for %(name)s", name=sandbox.name), filters=[no_spaces],
                            validators=[Length(max=16, message=_l("An E.164 number has at most 15 digits.")),
                                        e164_validator]))
    IncomingNumbersForm.sandboxes = sandboxes
    return IncomingNumbersForm


# --- Channel configurations ------------------------------------------------------

CHANNEL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+$")
EXECUTION_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
