"""The auth types of a custom provider, by name, in the order the form offers them.

Each type is one module of this package declaring an AuthType (base.py): its label, its fields
(label, wtforms field, required message, help, default, secret or not), the headers it sets, how
it authenticates a request and its checks of what was typed. Adding a type is one new module and
one register() call below; the credential form (wizard.credentials.custom_forms), the settings,
the request and send() all read this registry.

    AUTH_TYPES: name -> AuthType;  register(kind) / unregister(name)
    AUTH_FIELDS, FIELD_LABELS, FIELD_HELP, DEFAULTS, SECRET_FIELDS: every registered type's fields
    authenticate(settings, body, access_token) -> Authentication;  auth_header_names(settings)"""
from flask_babel import gettext as _

from wizard.providers.custom.auth.api_key import API_KEY
from wizard.providers.custom.auth.base import (
    Authentication,
    AuthField,
    AuthType,
    Typed,
)
from wizard.providers.custom.auth.basic import BASIC
from wizard.providers.custom.auth.bearer import BEARER
from wizard.providers.custom.auth.hmac import HMAC
from wizard.providers.custom.auth.jwt import JWT
from wizard.providers.custom.auth.mutual_tls import MUTUAL_TLS
from wizard.providers.custom.auth.oauth2 import OAUTH2
from wizard.providers.custom.errors import ProviderError

__all__ = ["AUTH_FIELDS", "AUTH_TYPES", "DEFAULTS", "FIELD_HELP", "FIELD_LABELS", "SECRET_FIELDS", "AuthField",
           "AuthType", "Authentication", "Typed", "auth_header_names", "authenticate", "register", "unregister"]


AUTH_TYPES: dict[str, AuthType] = {}


# Derived from AUTH_TYPES by register() and unregister(), kept as the same objects.
AUTH_FIELDS: dict[str, AuthField] = {}  # field name -> its declaration, over every type
FIELD_LABELS: dict[str, str] = {}
FIELD_HELP: dict[str, str] = {}
DEFAULTS: dict[str, str] = {}  # what setting(name) gives when the field was left blank
SECRET_FIELDS: set[str] = set()


def _derive():
    AUTH_FIELDS.clear()
    for kind in AUTH_TYPES.values():
        for spec in kind.inputs:
            AUTH_FIELDS.setdefault(spec.name, spec)
    FIELD_LABELS.clear()
    FIELD_LABELS.update({name: spec.label for name, spec in AUTH_FIELDS.items()})
    FIELD_HELP.clear()
    FIELD_HELP.update({name: spec.help for name, spec in AUTH_FIELDS.items() if spec.help is not None})
    DEFAULTS.clear()
    DEFAULTS.update({name: spec.default for name, spec in AUTH_FIELDS.items() if spec.default is not None})
    SECRET_FIELDS.clear()
    SECRET_FIELDS.update(name for name, spec in AUTH_FIELDS.items() if spec.secret)


def register(kind: AuthType) -> AuthType:
    """Offer an auth type (last in the list). Its field names must be new: they are the form's
    field names and the keys in auth_settings / auth_secrets."""
    if kind.name in AUTH_TYPES:
        raise ValueError(f"The auth type {kind.name} is already registered.")
    taken = set(kind.fields) & set(AUTH_FIELDS)
    if taken:
        raise ValueError(f"The fields {', '.join(sorted(taken))} belong to another auth type.")
    AUTH_TYPES[kind.name] = kind
    _derive()
    return kind


def unregister(name: str) -> AuthType:
    kind = AUTH_TYPES.pop(name)
    _derive()
    return kind


for _kind in (API_KEY, BASIC, BEARER, OAUTH2, HMAC, JWT, MUTUAL_TLS):
    register(_kind)


def authenticate(settings, body: bytes, access_token: str | None) -> Authentication:
    """What the settings' auth type adds to a request with this body; ProviderError when it can't."""
    kind = AUTH_TYPES.get(settings.auth_type)
    if kind is None:
        raise ProviderError(_("Choose an auth type."))
    return kind.authenticate(settings, body, access_token)


def auth_header_names(settings) -> set[str]:
    """The headers the auth type sets (lower-case): the admin's rows may not set them too."""
    kind = AUTH_TYPES.get(settings.auth_type)
    return kind.header_names(settings) if kind else set()
