"""The Twilio credential's forms: name, Account SID and Auth Token, Messaging Service, a number per
sandbox. The guided SMS flow shows them one per step; the edit page shows them together."""
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from wizard.core.models import ApiCredential
from wizard.shell.fields import (
    ACCOUNT_SID,
    MESSAGING_SERVICE_SID,
    auth_token_validator,
    no_spaces,
    one_kind_of_newline,
    sid_validator,
    strip,
    visible_name,
)
from wizard.shell.phones import e164, phone_number_validator


class CredentialNameForm(FlaskForm):
    name = StringField(
        _l("Name"),
        description=_l("Up to 128 characters, unique among API credentials."),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a name for the API credential.")),
            Length(max=128, message=_l("A name has at most 128 characters.")),
            visible_name(_l("A name")),
        ],
    )

    def __init__(self, *args, credential_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.credential_id = credential_id  # the one being edited, if any

    def validate_name(self, field):
        if field.errors:
            return
        clash = ApiCredential.select().where(ApiCredential.name_key == field.data.casefold())
        if self.credential_id is not None:
            clash = clash.where(ApiCredential.id != self.credential_id)
        if clash.exists():
            raise ValidationError(_l("An API credential with this name already exists."))


class TwilioAccountForm(FlaskForm):
    account_sid = StringField(
        _l("Account SID"),
        description=_l("AC followed by 32 hex digits, from the Account Info pane of the Twilio console."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
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
        description=_l("MG followed by 32 hex digits: the Messaging Service that sends for this credential (Twilio "
                       "console, Messaging, Services). Not the SID of a message, which starts with SM."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
        filters=[no_spaces],
        validators=[DataRequired(_l("Choose or enter the Messaging Service SID.")),
                    sid_validator("MG", _l("A Messaging Service SID"), MESSAGING_SERVICE_SID)],
    )


NUMBER_HELP = _l("E.164, e.g. +14155550101: a number of this Twilio account, best one in the Messaging Service's "
                 "sender pool.")
# The guided numbers step offers the Messaging Service's numbers (its datalist "known-numbers"). No
# placeholder: an example number in an empty field reads as a number already filled in; the help has it.
NUMBER_ATTRIBUTES = {"autocomplete": "off", "inputmode": "tel", "list": "known-numbers"}


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
                StringField(gettext("Incoming number for %(name)s", name=sandbox.name), filters=[e164],
                            description=NUMBER_HELP, render_kw=NUMBER_ATTRIBUTES,
                            validators=[phone_number_validator]))
    IncomingNumbersForm.sandboxes = sandboxes
    return IncomingNumbersForm


def credential_form_class(sandboxes):
    """The edit form: the guided flow's parts together, plus the version it was opened at."""

    class CredentialForm(CredentialNameForm, TwilioAccountForm, MessagingServiceForm,
                         incoming_numbers_form(sandboxes)):
        version = HiddenField()

    return CredentialForm


class SmsTestForm(FlaskForm):
    number = StringField(
        _l("Number"),
        description=_l("The phone that gets the message, in E.164 format, e.g. +14155550123."),
        filters=[e164],
        validators=[DataRequired(_l("Enter the number to send the test message to.")), phone_number_validator],
    )
    message = TextAreaField(
        _l("Message"),
        filters=[one_kind_of_newline],
        validators=[DataRequired(_l("Enter the message to send.")),
                    Length(max=1600, message=_l("A message has at most 1600 characters."))],
    )


def service_name_field(label=_l("Messaging Service name")):
    """The friendly name of a Messaging Service the wizard creates (Twilio takes up to 64 characters)."""
    return StringField(
        label,
        description=_l("Up to 64 characters; shown in the Twilio console under Messaging, Services."),
        filters=[strip],
        validators=[Length(max=64, message=_l("A Messaging Service name has at most 64 characters.")),
                    visible_name(_l("A name"))],
    )
