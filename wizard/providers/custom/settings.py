"""Custom provider API credentials: the one HTTP request a credential describes, and every
check on what the admin types for it.

A custom credential (vendor "custom"; RCS through Twilio is one) is a POST to the provider's
URL with an auth type, extra headers and a payload template holding placeholders such as
{{toNumber}}. The RCS flow works on drafts that are not saved yet, so everything here takes
a ProviderSettings, made from a saved row (ProviderSettings.from_credential) or from a form.

    check_template / check_headers / check_url;  each auth type's checks: wizard.providers.custom.auth
    prepare(...) -> Prepared;  redact(prepared, secrets) -> text;  send(...) -> ProviderAnswer"""
import datetime
import json
from dataclasses import dataclass, field
from typing import Protocol

import peewee
from flask_babel import lazy_gettext as _l

from wizard.providers.custom.auth import AUTH_TYPES, DEFAULTS
from wizard.providers.custom.errors import ProviderError as ProviderError  # re-exported

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
        kind = AUTH_TYPES.get(self.auth_type)
        fields, secret_fields = (kind.fields, kind.secrets) if kind else ((), ())
        plain = {name: self.auth_settings[name] for name in fields
                 if name not in secret_fields and self.auth_settings.get(name) not in (None, "")}
        secrets = {name: self.auth_secrets[name] for name in secret_fields if self.auth_secrets.get(name)}
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
        kind = AUTH_TYPES.get(self.auth_type)
        return [self.secret(name) for name in (kind.secrets if kind else ()) if self.secret(name)]


def as_settings(credential_like) -> ProviderSettings:
    if isinstance(credential_like, ProviderSettings):
        return credential_like
    return ProviderSettings.from_credential(credential_like)
