"""The auth types of a custom provider: the headers (or client certificate) each adds to a request,
and the checks on what the admin types for them."""
import base64
import datetime
import hmac
import json
import time

import jwt
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from flask_babel import gettext as _

from wizard.providers.custom.headers import MAX_HEADER_VALUE, check_auth_header_name
from wizard.providers.custom.settings import (
    AUTH_TYPES,
    FIELD_LABELS,
    HMAC_ALGORITHMS,
    HMAC_TIMESTAMP_HEADER,
    JWT_LIFETIME,
    JWT_MIN_SECRET,
    ProviderError,
    ProviderSettings,
)


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
    now = datetime.datetime.now(datetime.UTC)
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
