"""The one HTTP request a custom credential describes, built without any network call, and its text
with every secret redacted; the one redaction, also for what a provider answers."""
import base64
import json
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus, urlsplit

from flask_babel import gettext as _

from wizard.providers.custom.auth import auth_header_names, authenticate
from wizard.providers.custom.headers import check_headers, header_rows
from wizard.providers.custom.payload import render_payload
from wizard.providers.custom.settings import (
    DEFAULT_HEADERS,
    REDACTED,
    ProviderError,
    as_settings,
)
from wizard.providers.custom.urls import unparsable


@dataclass
class Prepared:
    """One request, ready to send."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    secret_headers: frozenset = frozenset()  # lower-case names whose values redact() hides
    client_certificate: tuple[str, str] | None = field(default=None, repr=False)  # (cert PEM, key PEM)


def prepare(credential_like, to_number: str, from_number: str, message: str, extra: dict | None = None, *,
            access_token: str | None = None) -> Prepared:
    """The request a send makes, built without any network call. For OAuth 2.0, send() passes the
    access token; a preview without it shows where the token goes."""
    settings = as_settings(credential_like)
    problem = unparsable(settings.provider_url.strip())
    if problem:
        raise ProviderError(_("The provider URL cannot be used: %(problem)s", problem=problem))
    values = {"contentVariables": json.dumps({"1": message}, ensure_ascii=False), **(extra or {}),
              "toNumber": to_number, "fromNumber": from_number, "message": message}
    body, content_type = render_payload(settings.payload_template, settings.payload_format, values)
    for problems in check_headers(settings.headers, auth_header_names(settings)):
        if problems:
            raise ProviderError(_("The headers cannot be used: %(problem)s", problem=next(iter(problems.values()))))
    added = authenticate(settings, body, access_token)
    headers = [("Content-Type", content_type), *header_rows(settings)[1:], *added.headers]
    named = {name.lower() for name, _value in headers}
    headers += [header for header in DEFAULT_HEADERS if header[0].lower() not in named]
    hidden = {name.lower() for name, _value in added.headers} - added.public_headers
    return Prepared("POST", settings.provider_url.strip(), headers, body, frozenset(hidden), added.client_certificate)


def _spellings(secret: str) -> set[str]:
    """A secret as it may appear in a request or echoed in an answer: as typed, form-encoded,
    JSON-escaped, base64 (standard and URL-safe, with and without padding)."""
    encoded = secret.encode("utf-8")
    base64s = {base64.b64encode(encoded).decode("ascii"), base64.urlsafe_b64encode(encoded).decode("ascii")}
    return {secret, quote_plus(secret), quote(secret, safe=""), json.dumps(secret, ensure_ascii=False)[1:-1],
            json.dumps(secret)[1:-1], *base64s, *(spelling.rstrip("=") for spelling in base64s)}


def derived_secrets(*sent: Prepared | None) -> set[str]:
    """What the requests' auth headers carry because of a secret, whole and without their scheme: a
    Basic header's base64(user:password) or an OAuth client's base64 pair, which no single secret's
    spelling matches; a Bearer token (an access token bought with a secret, a JWT signed with one)
    and a JWT's signature alone; an HMAC signature."""
    values = set()
    for prepared in sent:
        for name, value in prepared.headers if prepared is not None else ():
            if name.lower() not in prepared.secret_headers or not value:
                continue
            values.add(value)
            scheme, _space, credentials = value.partition(" ")
            if credentials.strip() and scheme.isalpha():
                values.add(credentials.strip())
            parts = value.rsplit(" ", 1)[-1].split(".")
            if len(parts) == 3 and all(parts):  # a JWT: its signature is the secret's work too
                values.add(parts[2])
    return values


def redact_text(text: str, secrets=(), prepared: Prepared | tuple | None = None, rest: str = "") -> str:
    """Any text (a request, a provider's answer, an error) with every spelling of every secret, and
    of what the auth headers of `prepared` (one request or several) carry, hidden. `rest`: what
    follows a text that was cut short (read, not shown); a spelling the cut splits is hidden whole."""
    if isinstance(secrets, dict):
        secrets = secrets.values()
    sent = prepared if isinstance(prepared, tuple) else (prepared,)
    values = {str(secret) for secret in secrets if secret} | derived_secrets(*sent)
    hidden = sorted({spelling for value in values for spelling in _spellings(value) if spelling}, key=len,
                    reverse=True)
    whole = text + rest
    for spelling in hidden:
        start = whole.find(spelling, max(0, len(text) - len(spelling) + 1))
        if 0 <= start < len(text):  # runs on past the cut: take it in whole, to be hidden below
            text = whole[:start + len(spelling)]
    for spelling in hidden:
        text = text.replace(spelling, REDACTED)
    return text


def redact(prepared: Prepared, secrets=()) -> str:
    """The request as HTTP text, with the auth headers' values and every secret hidden."""
    parts = urlsplit(prepared.url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{prepared.method} {target} HTTP/1.1", f"Host: {host}{f':{port}' if port else ''}"]
    lines += [f"{name}: {REDACTED if name.lower() in prepared.secret_headers else value}"
              for name, value in prepared.headers]
    lines.append(f"Content-Length: {len(prepared.body)}")
    text = "\n".join(lines) + "\n\n" + prepared.body.decode("utf-8", "replace")
    return redact_text(text, secrets, prepared)
