"""The forms of the first-run page, sign-in, the admins page and the account page."""
from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from wizard.auth.passwords import strong_enough
from wizard.shell.fields import EMAIL, MIN_PASSWORD, strip, visible_name


def _new_password_rules():
    return [
        DataRequired(_l("Enter a password.")),
        Length(min=MIN_PASSWORD, message=_l("Use at least 12 characters.")),
        Length(max=1024, message=_l("A password has at most 1024 characters.")),
    ]


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
        validators=[*_new_password_rules(), strong_enough(email_field="email")],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(_l("Enter your email address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class ChangePasswordForm(FlaskForm):
    """The signed-in admin's new password; the view checks the current one (counted like a sign-in)."""

    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Enter your current password."))])
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters."),
        validators=[*_new_password_rules(), strong_enough(email_of=lambda: g.user.email)],
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(_l("Enter the new password again.")),
                    EqualTo("new_password", message=_l("The two new passwords are not the same."))],
    )
