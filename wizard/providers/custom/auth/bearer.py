"""Bearer token: a fixed token in the Authorization header."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField

from wizard.providers.custom.auth.base import Authentication, AuthField, AuthType


def authenticate(settings, body: bytes, access_token: str | None) -> Authentication:
    return Authentication([("Authorization", "Bearer " + BEARER.required(settings, "bearer_token"))])


def header_names(settings) -> set[str]:
    return {"authorization"}


BEARER = AuthType(
    name="bearer",
    label=_l("Bearer token"),
    inputs=(
        AuthField("bearer_token", _l("Bearer token"), PasswordField, secret=True,
                  required=_l("Enter the bearer token.")),
    ),
    authenticate=authenticate,
    header_names=header_names,
)
