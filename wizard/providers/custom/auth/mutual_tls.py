"""None (mutual TLS): no header; the request is made with a client certificate and its private key."""
import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField

from wizard.providers.custom.auth.base import Authentication, AuthField, AuthType
from wizard.providers.custom.errors import ProviderError
from wizard.shell.fields import SecretTextAreaField, one_kind_of_newline, strip


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


def authenticate(settings, body: bytes, access_token: str | None) -> Authentication:
    pair = (MUTUAL_TLS.required(settings, "client_certificate"), MUTUAL_TLS.required(settings, "client_key"))
    problem = check_client_certificate(*pair)
    if problem:
        raise ProviderError(problem)
    return Authentication(client_certificate=pair)


def checks(typed) -> dict[str, str]:
    key = typed.secret("client_key")
    if typed["client_certificate"] and key:
        problem = client_certificate_problem(typed["client_certificate"], key)
        if problem:
            return {problem[0]: problem[1]}
    return {}


MUTUAL_TLS = AuthType(
    name="none",
    label=_l("None (mutual TLS)"),
    inputs=(
        AuthField("client_certificate", _l("Client certificate (PEM)"), TextAreaField,
                  filters=(one_kind_of_newline, strip), required=_l("Paste the client certificate (PEM).")),
        AuthField("client_key", _l("Private key (PEM)"), SecretTextAreaField, secret=True,
                  filters=(one_kind_of_newline, strip),
                  required=_l("Paste the client certificate's private key (PEM)."),
                  help=_l("Unencrypted, from -----BEGIN ... PRIVATE KEY----- to -----END ... PRIVATE KEY-----.")),
    ),
    authenticate=authenticate,
    checks=checks,
)
