"""Where a custom credential's secrets go, and which stored ones may no longer go there.

A secret is stored for the origin (scheme, host, port) of the URLs it is sent to (its AuthField's
sent_to: the provider URL; the OAuth client secret also the token URL). When an edit points one
of those URLs at another origin, the stored secret is not kept: it must be typed again, so that
whoever can edit a credential can't have its stored secret sent to a host of their choosing.
The credential form (saving, previewing, testing) and the guided RCS step's draft both ask here."""
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from wizard.providers.custom.auth import AUTH_FIELDS, SECRET_FIELDS

DEFAULT_PORTS = {"https": 443, "http": 80}


def origin(url) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of a URL, lower-case, the default port filled in; None for no URL."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS.get(scheme)


def moved_urls(name: str, stored: Mapping, typed: Mapping) -> list[str]:
    """The URL fields secret `name` goes to whose origin `typed` changes from `stored`. A URL
    field that `typed` does not hold, or that `stored` has no value for, has not moved."""
    spec = AUTH_FIELDS.get(name)
    if spec is None or not spec.secret:
        return []
    return [field for field in spec.sent_to
            if field in typed and stored.get(field) and origin(stored[field]) != origin(typed[field])]


def moved_secrets(stored: Mapping, typed: Mapping, names: Iterable[str] | None = None) -> set[str]:
    """The secrets among `names` (every auth type's by default) that go to a URL whose origin
    `typed` changes from `stored` (both: field name -> value, as the form or a draft holds them)."""
    return {name for name in (SECRET_FIELDS if names is None else names) if moved_urls(name, stored, typed)}
