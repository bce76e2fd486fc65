"""HMAC signature: the Unix time in X-Timestamp, and in a header the admin names the hex HMAC of
the timestamp, a dot and the body."""
import hashlib
import hmac
import time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField
from wtforms.fields.choices import SelectChoice

from wizard.providers.custom.auth.base import (
    Authentication,
    AuthField,
    AuthType,
    header_field,
    header_field_problem,
)
from wizard.providers.custom.errors import ProviderError

HMAC_ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


HMAC_ALGORITHM_LABELS = {"sha256": "SHA-256", "sha512": "SHA-512"}


HMAC_TIMESTAMP_HEADER = "X-Timestamp"


HMAC_HELP = _l("Each request carries the Unix time in seconds in the X-Timestamp header, and in the signature "
               "header the hex HMAC of the timestamp, a dot and the body (timestamp.body).")


CHOOSE_ALGORITHM = _l("Choose SHA-256 or SHA-512.")


def authenticate(settings, body: bytes, access_token: str | None) -> Authentication:
    header_field(HMAC, settings, "hmac_header", (HMAC_TIMESTAMP_HEADER,))
    digest = HMAC_ALGORITHMS.get(settings.setting("hmac_algorithm"))
    if digest is None:
        raise ProviderError(_("Choose SHA-256 or SHA-512 as the hash algorithm."))
    timestamp = str(int(time.time()))
    signed = timestamp.encode("ascii") + b"." + body
    signature = hmac.new(HMAC.required(settings, "hmac_secret").encode("utf-8"), signed, digest).hexdigest()
    return Authentication([(HMAC_TIMESTAMP_HEADER, timestamp), (HMAC.required(settings, "hmac_header"), signature)],
                          public_headers=frozenset({HMAC_TIMESTAMP_HEADER.lower()}))


def header_names(settings) -> set[str]:
    return {settings.setting("hmac_header").lower(), HMAC_TIMESTAMP_HEADER.lower()}


def checks(typed) -> dict[str, str]:
    found = header_field_problem(typed, "hmac_header", (HMAC_TIMESTAMP_HEADER,))
    if typed["hmac_algorithm"] not in HMAC_ALGORITHM_LABELS:
        found["hmac_algorithm"] = CHOOSE_ALGORITHM
    return found


HMAC = AuthType(
    name="hmac",
    label=_l("HMAC signature"),
    inputs=(
        AuthField("hmac_secret", _l("HMAC secret"), PasswordField, secret=True, filters=(),
                  required=_l("Enter the HMAC secret.")),
        AuthField("hmac_header", _l("Signature header"), default="X-Signature", help=HMAC_HELP,
                  required=_l("Enter the name of the header that carries the signature, e.g. X-Signature.")),
        AuthField("hmac_algorithm", _l("Hash algorithm"), SelectField, default="sha256", filters=(),
                  required=CHOOSE_ALGORITHM,
                  options={"choices": [SelectChoice(key, label) for key, label in HMAC_ALGORITHM_LABELS.items()],
                           "validate_choice": False}),
    ),
    authenticate=authenticate,
    header_names=header_names,
    checks=checks,
)
