"""Custom provider API credentials: the one HTTP request a credential describes, and every
check on what the admin types for it.

A custom credential (vendor "custom"; RCS through Twilio is one) is a POST to the provider's
URL with an auth type, extra headers and a payload template holding placeholders such as
{{toNumber}}. The RCS flow works on drafts that are not saved yet, so everything here takes
a ProviderSettings, made from a saved row (ProviderSettings.from_credential) or from a form.

    check_template / check_headers / check_url / check_client_certificate / check_jwt_claims
    prepare(...) -> Prepared;  redact(prepared, secrets) -> text;  send(...) -> ProviderAnswer
"""
import base64
import bisect
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import re
import socket
import ssl
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote, quote_plus, unquote_plus, urlencode, urlsplit

import jwt
import peewee
import requests
import urllib3
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from flask import current_app, has_app_context, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from wizard.models import utcnow
from wizard.payload_shape import PLACEHOLDER

REQUIRED_PLACEHOLDERS = ("fromNumber", "toNumber", "message")
# Placeholders the platform also fills in: Twilio Content Template variables. Unless the caller
# gives them, the message is the template's variable 1.
OPTIONAL_PLACEHOLDERS = ("contentVariables",)
# Twilio's Messages API can carry a required value by another field: the Messaging Service picks
# the sender from its pool (RCS first, then the SMS fallback), and a Content Template's variables
# carry the message. A form template with such a field needs no placeholder for that value.
STAND_INS = {"fromNumber": "MessagingServiceSid", "message": "ContentVariables"}

MAX_PAYLOAD = 64 * 1024  # bytes, template and rendered body alike
MAX_ANSWER = 8 * 1024  # bytes of a provider's answer kept for the admin to read
TIMEOUT = 10  # seconds, for connecting and for each read
REDACTED = "••••redacted"
# Sent unless the admin's headers set them, and listed in the preview: what it shows is what goes out.
DEFAULT_HEADERS = (("User-Agent", "Twilio-Messaging-Setup/1.0"), ("Accept-Encoding", "identity"))

PAYLOAD_FORMATS = {"json": _l("JSON"), "form": _l("Form-encoded")}
CONTENT_TYPES = {"json": "application/json; charset=utf-8",
                 "form": "application/x-www-form-urlencoded; charset=utf-8"}

HMAC_ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
HMAC_ALGORITHM_LABELS = {"sha256": "SHA-256", "sha512": "SHA-512"}
HMAC_TIMESTAMP_HEADER = "X-Timestamp"
HMAC_HELP = _l("Each request carries the Unix time in seconds in the X-Timestamp header, and in the signature "
               "header the hex HMAC of the timestamp, a dot and the body (timestamp.body).")
JWT_LIFETIME = datetime.timedelta(minutes=5)
JWT_MIN_SECRET = 32  # bytes: RFC 7518 section 3.2 wants an HS256 key at least as long as the hash
OAUTH_MARGIN = datetime.timedelta(seconds=60)  # a cached token is renewed this long before it expires

# Each auth type: its label, its fields in the form's order, which of them are secrets
# (write-only, kept in auth_secrets) and which may stay blank.
AUTH_TYPES = {
    "api_key": {"label": _l("API key"), "fields": ("api_key_header", "api_key"),
                "secrets": ("api_key",), "optional": ()},
    "basic": {"label": _l("Basic"), "fields": ("basic_username", "basic_password"),
              "secrets": ("basic_password",), "optional": ()},
    "bearer": {"label": _l("Bearer token"), "fields": ("bearer_token",),
               "secrets": ("bearer_token",), "optional": ()},
    "oauth2": {"label": _l("OAuth 2.0 client credentials"),
               "fields": ("oauth_token_url", "oauth_client_id", "oauth_client_secret", "oauth_scope"),
               "secrets": ("oauth_client_secret",), "optional": ("oauth_scope",)},
    "hmac": {"label": _l("HMAC signature"), "fields": ("hmac_secret", "hmac_header", "hmac_algorithm"),
             "secrets": ("hmac_secret",), "optional": ()},
    "jwt": {"label": _l("JWT (HS256)"), "fields": ("jwt_secret", "jwt_claims"),
            "secrets": ("jwt_secret",), "optional": ("jwt_claims",)},
    "none": {"label": _l("None (mutual TLS)"), "fields": ("client_certificate", "client_key"),
             "secrets": ("client_key",), "optional": ()},
}
FIELD_LABELS = {
    "api_key_header": _l("Header name"),
    "api_key": _l("API key"),
    "basic_username": _l("User name"),
    "basic_password": _l("Password"),
    "bearer_token": _l("Bearer token"),
    "oauth_token_url": _l("Token URL"),
    "oauth_client_id": _l("Client ID"),
    "oauth_client_secret": _l("Client secret"),
    "oauth_scope": _l("Scope"),
    "hmac_secret": _l("HMAC secret"),
    "hmac_header": _l("Signature header"),
    "hmac_algorithm": _l("Hash algorithm"),
    "jwt_secret": _l("JWT secret"),
    "jwt_claims": _l("Claims (JSON)"),
    "client_certificate": _l("Client certificate (PEM)"),
    "client_key": _l("Private key (PEM)"),
}
DEFAULTS = {"api_key_header": "X-API-Key", "hmac_header": "X-Signature", "hmac_algorithm": "sha256",
            "jwt_claims": "{}"}

# RFC 9110's token: what a header name may be (no spaces, colons, CR or LF).
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
HEADER_VALUE = re.compile(r"^[\t\x20-\x7e]*$")  # visible ASCII, spaces and tabs
# Set by the HTTP client for each request, never by hand.
COMPUTED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}
MAX_HEADER_NAME = 128
MAX_HEADER_VALUE = 8 * 1024

METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class ProviderError(Exception):
    """The request could not be made or got no answer; .message says why, without secrets."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- Settings ---------------------------------------------------------------------------------

class TokenCache(Protocol):
    """Where an OAuth access token is kept between sends."""

    def load(self, fingerprint: str, now: datetime.datetime) -> str | None: ...

    def store(self, fingerprint: str, token: str, expires_at: datetime.datetime) -> None: ...


class NoTokenCache:
    """Settings that are not saved yet: every send fetches a fresh token."""

    def load(self, fingerprint, now):
        return None

    def store(self, fingerprint, token, expires_at):
        pass


class CredentialTokenCache:
    """The token in a saved credential's oauth_token (encrypted) and oauth_expires_at, together
    with a fingerprint of the settings it was fetched with, so an edit makes it stale."""

    def __init__(self, credential):
        self.credential = credential

    def load(self, fingerprint, now):
        row = self.credential
        if not row.oauth_token or row.oauth_expires_at is None or row.oauth_expires_at <= now:
            return None
        try:
            cached = json.loads(row.oauth_token)
        except ValueError:
            return None
        return cached.get("token") if isinstance(cached, dict) and cached.get("for") == fingerprint else None

    def store(self, fingerprint, token, expires_at):
        row = self.credential
        row.oauth_token = json.dumps({"token": token, "for": fingerprint})
        row.oauth_expires_at = expires_at
        model = type(row)
        row.save(only=[model.oauth_token, model.oauth_expires_at])  # a cache, not an edit: no version bump


def _loaded(value, empty):
    if value is None or value == "":
        return empty
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class ProviderSettings:
    """A custom credential's sending settings, saved or not; auth_secrets hold plain values."""

    name: str = ""
    provider_name: str = ""
    provider_url: str = ""
    auth_type: str = "api_key"
    auth_settings: dict = field(default_factory=dict)
    auth_secrets: dict = field(default_factory=dict, repr=False)
    headers: list = field(default_factory=list)  # [[name, value], ...] beside the fixed Content-Type
    payload_format: str = "json"
    payload_template: str = ""
    token_cache: TokenCache = field(default_factory=NoTokenCache, repr=False, compare=False)

    @classmethod
    def from_credential(cls, credential) -> "ProviderSettings":
        """From an ApiCredential row (secrets decrypted) or any object with the same attributes,
        whose auth_settings, auth_secrets and headers may be JSON text or already parsed."""
        settings = cls(
            name=getattr(credential, "name", "") or "",
            provider_name=credential.provider_name or "",
            provider_url=credential.provider_url or "",
            auth_type=credential.auth_type or "api_key",
            auth_settings=dict(_loaded(credential.auth_settings, {})),
            auth_secrets=dict(_loaded(credential.auth_secrets, {})),
            headers=[list(pair) for pair in _loaded(credential.headers, [])],
            payload_format=credential.payload_format or "json",
            payload_template=credential.payload_template or "",
        )
        if isinstance(credential, peewee.Model) and credential.get_id() is not None:
            settings.token_cache = CredentialTokenCache(credential)
        return settings

    def to_columns(self) -> dict:
        """The ApiCredential columns these settings fill; only the chosen auth type's fields are kept."""
        kind = AUTH_TYPES.get(self.auth_type, {"fields": (), "secrets": ()})
        plain = {name: self.auth_settings[name] for name in kind["fields"]
                 if name not in kind["secrets"] and self.auth_settings.get(name) not in (None, "")}
        secrets = {name: self.auth_secrets[name] for name in kind["secrets"] if self.auth_secrets.get(name)}
        return {
            "vendor": "custom",
            "name": self.name,
            "name_key": self.name.casefold(),
            "provider_name": self.provider_name,
            "provider_url": self.provider_url,
            "auth_type": self.auth_type,
            "auth_settings": json.dumps(plain, ensure_ascii=False),
            "auth_secrets": json.dumps(secrets, ensure_ascii=False) if secrets else None,
            "headers": json.dumps([[n, v] for n, v in self.headers], ensure_ascii=False),
            "payload_format": self.payload_format,
            "payload_template": self.payload_template,
        }

    def setting(self, name: str) -> str:
        return self.auth_settings.get(name) or DEFAULTS.get(name, "")

    def secret(self, name: str) -> str:
        return self.auth_secrets.get(name) or ""

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.payload_format, CONTENT_TYPES["json"])

    def secret_values(self) -> list[str]:
        """The chosen auth type's secrets, for redact()."""
        kind = AUTH_TYPES.get(self.auth_type, {"secrets": ()})
        return [self.secret(name) for name in kind["secrets"] if self.secret(name)]


def as_settings(credential_like) -> ProviderSettings:
    if isinstance(credential_like, ProviderSettings):
        return credential_like
    return ProviderSettings.from_credential(credential_like)


# --- Payload ----------------------------------------------------------------------------------

@dataclass
class TemplateCheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def placeholder(name: str) -> str:
    return "{{" + name + "}}"


def _line_and_column(text: str, position: int) -> tuple[int, int]:
    return text.count("\n", 0, position) + 1, position - text.rfind("\n", 0, position)


def _json_strings(text: str) -> list[tuple[int, int]]:
    """Each string literal's opening and closing quote offsets. Scanned rather than parsed, so
    that it works on broken JSON too; an unterminated string runs to the end."""
    spans, i, n = [], 0, len(text)
    while i < n:
        if text[i] == '"':
            start, i = i, i + 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            spans.append((start, min(i, n)))
        i += 1
    return spans


def _in_string(spans: list[tuple[int, int]], starts: list[int], match: re.Match) -> bool:
    index = bisect.bisect_right(starts, match.start()) - 1
    return index >= 0 and spans[index][0] < match.start() and match.end() <= spans[index][1]


def _json_template_errors(template: str) -> list[str]:
    spans = _json_strings(template)
    starts = [start for start, _end in spans]
    errors, probe, last = [], [], 0
    for match in PLACEHOLDER.finditer(template):
        probe.append(template[last:match.start()])
        length = match.end() - match.start()
        if _in_string(spans, starts, match):
            probe.append("x" * length)  # same length, so line and column stay the template's
        else:
            line, column = _line_and_column(template, match.start())
            errors.append(_("%(placeholder)s at line %(line)s, column %(column)s is outside a string: put it "
                            "in quotes, like \"%(placeholder)s\".", placeholder=match.group(0), line=line,
                            column=column))
            probe.append("null".ljust(length))
        last = match.end()
    probe.append(template[last:])
    try:
        json.loads("".join(probe))
    except json.JSONDecodeError as error:
        errors.append(_("This is not valid JSON: %(reason)s at line %(line)s, column %(column)s.",
                        reason=error.msg, line=error.lineno, column=error.colno))
    return errors


def _form_pieces(template: str) -> list[tuple[int, str]]:
    """The template's name=value pairs, split on & and line breaks, with where each starts."""
    pieces = []
    for match in re.finditer(r"[^&\n]+", template):
        text = match.group(0).strip()
        if text:
            pieces.append((match.start() + match.group(0).index(text), text))
    return pieces


def _form_template_errors(template: str) -> list[str]:
    errors = []
    for position, piece in _form_pieces(template):
        line, column = _line_and_column(template, position)
        name, equals, _value = piece.partition("=")
        if not equals:
            errors.append(_("“%(piece)s” at line %(line)s, column %(column)s has no =: write each field as "
                            "name=value.", piece=piece, line=line, column=column))
        elif not name.strip():
            errors.append(_("A field at line %(line)s, column %(column)s has no name before =.",
                            line=line, column=column))
        elif PLACEHOLDER.search(name):
            errors.append(_("The field name %(name)s at line %(line)s is a placeholder: placeholders go in "
                            "values, after =.", name=name.strip(), line=line))
    return errors


def _form_fields(template: str) -> dict[str, str]:
    """Field name -> raw value text, first of each name (names decoded)."""
    fields = {}
    for _position, piece in _form_pieces(template):
        name, equals, value = piece.partition("=")
        if equals:
            fields.setdefault(unquote_plus(name.strip()), value)
    return fields


def _stood_in(template: str, payload_format: str) -> set[str]:
    """The required placeholders a Twilio field carries instead (see STAND_INS)."""
    if payload_format != "form":
        return set()
    fields = _form_fields(template)
    return {name for name, field_name in STAND_INS.items() if fields.get(field_name, "").strip()}


def check_template(template: str, payload_format: str) -> TemplateCheck:
    """Errors (the template can't be used) and warnings (it can, but something looks off)."""
    template = template or ""
    size = len(template.encode("utf-8"))
    if size > MAX_PAYLOAD:
        return TemplateCheck([_("A provider payload has at most 64 KB; this one has %(size)s KB.",
                                size=(size + 1023) // 1024)])
    if not template.strip():
        return TemplateCheck([_("Enter the provider payload, with the placeholders {{fromNumber}}, "
                                "{{toNumber}} and {{message}} where the values go.")])
    if payload_format == "json":
        errors = _json_template_errors(template)
    elif payload_format == "form":
        errors = _form_template_errors(template)
    else:
        return TemplateCheck([_("Choose JSON or form-encoded.")])
    used = list(dict.fromkeys(match.group(1) for match in PLACEHOLDER.finditer(template)))
    stood_in = _stood_in(template, payload_format)
    missing = [name for name in REQUIRED_PLACEHOLDERS if name not in used and name not in stood_in]
    if missing:
        errors.append(ngettext("%(placeholders)s is missing: put it where the provider expects that value.",
                               "%(placeholders)s are missing: put each where the provider expects that value.",
                               len(missing), placeholders=", ".join(map(placeholder, missing))))
    unknown = [name for name in used if name not in REQUIRED_PLACEHOLDERS + OPTIONAL_PLACEHOLDERS]
    warnings = [ngettext("%(placeholders)s is not a value the platform fills in: it is sent empty.",
                         "%(placeholders)s are not values the platform fills in: they are sent empty.",
                         len(unknown), placeholders=", ".join(map(placeholder, unknown)))] if unknown else []
    return TemplateCheck(errors, warnings)


def _fill(text: str, values: dict, escape) -> str:
    return PLACEHOLDER.sub(lambda match: escape(str(values.get(match.group(1), ""))), text)


def render_payload(template: str, payload_format: str, values: dict) -> tuple[bytes, str]:
    """The body with each placeholder replaced by its value, escaped for the format, and its
    Content-Type. Placeholders without a value are sent empty. Raises ProviderError for a
    template that check_template refuses, or a body over 64 KB."""
    check = check_template(template, payload_format)
    if check.errors:
        raise ProviderError(_("The provider payload cannot be used: %(problems)s",
                              problems=" ".join(check.errors)))
    if payload_format == "json":
        # Inside a JSON string a value is JSON-escaped: quotes and line breaks can't break out.
        body = _fill(template, values, lambda value: json.dumps(value, ensure_ascii=False)[1:-1])
    else:
        pairs = []
        for _position, piece in _form_pieces(template):
            name, _equals, raw = piece.partition("=")
            # The literal text is form-encoded already; a value goes in as typed, encoded once below.
            value = "".join(unquote_plus(part) if index % 2 == 0 else str(values.get(part, ""))
                            for index, part in enumerate(PLACEHOLDER.split(raw)))
            pairs.append((unquote_plus(name.strip()), value))
        body = urlencode(pairs)
    data = body.encode("utf-8")
    if len(data) > MAX_PAYLOAD:
        raise ProviderError(_("The request body would have %(size)s KB; a provider payload has at most 64 KB.",
                              size=(len(data) + 1023) // 1024))
    return data, CONTENT_TYPES[payload_format]


# --- Headers ----------------------------------------------------------------------------------

def auth_header_names(settings: ProviderSettings) -> set[str]:
    """The headers the auth type sets (lower-case): the admin's rows may not set them too."""
    if settings.auth_type in ("basic", "bearer", "oauth2", "jwt"):
        return {"authorization"}
    if settings.auth_type == "api_key":
        return {settings.setting("api_key_header").lower()}
    if settings.auth_type == "hmac":
        return {settings.setting("hmac_header").lower(), HMAC_TIMESTAMP_HEADER.lower()}
    return set()


def check_header_name(name: str) -> str | None:
    if "\r" in name or "\n" in name:
        return _("A header name cannot contain a line break (CR or LF).")
    if len(name) > MAX_HEADER_NAME:
        return _("A header name has at most %(count)s characters.", count=MAX_HEADER_NAME)
    if not HEADER_NAME.fullmatch(name):
        return _("A header name has only letters, digits and %(symbols)s, with no spaces or colons, "
                 "e.g. X-Request-Id.", symbols="! # $ % & ' * + - . ^ _ ` | ~")
    return None


def check_auth_header_name(name: str, auth_type: str) -> str | None:
    """Why the API key's or signature's header can't have this name, or None."""
    problem = check_header_name(name)
    if problem is None and (name.lower() in COMPUTED_HEADERS | {"content-type"}
                            or (auth_type == "hmac" and name.lower() == HMAC_TIMESTAMP_HEADER.lower())):
        problem = _("%(name)s is already set by the request; name another header.", name=name)
    return problem


def check_headers(rows, reserved=()) -> list[dict[str, str]]:
    """For each [name, value] row, its problems by field ("name", "value"); {} when it is fine.
    A row with neither name nor value is fine: it is dropped. `reserved` are the header names
    the auth type sets (auth_header_names)."""
    reserved = {name.lower() for name in reserved}
    seen, problems = set(), []
    for name, value in rows:
        name, value, found = (name or "").strip(), (value or "").strip(), {}
        if name or value:
            key = name.lower()
            if not name:
                found["name"] = _("Enter the header's name, or remove the row.")
            elif (problem := check_header_name(name)) is not None:
                found["name"] = problem
            elif key == "content-type":
                found["name"] = _("Content-Type is set from the payload format, with its charset; it is always "
                                  "sent and cannot be set here.")
            elif key in COMPUTED_HEADERS:
                found["name"] = _("%(name)s is set for each request when it is sent.", name=name)
            elif key in reserved:
                found["name"] = _("%(name)s is set by the auth type.", name=name)
            elif key in seen:
                found["name"] = _("%(name)s is already in another row: each header is sent once.", name=name)
            seen.add(key)
            if "\r" in value or "\n" in value:
                found["value"] = _("A header value cannot contain a line break (CR or LF).")
            elif len(value) > MAX_HEADER_VALUE:
                found["value"] = _("A header value has at most 8 KB.")
            elif not HEADER_VALUE.fullmatch(value):
                found["value"] = _("A header value has only printable ASCII characters and spaces.")
        problems.append(found)
    return problems


def header_rows(settings: ProviderSettings) -> list[tuple[str, str]]:
    """The headers as the form lists them: the fixed Content-Type first, then the admin's rows."""
    return [("Content-Type", settings.content_type)] + [
        (name.strip(), value.strip()) for name, value in settings.headers if (name or "").strip()]


# --- URLs -------------------------------------------------------------------------------------

def _forbidden_kind(address) -> str | None:
    if getattr(address, "ipv4_mapped", None) is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return _("the cloud metadata address")
    if address.is_loopback:
        return _("a loopback address")
    if address.is_link_local:
        return _("a link-local address")
    if address.is_unspecified:
        return _("an unspecified address")
    if address.is_private:
        return _("a private address")
    if address.is_multicast:
        return _("a multicast address")
    if address.is_reserved or not address.is_global:
        return _("a reserved address")
    return None


def check_url(url: str, allow_private: bool) -> str | None:
    """Why a provider or token URL can't be used, or None. Without allow_private its host must
    resolve only to public addresses: requests carry secrets and their answers are shown."""
    url = (url or "").strip()
    if not url:
        return _("Enter the URL, e.g. https://api.example.com/messages.")
    if len(url) > 2048:
        return _("A URL has at most 2048 characters.")
    if re.search(r"[\s\x00-\x1f\x7f]", url):
        return _("A URL cannot contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("This is not a URL: write it like https://api.example.com/messages.")
    if parts.scheme.lower() != "https":
        return _("Use an https:// URL: the request carries secrets that only TLS keeps private.")
    if not parts.hostname:
        return _("The URL has no host name: write it like https://api.example.com/messages.")
    if parts.username is not None or parts.password is not None:
        return _("Leave the user name and password out of the URL: choose the Basic auth type for them.")
    if allow_private or _practice_transport() is not None:
        return None  # a practice sandbox looks up no name: only the Twilio simulator answers it
    host = parts.hostname
    try:
        found = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        return _("The host name %(host)s could not be resolved: %(reason)s.", host=host, reason=reason)
    for *_info, address in found:
        ip = ipaddress.ip_address(address[0].split("%")[0])
        kind = _forbidden_kind(ip)
        if kind and host.strip("[]") == address[0]:
            return _("%(address)s is %(kind)s. A provider URL must reach the public internet (an operator can allow "
                     "private addresses with ALLOW_PRIVATE_PROVIDER_URLS=1).", address=address[0], kind=kind)
        if kind:
            return _("%(host)s resolves to %(address)s, %(kind)s. A provider URL must reach the public internet "
                     "(an operator can allow private addresses with ALLOW_PRIVATE_PROVIDER_URLS=1).",
                     host=host, address=str(ip), kind=kind)
    return None


def _practice_transport():
    """In a practice sandbox, what answers instead of the network (wizard.practice); else None."""
    if not has_request_context():
        return None
    from wizard.practice import provider_transport  # here: practice builds on this module

    return provider_transport()


def _allow_private(allow_private: bool | None) -> bool:
    if allow_private is not None:
        return allow_private
    return bool(has_app_context() and current_app.config.get("ALLOW_PRIVATE_PROVIDER_URLS"))


# --- Auth checks ------------------------------------------------------------------------------

def client_certificate_problem(cert_pem: str, key_pem: str) -> tuple[str, str] | None:
    """What is wrong with a client certificate and its private key (PEM), and in which of the
    two fields ("client_certificate" or "client_key"); None when they can be used together."""
    try:
        certificate = x509.load_pem_x509_certificates((cert_pem or "").strip().encode())[0]
    except (ValueError, IndexError):
        return "client_certificate", _("The client certificate is not a PEM certificate: paste the text from "
                                       "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.")
    try:
        key = serialization.load_pem_private_key((key_pem or "").strip().encode(), password=None)
    except TypeError:
        return "client_key", _("The private key is encrypted: paste it without a passphrase.")
    except (ValueError, UnsupportedAlgorithm):
        return "client_key", _("The private key is not a PEM private key: paste the text from "
                               "-----BEGIN ... PRIVATE KEY----- to -----END ... PRIVATE KEY-----.")
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        return "client_key", _("This private key does not belong to the client certificate: paste the key the "
                               "certificate was issued for.")
    now = datetime.datetime.now(datetime.timezone.utc)
    if certificate.not_valid_after_utc < now:
        return "client_certificate", _("The client certificate expired on %(date)s.",
                                       date=certificate.not_valid_after_utc.date().isoformat())
    if certificate.not_valid_before_utc > now:
        return "client_certificate", _("The client certificate is valid only from %(date)s.",
                                       date=certificate.not_valid_before_utc.date().isoformat())
    return None


def check_client_certificate(cert_pem: str, key_pem: str) -> str | None:
    """Why a client certificate and its private key (PEM) can't be used together, or None."""
    problem = client_certificate_problem(cert_pem, key_pem)
    return problem[1] if problem else None


def check_jwt_claims(text: str) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text.encode("utf-8")) > MAX_HEADER_VALUE:
        return _("The claims have at most 8 KB.")
    try:
        claims = json.loads(text)
    except json.JSONDecodeError as error:
        return _("This is not valid JSON: %(reason)s at line %(line)s, column %(column)s.",
                 reason=error.msg, line=error.lineno, column=error.colno)
    if not isinstance(claims, dict):
        return _("The claims are a JSON object: they start with { and end with }.")
    return None


def check_jwt_secret(secret: str) -> str | None:
    if len(secret.encode("utf-8")) < JWT_MIN_SECRET:
        return _("An HS256 secret has at least 32 bytes (RFC 7518); this one has %(count)s.",
                 count=len(secret.encode("utf-8")))
    return None


# --- The request ------------------------------------------------------------------------------

@dataclass
class Prepared:
    """One request, ready to send."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    secret_headers: frozenset = frozenset()  # lower-case names whose values redact() hides
    client_certificate: tuple[str, str] | None = field(default=None, repr=False)  # (cert PEM, key PEM)


def _required(settings: ProviderSettings, name: str, secret: bool = False) -> str:
    value = settings.secret(name) if secret else settings.setting(name)
    if not value:
        raise ProviderError(_("%(field)s is missing for the auth type %(auth_type)s.", field=FIELD_LABELS[name],
                              auth_type=AUTH_TYPES[settings.auth_type]["label"]))
    return value


def _authentication(settings: ProviderSettings, body: bytes, access_token: str | None):
    """The headers (and client certificate) the auth type adds to a request with this body."""
    auth_type = settings.auth_type
    for name in ("api_key_header", "hmac_header"):
        if name in AUTH_TYPES.get(auth_type, {"fields": ()})["fields"]:
            problem = check_auth_header_name(_required(settings, name), auth_type)
            if problem:
                raise ProviderError(problem)
    if auth_type == "api_key":
        return [(_required(settings, "api_key_header"), _required(settings, "api_key", True))], None
    if auth_type == "basic":
        # RFC 7617: user-id and password in UTF-8, then base64.
        pair = f"{_required(settings, 'basic_username')}:{_required(settings, 'basic_password', True)}"
        return [("Authorization", "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii"))], None
    if auth_type == "bearer":
        return [("Authorization", "Bearer " + _required(settings, "bearer_token", True))], None
    if auth_type == "oauth2":
        return [("Authorization", "Bearer " + (access_token or _("(the token URL's access token)")))], None
    if auth_type == "hmac":
        digest = HMAC_ALGORITHMS.get(settings.setting("hmac_algorithm"))
        if digest is None:
            raise ProviderError(_("Choose SHA-256 or SHA-512 as the hash algorithm."))
        timestamp = str(int(time.time()))
        signed = timestamp.encode("ascii") + b"." + body
        signature = hmac.new(_required(settings, "hmac_secret", True).encode("utf-8"), signed, digest).hexdigest()
        return [(HMAC_TIMESTAMP_HEADER, timestamp), (_required(settings, "hmac_header"), signature)], None
    if auth_type == "jwt":
        problem = check_jwt_claims(settings.setting("jwt_claims"))
        if problem:
            raise ProviderError(problem)
        now = int(time.time())
        claims = {**json.loads(settings.setting("jwt_claims") or "{}"),
                  "iat": now, "exp": now + int(JWT_LIFETIME.total_seconds())}
        token = jwt.encode(claims, _required(settings, "jwt_secret", True), algorithm="HS256")
        return [("Authorization", "Bearer " + token)], None
    if auth_type == "none":
        pair = (_required(settings, "client_certificate"), _required(settings, "client_key", True))
        problem = check_client_certificate(*pair)
        if problem:
            raise ProviderError(problem)
        return [], pair
    raise ProviderError(_("Choose an auth type."))


def prepare(credential_like, to_number: str, from_number: str, message: str, extra: dict | None = None, *,
            access_token: str | None = None) -> Prepared:
    """The request a send makes, built without any network call. For OAuth 2.0, send() passes the
    access token; a preview without it shows where the token goes."""
    settings = as_settings(credential_like)
    values = {"contentVariables": json.dumps({"1": message}, ensure_ascii=False), **(extra or {}),
              "toNumber": to_number, "fromNumber": from_number, "message": message}
    body, content_type = render_payload(settings.payload_template, settings.payload_format, values)
    for problems in check_headers(settings.headers, auth_header_names(settings)):
        if problems:
            raise ProviderError(_("The headers cannot be used: %(problem)s", problem=next(iter(problems.values()))))
    added, certificate = _authentication(settings, body, access_token)
    headers = [("Content-Type", content_type), *header_rows(settings)[1:], *added]
    named = {name.lower() for name, _value in headers}
    headers += [header for header in DEFAULT_HEADERS if header[0].lower() not in named]
    hidden = {name.lower() for name, _value in added} - {HMAC_TIMESTAMP_HEADER.lower()}
    return Prepared("POST", settings.provider_url.strip(), headers, body, frozenset(hidden), certificate)


def _spellings(secret: str) -> set[str]:
    """A secret as it may appear in a request: as typed, form-encoded, JSON-escaped."""
    return {secret, quote_plus(secret), quote(secret, safe=""), json.dumps(secret, ensure_ascii=False)[1:-1],
            json.dumps(secret)[1:-1]}


def redact(prepared: Prepared, secrets=()) -> str:
    """The request as HTTP text, with the auth headers' values and every secret hidden."""
    if isinstance(secrets, dict):
        secrets = secrets.values()
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
    hidden = {spelling for secret in secrets if secret for spelling in _spellings(str(secret))}
    for spelling in sorted(hidden, key=len, reverse=True):
        text = text.replace(spelling, REDACTED)
    return text


@dataclass
class ProviderAnswer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: str  # at most 8 KB of it
    truncated: bool
    elapsed_ms: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@contextmanager
def _client_certificate_files(pair):
    """The certificate and key in files only this process can read, deleted right after."""
    if pair is None:
        yield None
        return
    paths = []
    try:
        for pem in pair:
            descriptor, path = tempfile.mkstemp(suffix=".pem")  # mode 0600
            paths.append(path)
            with os.fdopen(descriptor, "w") as file:
                file.write(pem.strip() + "\n")
        yield tuple(paths)
    finally:
        for path in paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def _cause(error: BaseException) -> BaseException:
    """The innermost error under requests' and urllib3's wrappers."""
    for _depth in range(10):
        inner = getattr(error, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in error.args if isinstance(arg, BaseException)), error.__cause__)
        if inner is None:
            break
        error = inner
    return error


def _problem(error: Exception, url: str, timeout: float, certificate_presented: bool) -> str:
    host = urlsplit(url).hostname or url
    if isinstance(error, (requests.exceptions.Timeout, urllib3.exceptions.ReadTimeoutError)):
        return _("%(host)s did not answer within %(seconds)s seconds.", host=host, seconds=f"{timeout:g}")
    cause = _cause(error)
    reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
    reason = re.sub(r"\s*\(_ssl\.c:\d+\)", "", reason) or type(cause).__name__  # OpenSSL's source line
    if isinstance(error, requests.exceptions.SSLError) or isinstance(cause, ssl.SSLError):
        if not certificate_presented and "verify failed" not in reason:
            # A server that wants a client certificate hangs up on one that has none.
            return _("The TLS connection to %(host)s failed: %(reason)s. If the provider requires a client "
                     "certificate, choose the auth type None (mutual TLS) and paste it with its key.",
                     host=host, reason=reason)
        return _("The TLS connection to %(host)s failed: %(reason)s", host=host, reason=reason)
    return _("%(host)s could not be reached: %(reason)s", host=host, reason=reason)


def _exchange(method: str, url: str, headers: list[tuple[str, str]], body: bytes, timeout: float,
              certificate=None, adapter=None) -> tuple[requests.Response, bytes, int]:
    """One HTTP exchange: no redirects followed, at most MAX_ANSWER + 1 bytes of the answer read.
    An adapter (practice: the Twilio simulator) answers instead of the network."""
    started = time.monotonic()
    with _client_certificate_files(certificate) as cert_files, requests.Session() as session:
        session.headers.clear()  # what the preview shows is what goes out
        if adapter is not None:
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        try:
            response = session.request(method, url, data=body, headers=dict(headers), timeout=timeout,
                                       allow_redirects=False, stream=True, cert=cert_files)
            with response:
                content = response.raw.read(MAX_ANSWER + 1, decode_content=True)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            raise ProviderError(_problem(error, url, timeout, certificate is not None)) from None
    return response, content, int((time.monotonic() - started) * 1000)


def _text(response: requests.Response, content: bytes) -> str:
    """The answer as text: in the charset it names, else UTF-8 (what JSON APIs send)."""
    named = re.search(r"charset=[\"']?([\w.:-]+)", response.headers.get("Content-Type", ""), re.IGNORECASE)
    try:
        return content[:MAX_ANSWER].decode(named.group(1) if named else "utf-8", "replace")
    except LookupError:
        return content[:MAX_ANSWER].decode("utf-8", "replace")


def _oauth_fingerprint(settings: ProviderSettings) -> str:
    fields = [settings.setting("oauth_token_url"), settings.setting("oauth_client_id"),
              settings.setting("oauth_scope"), settings.secret("oauth_client_secret")]
    return hashlib.sha256(json.dumps(fields).encode("utf-8")).hexdigest()


def fetch_access_token(credential_like, *, timeout: float = TIMEOUT, allow_private: bool | None = None,
                       adapter=None) -> str:
    """An OAuth 2.0 client-credentials access token: the cached one while it is valid, else a new one."""
    settings = as_settings(credential_like)
    fingerprint = _oauth_fingerprint(settings)
    cached = settings.token_cache.load(fingerprint, utcnow())
    if cached:
        return cached
    token_url = _required(settings, "oauth_token_url")
    problem = check_url(token_url, _allow_private(allow_private))
    if problem:
        raise ProviderError(_("Token URL: %(problem)s", problem=problem))
    form = {"grant_type": "client_credentials"}
    if settings.setting("oauth_scope"):
        form["scope"] = settings.setting("oauth_scope")
    # RFC 6749 section 2.3.1: the client id and secret are form-encoded, then sent as HTTP Basic.
    pair = (f"{quote_plus(_required(settings, 'oauth_client_id'))}:"
            f"{quote_plus(_required(settings, 'oauth_client_secret', True))}")
    headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
               ("Authorization", "Basic " + base64.b64encode(pair.encode("ascii")).decode("ascii"))]
    response, content, _elapsed = _exchange("POST", token_url.strip(), headers, urlencode(form).encode("ascii"),
                                            timeout, adapter=adapter)
    text = _text(response, content)
    if response.status_code != 200:
        raise ProviderError(_("The token endpoint answered %(status)s %(reason)s: %(body)s",
                              status=response.status_code, reason=response.reason or "", body=text))
    try:
        answer = json.loads(text)
        token = answer["access_token"]
        expires_in = int(answer.get("expires_in") or 0)
    except (ValueError, TypeError, KeyError):
        raise ProviderError(_("The token endpoint's answer has no access_token: %(body)s", body=text)) from None
    if not isinstance(token, str) or not token:
        raise ProviderError(_("The token endpoint's answer has no access_token: %(body)s", body=text))
    if str(answer.get("token_type") or "bearer").lower() != "bearer":
        raise ProviderError(_("The token endpoint gave a token of type %(type)s; only Bearer tokens can be sent.",
                              type=answer.get("token_type")))
    lifetime = datetime.timedelta(seconds=expires_in) - OAUTH_MARGIN
    if lifetime.total_seconds() > 0:
        settings.token_cache.store(fingerprint, token, utcnow() + lifetime)
    return token


def _twilio_origin(url: str, twilio_base_url: str | None) -> tuple[str, dict]:
    """TWILIO_BASE_URL sends every Twilio REST request to a local stand-in (tests, practice),
    the path kept and the Twilio host named in the Host header, as wizard.twilio_api does."""
    target = urlsplit(url)
    host = (target.hostname or "").lower()
    if not twilio_base_url or not (host == "twilio.com" or host.endswith(".twilio.com")):
        return url, {}
    base = urlsplit(twilio_base_url)
    return target._replace(scheme=base.scheme, netloc=base.netloc).geturl(), {"Host": target.netloc}


def send(credential_like, to: str, from_: str, message: str, extra: dict | None = None, *,
         timeout: float = TIMEOUT, allow_private: bool | None = None,
         twilio_base_url: str | None = None) -> ProviderAnswer:
    """Send one message through the provider and return its answer, whatever its status.
    allow_private and twilio_base_url default to the app's settings."""
    settings = as_settings(credential_like)
    allow_private = _allow_private(allow_private)
    if twilio_base_url is None and has_app_context():
        twilio_base_url = current_app.config.get("TWILIO_BASE_URL") or None
    adapter = None
    transport = _practice_transport()
    if transport is not None:  # a practice sandbox: the Twilio simulator answers, nothing else is reached
        if problem := transport.refusal(settings):
            raise ProviderError(problem)
        adapter, allow_private, twilio_base_url = transport.adapter, True, None  # no name is looked up
    # Checked when sending, not only when saved: DNS may point elsewhere by now.
    problem = check_url(settings.provider_url, allow_private)
    access_token = None
    if problem is None and settings.auth_type == "oauth2":
        access_token = fetch_access_token(settings, timeout=timeout, allow_private=allow_private, adapter=adapter)
        problem = check_url(settings.provider_url, allow_private)  # again: fetching the token took a while
    if problem:
        raise ProviderError(problem)
    prepared = prepare(settings, to, from_, message, extra, access_token=access_token)
    url, host = _twilio_origin(prepared.url, twilio_base_url)
    response, content, elapsed = _exchange(prepared.method, url, [*prepared.headers, *host.items()],
                                           prepared.body, timeout, prepared.client_certificate, adapter)
    return ProviderAnswer(response.status_code, response.reason or "", list(response.raw.headers.items()),
                          _text(response, content), len(content) > MAX_ANSWER, elapsed)


# --- Twilio RCS preset ------------------------------------------------------------------------

TWILIO_MESSAGES_URL = "https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages.json"


def twilio_rcs_preset(account_sid: str, auth_token: str, messaging_service_sid: str,
                      content_sid: str | None = None) -> ProviderSettings:
    """Twilio's Messages endpoint for RCS: the Messaging Service tries the RCS sender in its pool
    first and falls back to SMS. With a Content Template the message is its variable 1 (Twilio
    refuses Body together with ContentVariables)."""
    fields = [("To", "{{toNumber}}"), ("MessagingServiceSid", messaging_service_sid)]
    if content_sid:
        fields += [("ContentSid", content_sid), ("ContentVariables", "{{contentVariables}}")]
    else:
        fields.append(("Body", "{{message}}"))
    return ProviderSettings(
        provider_name="Twilio",
        provider_url=TWILIO_MESSAGES_URL.format(account_sid=account_sid),
        auth_type="basic",
        auth_settings={"basic_username": account_sid},
        auth_secrets={"basic_password": auth_token},
        headers=[],
        payload_format="form",
        payload_template="&".join(f"{name}={value}" for name, value in fields),
    )
