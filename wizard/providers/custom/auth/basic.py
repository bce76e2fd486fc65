"""HTTP Basic (RFC 7617): a user name and a password."""
import base64

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField

from wizard.providers.custom.auth.base import Authentication, AuthField, AuthType


def authenticate(settings, body: bytes, access_token: str | None) -> Authentication:
    # RFC 7617: user-id and password in UTF-8, then base64.
    pair = f"{BASIC.required(settings, 'basic_username')}:{BASIC.required(settings, 'basic_password')}"
    return Authentication([("Authorization", "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii"))])


def header_names(settings) -> set[str]:
    return {"authorization"}


BASIC = AuthType(
    name="basic",
    label=_l("Basic"),
    inputs=(
        AuthField("basic_username", _l("User name"), required=_l("Enter the user name.")),
        AuthField("basic_password", _l("Password"), PasswordField, secret=True, filters=(),
                  required=_l("Enter the password.")),
    ),
    authenticate=authenticate,
    header_names=header_names,
)
