"""Custom provider API credentials: the one HTTP request a credential describes, and every
check on what the admin types for it.

A custom credential (vendor "custom"; RCS through Twilio is one) is a POST to the provider's
URL with an auth type, extra headers and a payload template holding placeholders such as
{{toNumber}}. The RCS flow works on drafts that are not saved yet, so everything here takes
a ProviderSettings, made from a saved row (ProviderSettings.from_credential) or from a form.

    check_template / check_headers / check_url / check_client_certificate / check_jwt_claims
    prepare(...) -> Prepared;  redact(prepared, secrets) -> text;  send(...) -> ProviderAnswer"""
import datetime
import hashlib
import json
from dataclasses import dataclass, field
from typing import Protocol

import peewee
from flask_babel import lazy_gettext as _l

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


class ProviderError(Exception):
    """The request could not be made or got no answer; .message says why, without secrets."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


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
