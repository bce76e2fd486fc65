"""What a provider echoes back never shows a value the request carried because of a secret
(issue 11, item 9): the OAuth client's base64 pair sent to the token URL, the access token it
bought, a JWT signed with the secret and its signature, whatever the answer is cut at. Neither on
the page nor in the stored verification_error. The providers are local endpoints on 127.0.0.1."""
import base64
import html
import json
from urllib.parse import quote_plus

import jwt

from tests.support.custom_provider import make_custom
from tests.support.html import text
from tests.support.provider_endpoints import Answer, oauth_token_route
from tests.support.queries import stored
from wizard.providers.custom.settings import MAX_ANSWER, REDACTED

CLIENT_ID, CLIENT_SECRET = "client id/1", "cs-9a8b7c6d5e4f3a2b1c0d"
JWT_SECRET = "jwt-secret-0123456789abcdef0123456789abcdef"
PAIR = base64.b64encode(f"{quote_plus(CLIENT_ID)}:{quote_plus(CLIENT_SECRET)}".encode()).decode()


def echo(status: int):
    """An endpoint that answers with every header it got, in its body and in its own headers."""
    def answer(request) -> Answer:
        got = dict(request.headers)
        return Answer(status, json.dumps({"got": got}).encode(),
                      [("Content-Type", "application/json"),
                       *((f"X-Echo-{name}", value) for name, value in got.items() if name.lower() == "authorization")])
    return answer


def send_test(client, credential) -> str:
    client.get(f"/credentials/{credential}/test")
    response = client.post(f"/credentials/{credential}/test", {"number": "+14155550123", "message": "Hi"})
    return html.unescape(text(response))


def oauth_credential(app, endpoint) -> int:
    return make_custom(app, endpoint, name="OAuth provider", auth_type="oauth2", auth_settings={
        "oauth_token_url": endpoint.url("/oauth/token"), "oauth_client_id": CLIENT_ID},
        auth_secrets={"oauth_client_secret": CLIENT_SECRET}, headers=[])


def test_a_token_endpoint_echoing_the_client_pair_is_shown_redacted(signed_in, app, provider_endpoint):
    provider_endpoint.route("/oauth/token", echo(401))
    credential = oauth_credential(app, provider_endpoint)
    page = send_test(signed_in, credential)
    assert provider_endpoint.requests_to("/oauth/token")[0].header("Authorization") == f"Basic {PAIR}"
    assert "The token endpoint answered 401 Unauthorized" in page
    assert f'"Authorization": "{REDACTED}"' in page
    error = stored(app, credential).verification_error
    assert error.startswith("The token endpoint answered 401 Unauthorized") and REDACTED in error
    for shown in (page, error):
        assert PAIR not in shown and CLIENT_SECRET not in shown


def test_a_provider_echoing_the_access_token_is_shown_redacted(signed_in, app, provider_endpoint):
    provider_endpoint.route("/oauth/token", oauth_token_route(expires_in=3600))
    provider_endpoint.route("/send", echo(400))
    credential = oauth_credential(app, provider_endpoint)
    page = send_test(signed_in, credential)
    assert provider_endpoint.requests_to("/send")[0].header("Authorization") == "Bearer token-1"
    assert f"X-Echo-Authorization: {REDACTED}" in page and f'"Authorization": "{REDACTED}"' in page
    error = stored(app, credential).verification_error
    assert error.startswith("The provider answered 400 Bad Request") and REDACTED in error
    for shown in (page, error):
        assert "token-1" not in shown and PAIR not in shown


def test_a_provider_echoing_the_jwt_or_its_signature_is_shown_redacted(signed_in, app, provider_endpoint):
    def signature_echo(request) -> Answer:
        token = request.header("Authorization").split(" ", 1)[1]
        return Answer(401, json.dumps({"bad_signature": token.rsplit(".", 1)[1], "token": token}).encode())

    provider_endpoint.route("/send", signature_echo)
    credential = make_custom(app, provider_endpoint, name="JWT provider", auth_type="jwt",
                             auth_settings={"jwt_claims": '{"iss": "acme"}'}, auth_secrets={"jwt_secret": JWT_SECRET})
    page = send_test(signed_in, credential)
    token = provider_endpoint.requests_to("/send")[0].header("Authorization").split(" ", 1)[1]
    assert jwt.decode(token, JWT_SECRET, algorithms=["HS256"])["iss"] == "acme"
    assert f'{{"bad_signature": "{REDACTED}", "token": "{REDACTED}"}}' in page
    error = stored(app, credential).verification_error
    assert error == f'The provider answered 401 Unauthorized: {{"bad_signature": "{REDACTED}", "token": "{REDACTED}"}}'
    for shown in (page, error):
        assert token not in shown and token.rsplit(".", 1)[1] not in shown


def test_a_secret_cut_by_the_8_kb_limit_shows_none_of_it(signed_in, app, provider_endpoint):
    key = "ak-live-7f3c9e1d5b2a4c6e8f0a1b3c"
    provider_endpoint.answer("/send", status=200, body=b"a" * (MAX_ANSWER - 6) + key.encode(),
                             headers=[("Content-Type", "text/plain")])
    credential = make_custom(app, provider_endpoint, auth_secrets={"api_key": key})
    page = send_test(signed_in, credential)
    assert "The answer is longer than 8 KB; only its start is shown." in page
    assert "a" * (MAX_ANSWER - 6) + REDACTED in page
    assert key[:6] not in page
