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
