"""The sandbox forms: a name, and whether it is a practice sandbox."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from wizard.core.models import Sandbox
from wizard.shell.fields import strip, visible_name


class SandboxForm(FlaskForm):
    name = StringField(
        _l("Name"),
        description=_l("Up to 64 characters, unique."),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a name for the sandbox.")),
            Length(max=64, message=_l("A sandbox name has at most 64 characters.")),
            visible_name(_l("A sandbox name")),
        ],
    )

    def __init__(self, *args, sandbox=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sandbox = sandbox  # the one being renamed, if any

    def validate_name(self, field):
        if field.errors:
            return
        clash = Sandbox.select().where(Sandbox.name_key == Sandbox.key_for(field.data))
        if self.sandbox is not None:
            clash = clash.where(Sandbox.id != self.sandbox.id)
        if clash.exists():
            raise ValidationError(_l("A sandbox with this name already exists."))


class PracticeSandboxForm(SandboxForm):
    """A sandbox's name, and whether it is a practice sandbox (Twilio answered by the app's simulator)."""

    is_practice = BooleanField(
        _l("Practice sandbox"),
        description=_l("The app's Twilio simulator answers every Twilio call made in a practice sandbox: nothing "
                       "reaches Twilio or any provider. For training and first steps."))
    version = HiddenField()  # the version a rename form was opened at
