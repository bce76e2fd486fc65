"""The channel configuration form: name, channel, SMS type, credential, sender number, subdomain and
execution field, each checked as the admin leaves it."""
import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from wizard.core.models import ChannelConfiguration
from wizard.shell.choosers import ChoosesCredential, credentials_with_a_number
from wizard.shell.fields import lowercase, strip

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


def name_taken(name: str, sandbox, configuration_id=None) -> bool:
    """Whether another channel configuration in this sandbox has this name, ignoring case."""
    clash = ChannelConfiguration.select().where(ChannelConfiguration.sandbox == sandbox.id,
                                                ChannelConfiguration.name_key == name.casefold())
    if configuration_id is not None:
        clash = clash.where(ChannelConfiguration.id != configuration_id)
    return clash.exists()


class ChannelFieldsForm(FlaskForm):
    """What every channel configuration has, whatever carries it: name, SMS type, short URLs,
    the profile field with the phone number. The RCS flow uses it alone: its credential
    doesn't exist until the flow finishes."""

    name = StringField(
        _l("Name"),
        description=_l("Starts with a letter A-Z, then letters, digits and _ . -; up to 128 characters, unique in "
                       "this sandbox."),
        filters=[strip],
        validators=[DataRequired(_l("Enter a name for the channel configuration.")),
                    Length(max=128, message=_l("A name has at most 128 characters."))],
    )
    description = TextAreaField(
        _l("Description"),
        description=_l("Optional; up to 1000 characters."),
        render_kw={"rows": 3},
        filters=[strip],
        validators=[Length(max=1000, message=_l("A description has at most 1000 characters."))],
    )
    sms_type = SelectField(_l("SMS type"), choices=[SelectChoice("", _l("Choose the SMS type")),
                                                    *(SelectChoice(*item) for item in SMS_TYPES.items())],
                           validate_choice=False,
                           description=_l("Marketing: promotions, sent only to recipients who consented. "
                                          "Transactional: messages the recipient expects, such as order updates "
                                          "and one-time codes."))
    subdomain = StringField(
        _l("Subdomain for short URLs"),
        description=_l("Optional. The host name that short URLs in messages use, e.g. go.example.com."),
        filters=[strip, lowercase],
        validators=[Length(max=253, message=_l("A host name has at most 253 characters."))],
    )
    execution_field = StringField(
        _l("Execution field"),
        description=_l("The profile attribute that holds the phone number to send to; usually mobilePhone.number."),
        default=DEFAULT_EXECUTION_FIELD,
        filters=[strip],
        validators=[DataRequired(_l("Enter the profile attribute that holds the phone number, "
                                    "e.g. mobilePhone.number.")),
                    Length(max=255, message=_l("An execution field has at most 255 characters."))],
    )
    version = HiddenField()  # the version the edit form was opened at

    def __init__(self, *args, sandbox, configuration_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Names are unique in a sandbox: prod and dev may each have one of the same name.
        self.sandbox, self.configuration_id = sandbox, configuration_id  # the one being edited, if any

    def validate_name(self, field):

        value = field.data or ""
        if field.errors or not value:
            return
        if not CHANNEL_NAME.fullmatch(value):
            if not re.match(r"[A-Za-z]", value):
                raise ValidationError(_l("A name starts with a letter, A to Z."))
            wrong = dict.fromkeys(c for c in value if not CHANNEL_NAME_CHARACTER.fullmatch(c))
            raise ValidationError(gettext("A name has only letters A-Z, digits and _ . - (not %(characters)s).",
                                          characters=" ".join(f"“{c}”" for c in wrong)))
        if name_taken(value, self.sandbox, self.configuration_id):
            raise ValidationError(_l("A channel configuration with this name already exists in this sandbox."))

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


class ChannelConfigurationForm(ChoosesCredential, ChannelFieldsForm):
    """A channel configuration in one sandbox: its credential must have a number there, and
    the sender number is that number."""

    channel = SelectField(_l("Channel"), choices=[SelectChoice(key, c["label"]) for key, c in CHANNELS.items()],
                          default="sms", validate_choice=False)
    credential = SelectField(_l("API credential"), validate_choice=False)
    sender_number = SelectField(_l("Sender number"), validate_choice=False)
    # "channel:credential" the page offered its credentials and sender number for. A browser that
    # changed either without JavaScript posts choices made from lists for other values.
    choices_for = HiddenField()

    def __init__(self, *args, sandbox, configuration_id=None, **kwargs):
        super().__init__(*args, sandbox=sandbox, configuration_id=configuration_id, **kwargs)
        # The help names the sandbox, which an admin typed: gettext, never a lazy (safe) string.
        self.credential.description = gettext("An API credential with an incoming number in sandbox %(sandbox)s.",
                                              sandbox=sandbox.name)
        self.sender_number.description = gettext("The API credential's incoming number in sandbox %(sandbox)s.",
                                                 sandbox=sandbox.name)
        # The credentials this sandbox can send through: a number here, and a vendor that fits.
        self.numbers = credentials_with_a_number(sandbox, self.channel_vendors)
        self.offer_credentials(sandbox)

    @property
    def channel_vendors(self) -> tuple:
        return CHANNELS.get(self.channel.data, CHANNELS["sms"])["vendors"]

    @property
    def offered_for(self) -> str:
        """What the credential list and sender number are offered for now (the next choices_for)."""
        return f"{self.channel.data or ''}:{self.credential.data or ''}"

    def follow_channel(self):
        """The credential follows the channel: one that can't carry it is let go, and the only one
        that can is chosen (its number is then the only sender number offered)."""
        chosen = self.chosen_credential
        if chosen is not None and chosen.vendor not in self.channel_vendors:
            self.credential.data = ""
        if not self.credential.data and len(self.numbers) == 1:
            self.credential.data = str(next(iter(self.numbers)))
        self.offer_credentials(self.sandbox)

    def follow_credential(self):
        """The sender number is the chosen credential's number here: there is nothing else to choose."""
        self.sender_number.data = self.number_here() or ""

    def follow_changes(self) -> bool:
        """A posted form whose lists were offered for another channel or credential (JavaScript off):
        the dependent fields follow what is typed now. True when the channel changed, so the
        credential list the admin chose from was another channel's."""
        if not self.choices_for.data:
            return False  # not from our page: validated as posted
        channel, _, credential = self.choices_for.data.partition(":")
        if channel != self.channel.data:
            self.follow_channel()
            self.follow_credential()
            return True
        if credential != (self.credential.data or ""):
            self.follow_credential()
        return False

    def unusable_label(self, chosen, sandbox) -> str:
        if chosen.vendor not in self.channel_vendors:
            return gettext("%(name)s (cannot send %(channel)s)", name=chosen.name,
                           channel=CHANNELS.get(self.channel.data, CHANNELS["sms"])["label"])
        return super().unusable_label(chosen, sandbox)

    def columns(self) -> dict:
        """What a save writes, by column name: the configuration as typed."""
        return {"name": self.name.data, "name_key": self.name.data.casefold(),
                "description": self.description.data or "", "channel": self.channel.data,
                "sms_type": self.sms_type.data, "credential": self.chosen_credential.id,
                "sender_number": self.sender_number.data, "subdomain": self.subdomain.data or "",
                "execution_field": self.execution_field.data}

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
