"""What an auth type of a custom provider is: its fields and what it does with them.

Each module beside this one declares one AuthType; wizard.providers.custom.auth registers them.
The settings an auth type reads are a ProviderSettings (wizard.providers.custom.settings), used
only through .auth_type, .setting(name) and .secret(name), so this module does not import it."""
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from wtforms import StringField

from wizard.providers.custom.errors import ProviderError
from wizard.providers.custom.headers import check_auth_header_name
from wizard.shell.fields import strip


@dataclass(frozen=True)
class AuthField:
    """One field of an auth type, as the credential form shows it and the settings keep it.

    kind and options build the wtforms field (kind(label, default=..., filters=..., **options));
    required is the message when it is left blank, None for an optional field; a secret is
    write-only and kept encrypted in auth_secrets, the others in auth_settings. sent_to names the
    URL fields a secret goes to, itself or in a form derived from it: a stored secret is sent
    only to the origin it was stored for (wizard.providers.custom.destinations)."""

    name: str
    label: str
    kind: type = StringField
    required: str | None = None
    help: str | None = None
    default: str | None = None
    secret: bool = False
    filters: tuple = (strip,)
    sent_to: tuple[str, ...] = ("provider_url",)
    options: Mapping = field(default_factory=dict)

    @property
    def optional(self) -> bool:
        return self.required is None

    def unbound(self):
        """A new unbound wtforms field for a Form class."""
        return self.kind(self.label, default=self.default, filters=list(self.filters), description=self.help or "",
                         **self.options)


@dataclass
class Authentication:
    """What an auth type adds to a request: headers, and/or a client certificate (cert PEM, key PEM).
    public_headers are the added headers whose values are no secret (shown unredacted)."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    client_certificate: tuple[str, str] | None = None
    public_headers: frozenset = frozenset()


@dataclass
class Typed:
    """What the admin typed for the chosen auth type, for its checks.

    values: field name -> the form's data (a blank secret is blank here); stored: the secrets the
    credential already has, by name (empty when only their names are known); allow_private: a
    callable saying whether private and loopback URLs are allowed (asked only when needed)."""

    values: Mapping
    stored: Mapping = field(default_factory=dict)
    allow_private: Callable[[], bool] = bool

    def __getitem__(self, name: str):
        return self.values.get(name)

    def secret(self, name: str):
        """The typed value, else the stored one, else None."""
        return self.values.get(name) or self.stored.get(name) or None


def _no_headers(settings) -> set[str]:
    return set()


def _no_checks(typed: Typed) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class AuthType:
    """One auth type: its name (the auth_type column's value), label and fields in the form's order;
    header_names(settings): the lower-case headers it sets; authenticate(settings, body, access_token)
    -> Authentication, raising ProviderError; checks(typed) -> {field name: message}, run on the form
    after each required field was found filled in; uses_access_token: send() fetches an OAuth 2.0
    client-credentials access token first and passes it to authenticate."""

    name: str
    label: str
    inputs: tuple[AuthField, ...]
    authenticate: Callable
    header_names: Callable = _no_headers
    checks: Callable = _no_checks
    uses_access_token: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs if spec.secret)

    @property
    def destinations(self) -> tuple[str, ...]:
        """The URL fields of this type that its secrets are sent to (not the provider URL)."""
        return tuple(dict.fromkeys(url for spec in self.inputs if spec.secret for url in spec.sent_to
                                   if url in self.fields))

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs if spec.optional)

    def __getitem__(self, key: str):
        """kind["label"], kind["fields"], kind["secrets"], kind["optional"]: as when auth types were dicts."""
        if key not in ("label", "fields", "secrets", "optional"):
            raise KeyError(key)
        return getattr(self, key)

    def input(self, name: str) -> AuthField:
        return next(spec for spec in self.inputs if spec.name == name)

    def required(self, settings, name: str) -> str:
        """The value of one of this type's fields in the settings; ProviderError when it is blank."""
        spec = self.input(name)
        value = settings.secret(name) if spec.secret else settings.setting(name)
        if not value:
            raise ProviderError(_("%(field)s is missing for the auth type %(auth_type)s.", field=spec.label,
                                  auth_type=self.label))
        return value


def header_field(kind: AuthType, settings, name: str, also_set=()) -> str:
    """The header name one of the type's fields holds (e.g. the API key's); ProviderError when it is
    blank or can't be used."""
    header = kind.required(settings, name)
    if problem := check_auth_header_name(header, also_set):
        raise ProviderError(problem)
    return header


def header_field_problem(typed: Typed, name: str, also_set=()) -> dict[str, str]:
    """For checks(): the typed header name's problem, {} when it is fine or blank."""
    problem = check_auth_header_name(typed[name], also_set) if typed[name] else None
    return {name: problem} if problem else {}
