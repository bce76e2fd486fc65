"""JWT (HS256): the admin's claims plus iat and exp, signed with a shared secret, sent as a Bearer token."""
import datetime
import json
import time

import jwt
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, TextAreaField

from wizard.core import json_text
from wizard.providers.custom.auth.base import Authentication, AuthField, AuthType
from wizard.providers.custom.errors import ProviderError
from wizard.providers.custom.headers import MAX_HEADER_VALUE
from wizard.shell.fields import one_kind_of_newline, strip

JWT_LIFETIME = datetime.timedelta(minutes=5)


JWT_MIN_SECRET = 32  # bytes: RFC 7518 section 3.2 wants an HS256 key at least as long as the hash


def check_jwt_claims(text: str) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    if len(text.encode("utf-8")) > MAX_HEADER_VALUE:
        return _("The claims have at most 8 KB.")
    try:
        claims = json_text.loads(text)
    except json.JSONDecodeError as error:
        return json_text.problem(error)
    if not isinstance(claims, dict):
        return _("The claims are a JSON object: they start with { and end with }.")
    return None


def check_jwt_secret(secret: str) -> str | None:
    if len(secret.encode("utf-8")) < JWT_MIN_SECRET:
        return _("An HS256 secret has at least 32 bytes (RFC 7518); this one has %(count)s.",
                 count=len(secret.encode("utf-8")))
    return None


def authenticate(settings, body: bytes, access_token: str | None) -> Authentication:
    problem = check_jwt_claims(settings.setting("jwt_claims"))
    if problem:
        raise ProviderError(problem)
    now = int(time.time())
    claims = {**json_text.loads(settings.setting("jwt_claims") or "{}"),
              "iat": now, "exp": now + int(JWT_LIFETIME.total_seconds())}
    token = jwt.encode(claims, JWT.required(settings, "jwt_secret"), algorithm="HS256")
    return Authentication([("Authorization", "Bearer " + token)])


def header_names(settings) -> set[str]:
    return {"authorization"}


def checks(typed) -> dict[str, str]:
    found = {}
    if typed["jwt_secret"] and (problem := check_jwt_secret(typed["jwt_secret"])):
        found["jwt_secret"] = problem
    if problem := check_jwt_claims(typed["jwt_claims"]):
        found["jwt_claims"] = problem
    return found


JWT = AuthType(
    name="jwt",
    label=_l("JWT (HS256)"),
    inputs=(
        AuthField("jwt_secret", _l("JWT secret"), PasswordField, secret=True, filters=(),
                  required=_l("Enter the JWT secret.")),
        AuthField("jwt_claims", _l("Claims (JSON)"), TextAreaField, default="{}", filters=(one_kind_of_newline, strip),
                  help=_l("A JSON object, e.g. {\"iss\": \"acme\"}. Each request adds iat (now) and exp (in 5 "
                          "minutes) and is signed with HS256; the token is sent as a Bearer token.")),
    ),
    authenticate=authenticate,
    header_names=header_names,
    checks=checks,
)
