"""The custom-provider webhook form, and the checks on its sample payload."""
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from wizard.core import json_text
from wizard.core.models import CustomWebhook
from wizard.providers.custom.headers import HEADER_NAME
from wizard.providers.custom.payload import placeholder
from wizard.providers.custom.shape import REQUIRED, parse_value, path_text
from wizard.shell.choosers import ChoosesCredential, credentials_with_a_number
from wizard.shell.fields import CONTROL_CHARACTERS, one_kind_of_newline, strip, visible_name

TYPES = {"inbound": _l("Inbound"), "feedback": _l("Feedback")}


MAX_PAYLOAD = 64 * 1024  # bytes, for the sample and for a request body alike


# The example values Send a sample puts where the placeholders are.
SAMPLE_VALUES = {
    "InboundMessage": "HELP", "ProfileNumber": "+14155550123", "RequestID": "sample-request-1",
    "OriginTimestamp": "2024-01-01T12:00:00Z", "clientReference": "sample-message-1", "code": "0",
    "status": "delivered",
}


class CustomWebhookForm(ChoosesCredential, FlaskForm):
    """A custom webhook in one sandbox; an Inbound one names the credential and number it serves."""

    name = StringField(
        _l("Name"),
        description=_l("Up to 128 characters, unique among this sandbox's webhooks."),
        filters=[strip],
        validators=[DataRequired(_l("Enter a name for the webhook.")),
                    Length(max=128, message=_l("A name has at most 128 characters.")),
                    visible_name(_l("A name"))],
    )
    type = SelectField(_l("Type"), choices=[SelectChoice(key, label) for key, label in TYPES.items()],
                       default="inbound", validate_choice=False,
                       description=_l("Inbound: messages people send to your number. Feedback: the delivery status "
                                      "of messages you sent."))
    credential = SelectField(_l("API credential"), validate_choice=False)
    sender_number = SelectField(_l("Sender number"), validate_choice=False)
    payload = TextAreaField(
        _l("Payload"),
        filters=[one_kind_of_newline],
        validators=[DataRequired(_l("Paste the provider's sample JSON, with placeholders where the values are."))],
    )
    hmac_secret = PasswordField(
        _l("HMAC secret"),
        description=_l("Optional. When the provider signs its requests, the secret it shares with you: each request "
                       "must then carry the hex HMAC-SHA256 of its body in the signature header. Once saved, it is "
                       "never shown again."),
        filters=[strip],
        validators=[Length(max=1024, message=_l("An HMAC secret has at most 1024 characters."))],
    )
    remove_hmac_secret = BooleanField(_l("Remove the stored HMAC secret"))
    hmac_header = StringField(
        _l("Signature header"),
        description=_l("The request header the provider puts the signature in, e.g. X-Signature."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
        default="X-Signature",
        filters=[strip],
        validators=[DataRequired(_l("Enter the name of the header that carries the signature."))],
    )
    version = HiddenField()  # the version the edit form was opened at

    def __init__(self, *args, sandbox, webhook_id=None, secret_stored=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.sandbox, self.webhook_id, self.secret_stored = sandbox, webhook_id, secret_stored
        self.payload_warnings: list[str] = []
        # The help names the sandbox, which an admin typed: gettext, never a lazy (safe) string.
        self.credential.description = _(
            "Inbound only: the API credential whose number receives the messages, one with an incoming number in "
            "sandbox %(sandbox)s.", sandbox=sandbox.name)
        self.sender_number.description = _("Inbound only: the API credential's number in sandbox %(sandbox)s.",
                                           sandbox=sandbox.name)
        # Inbound webhooks serve a credential that has a number in this sandbox.
        self.numbers = credentials_with_a_number(sandbox)
        if self.credential.data is None and len(self.numbers) == 1:
            # The one credential this sandbox has: nothing to choose.
            self.credential.data, self.sender_number.data = str(next(iter(self.numbers))), None
        self.offer_credentials(sandbox)
        number = self.number_here()
        if number and self.sender_number.data is None:
            self.sender_number.data = number

    @property
    def inbound(self) -> bool:
        return self.type.data != "feedback"

    @property
    def needed_placeholders(self) -> list[str]:
        """The placeholders the chosen type reads, as the admin writes them."""
        return [placeholder(name) for name in REQUIRED.get(self.type.data, REQUIRED["inbound"])]

    def columns(self, editing: bool = False) -> dict:
        """What a save writes, by column name. A blank HMAC secret keeps the stored one, unless an
        edit asks to remove it."""
        inbound = self.type.data == "inbound"
        values = {
            "name": self.name.data,
            "name_key": self.name.data.casefold(),
            "type": self.type.data,
            "credential": self.chosen_credential.id if inbound else None,
            "sender_number": self.sender_number.data if inbound else "",
            "payload": self.payload.data,
            "hmac_header": self.hmac_header.data,
        }
        if self.hmac_secret.data:
            values["hmac_secret"] = self.hmac_secret.data
        elif editing and self.remove_hmac_secret.data:
            values["hmac_secret"] = None
        return values

    def validate_name(self, field):
        if field.errors or not field.data:
            return
        # Names are unique in a sandbox: prod and dev may each have one of the same name.
        clash = CustomWebhook.select().where(CustomWebhook.sandbox == self.sandbox.id,
                                             CustomWebhook.name_key == field.data.casefold())
        if self.webhook_id is not None:
            clash = clash.where(CustomWebhook.id != self.webhook_id)
        if clash.exists():
            raise ValidationError(_l("A webhook with this name already exists in this sandbox."))

    def validate_type(self, field):
        if field.data not in TYPES:
            raise ValidationError(_l("Choose Inbound or Feedback."))

    def validate_credential(self, field):
        if not self.inbound:
            return
        if not field.data:
            raise ValidationError(_l("Choose the API credential whose messages this webhook receives."))
        chosen = self.chosen_credential
        if chosen is None:
            raise ValidationError(_l("That API credential no longer exists. Choose another one."))
        if chosen.id not in self.numbers:
            raise ValidationError(_("API credential %(name)s has no number in sandbox %(sandbox)s. Add its incoming "
                                    "number for sandbox %(sandbox)s on the API credential's page, then choose it "
                                    "here.", name=chosen.name, sandbox=self.sandbox.name))

    def validate_sender_number(self, field):
        number = self.number_here()
        if not self.inbound or number is None:
            return  # the credential's own error says what is wrong
        if not field.data:
            raise ValidationError(_l("Choose the sender number."))
        if field.data != number:
            # Without JavaScript the list still showed the previous credential's number.
            chosen, field.data = field.data, number
            raise ValidationError(_("API credential %(name)s has the number %(number)s in sandbox %(sandbox)s, "
                                    "not %(chosen)s. Its number is selected now; save again to use it.",
                                    name=self.chosen_credential.name, number=number, sandbox=self.sandbox.name,
                                    chosen=chosen))

    def validate_payload(self, field):
        if field.errors or not field.data:
            return
        problems, self.payload_warnings = check_payload(field.data, self.type.data)
        if problems:
            raise ValidationError(problems[0])

    def validate_hmac_secret(self, field):
        if field.data and CONTROL_CHARACTERS.search(field.data):
            raise ValidationError(_l("An HMAC secret cannot contain control characters."))

    def validate_hmac_header(self, field):
        if field.errors or not field.data:
            return
        if len(field.data) > 64:
            raise ValidationError(_l("A header name has at most 64 characters."))
        if not HEADER_NAME.fullmatch(field.data):
            raise ValidationError(_l("A header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~, "
                                     "with no spaces, e.g. X-Signature."))


def check_payload(payload: str, webhook_type: str) -> tuple[list[str], list[str]]:
    """What is wrong with a sample (errors) and what is merely odd (warnings: saved anyway)."""
    size = len(payload.encode("utf-8"))
    if size > MAX_PAYLOAD:
        return [_("A payload has at most 64 KB; this one has %(size)s KB.", size=(size + 1023) // 1024)], []
    try:
        sample = json_text.loads(payload)
    except json.JSONDecodeError as error:
        return [json_text.problem(error)], []
    if not isinstance(sample, dict):
        return [_("The payload is a JSON object: it starts with { and ends with }.")], []
    shape = parse_value(sample)
    required = REQUIRED.get(webhook_type, REQUIRED["inbound"])
    problems = []
    missing = shape.missing(required)
    if missing:
        problems.append(ngettext("%(placeholders)s is missing: put it where the provider's JSON has that value.",
                                 "%(placeholders)s are missing: put each where the provider's JSON has that value.",
                                 len(missing), placeholders=", ".join(map(placeholder, missing))))
    problems += [_("%(placeholder)s is used more than once (at %(paths)s): a placeholder marks one place.",
                   placeholder=placeholder(name), paths=", ".join(map(path_text, paths)))
                 for name, paths in shape.repeated.items()]
    problems += [_("%(placeholder)s at %(path)s is part of a longer text: a placeholder is the whole value, "
                   "like \"%(placeholder)s\".", placeholder=placeholder(name), path=path_text(path))
                 for name, path in shape.embedded]
    unknown = shape.unknown(required)
    warnings = [ngettext("%(placeholders)s is not a value this webhook reads; it is saved, but ignored.",
                         "%(placeholders)s are not values this webhook reads; they are saved, but ignored.",
                         len(unknown), placeholders=", ".join(map(placeholder, unknown)))] if unknown else []
    # One message beside the field, however many problems it has.
    return ([" ".join(problems)] if problems else []), warnings
