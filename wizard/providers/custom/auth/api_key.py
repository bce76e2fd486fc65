"""API key: the key in a header the admin names (X-API-Key unless changed)."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField

from wizard.providers.custom.auth.base import (
    Authentication,
    AuthField,
    AuthType,
    header_field,
    header_field_problem,
)


def authenticate(settings, body: bytes, access_token: str | None) -> Authentication:
    header = header_field(API_KEY, settings, "api_key_header")
    return Authentication([(header, API_KEY.required(settings, "api_key"))])


def header_names(settings) -> set[str]:
    return {settings.setting("api_key_header").lower()}


def checks(typed) -> dict[str, str]:
    return header_field_problem(typed, "api_key_header")


API_KEY = AuthType(
    name="api_key",
    label=_l("API key"),
    inputs=(
        AuthField("api_key_header", _l("Header name"), default="X-API-Key",
                  required=_l("Enter the name of the header that carries the API key, e.g. X-API-Key.")),
        AuthField("api_key", _l("API key"), PasswordField, secret=True, required=_l("Enter the API key.")),
    ),
    authenticate=authenticate,
    header_names=header_names,
    checks=checks,
)
