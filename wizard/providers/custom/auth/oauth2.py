"""OAuth 2.0 client credentials (RFC 6749 section 4.4): send() fetches an access token from the token
URL (wizard.providers.custom.http.fetch_access_token, cached while it is valid) and the request
carries it as a Bearer token."""
import datetime
import hashlib
import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField

from wizard.providers.custom.auth.base import Authentication, AuthField, AuthType
from wizard.providers.custom.urls import check_url

OAUTH_MARGIN = datetime.timedelta(seconds=60)  # a cached token is renewed this long before it expires


def authenticate(settings, body: bytes, access_token: str | None) -> Authentication:
    return Authentication([("Authorization", "Bearer " + (access_token or _("(the token URL's access token)")))])


def header_names(settings) -> set[str]:
    return {"authorization"}


def checks(typed) -> dict[str, str]:
    problem = check_url(typed["oauth_token_url"], typed.allow_private()) if typed["oauth_token_url"] else None
    return {"oauth_token_url": problem} if problem else {}


def token_fingerprint(settings) -> str:
    """What a cached token was fetched with: an edit of any of it makes the token stale."""
    fields = [settings.setting("oauth_token_url"), settings.setting("oauth_client_id"),
              settings.setting("oauth_scope"), settings.secret("oauth_client_secret")]
    return hashlib.sha256(json.dumps(fields).encode("utf-8")).hexdigest()


OAUTH2 = AuthType(
    name="oauth2",
    label=_l("OAuth 2.0 client credentials"),
    inputs=(
        AuthField("oauth_token_url", _l("Token URL"),
                  required=_l("Enter the token URL, e.g. https://auth.example.com/oauth/token.")),
        AuthField("oauth_client_id", _l("Client ID"), required=_l("Enter the client ID.")),
        # Sent to the token URL; the access token it buys goes to the provider URL.
        AuthField("oauth_client_secret", _l("Client secret"), PasswordField, secret=True,
                  required=_l("Enter the client secret."), sent_to=("oauth_token_url", "provider_url")),
        AuthField("oauth_scope", _l("Scope"), help=_l("Optional; several scopes are separated by spaces.")),
    ),
    authenticate=authenticate,
    header_names=header_names,
    checks=checks,
    uses_access_token=True,
)
