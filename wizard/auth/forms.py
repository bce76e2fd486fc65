"""The forms of the first-run page, sign-in and the admins page."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

from wizard.shell.fields import EMAIL, MIN_PASSWORD, strip, visible_name


class AccountForm(FlaskForm):
    """Email and password: the first admin, and every admin added after."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter an email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            Regexp(EMAIL, message=_l("Enter an email address like name@example.com.")),
            visible_name(_l("An email address")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        description=_l("At least 12 characters."),
        validators=[
            DataRequired(_l("Enter a password.")),
            Length(min=MIN_PASSWORD, message=_l("Use at least 12 characters.")),
            Length(max=1024, message=_l("A password has at most 1024 characters.")),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(_l("Enter your email address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
