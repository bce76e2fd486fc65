"""Custom provider credentials: the payload, header, URL and PEM checks, and each auth type's
request proven byte for byte against a local HTTPS endpoint (tests/support/provider_endpoints.py)."""
import base64
import hashlib
import hmac
import json
import stat
import tempfile
import time
from urllib.parse import parse_qsl

import jwt
import pytest

from tests.support.custom_provider import (
    ACCOUNT_SID,
    FROM,
    JSON_TEMPLATE,
    NETWORK,
    SERVICE_SID,
    TO,
    oauth_settings,
    refused,
    send_local,
    settings_for,
)
from tests.support.provider_endpoints import Answer, make_authority, oauth_token_route
from wizard.providers.custom.auth.hmac import HMAC_TIMESTAMP_HEADER
from wizard.providers.custom.auth.mutual_tls import check_client_certificate
from wizard.providers.custom.headers import check_headers, header_rows
from wizard.providers.custom.http import send
from wizard.providers.custom.payload import TemplateCheck, check_template, render_payload
from wizard.providers.custom.presets import twilio_rcs_preset
from wizard.providers.custom.request import prepare, redact
from wizard.providers.custom.settings import MAX_ANSWER, REDACTED, TIMEOUT, ProviderError
from wizard.providers.custom.urls import check_url
from wizard.providers.transport import Transport


def assert_received_as_prepared(endpoint, received, prepared):
    """Exactly the prepared request arrived: request line, every header in order, the body."""
    assert (received.method, received.path) == ("POST", "/send")
    assert received.headers == [("Host", f"127.0.0.1:{endpoint.port}"), *prepared.headers,
                                ("Content-Length", str(len(prepared.body)))]
    assert received.body == prepared.body


# --- Payload templates -------------------------------------------------------------------------

def test_a_complete_json_template_has_no_errors_or_warnings():
    assert check_template(JSON_TEMPLATE, "json") == TemplateCheck([], [])


def test_a_missing_required_placeholder_is_an_error_naming_it():
    check = check_template('{"to": "{{toNumber}}"}', "json")
    assert check.errors == ["{{fromNumber}}, {{message}} are missing: put each where the provider expects that "
                            "value."]
    assert check_template('{"to": "{{toNumber}}", "text": "{{message}}"}', "json").errors == [
        "{{fromNumber}} is missing: put it where the provider expects that value."]


def test_an_unknown_placeholder_is_only_a_warning():
    template = JSON_TEMPLATE.replace('"text"', '"campaign": "{{campaignId}}", "text"')
    check = check_template(template, "json")
    assert check.errors == []
    assert check.warnings == ["{{campaignId}} is not a value the platform fills in: it is sent empty."]
    body, _type = render_payload(template, "json", {"toNumber": TO, "fromNumber": FROM, "message": "m"})
    assert json.loads(body)["campaign"] == ""


def test_invalid_json_is_reported_with_line_and_column():
    template = '{\n  "from": "{{fromNumber}}",\n  "to": "{{toNumber}}"\n  "text": "{{message}}"\n}'
    assert check_template(template, "json").errors == [
        "This is not valid JSON: Expecting ',' delimiter at line 4, column 3."]


def test_positions_stay_the_templates_own_after_long_placeholders():
    template = '{"text": "{{message}}", "to": "{{toNumber}}", "from": "{{fromNumber}}",\n  "x": tru}'
    assert check_template(template, "json").errors == [
        "This is not valid JSON: Expecting value at line 2, column 8."]


def test_a_placeholder_outside_a_string_is_an_error_with_its_position():
    template = '{\n  "from": "{{fromNumber}}", "to": "{{toNumber}}",\n  "text": {{message}}\n}'
    assert check_template(template, "json").errors == [
        '{{message}} at line 3, column 11 is outside a string: put it in quotes, like "{{message}}".']


def test_a_payload_over_64_kb_is_refused():
    template = JSON_TEMPLATE.replace('"text"', f'"pad": "{"x" * 65536}", "text"')
    assert check_template(template, "json").errors == ["A provider payload has at most 64 KB; this one has 65 KB."]
    message = "y" * 65536  # the template fits, the rendered body doesn't
    with pytest.raises(ProviderError, match="at most 64 KB"):
        render_payload(JSON_TEMPLATE, "json", {"toNumber": TO, "fromNumber": FROM, "message": message})


def test_json_values_are_escaped_so_a_message_cannot_break_the_json():
    message = 'She said "hi"\\ \n第二行 中文\t😀 </script>'
    body, content_type = render_payload(JSON_TEMPLATE, "json",
                                        {"toNumber": TO, "fromNumber": FROM, "message": message})
    assert content_type == "application/json; charset=utf-8"
    assert json.loads(body) == {"from": FROM, "to": TO, "text": message}
    assert body == ('{\n  "from": "+14155550101",\n  "to": "+14155550123",\n'
                    '  "text": "She said \\"hi\\"\\\\ \\n第二行 中文\\t😀 </script>"\n}').encode()


def test_form_templates_are_encoded_once_with_each_value_as_typed():
    template = "To={{toNumber}}&From={{fromNumber}}\nBody=Note: {{message}}\nChannel=rcs%2Bsms"
    assert check_template(template, "form").errors == []
    message = "a&b=c+d 100% 中文\nline"
    body, content_type = render_payload(template, "form", {"toNumber": TO, "fromNumber": FROM, "message": message})
    assert content_type == "application/x-www-form-urlencoded; charset=utf-8"
    assert body == (b"To=%2B14155550123&From=%2B14155550101&Body=Note%3A+a%26b%3Dc%2Bd+100%25+"
                    b"%E4%B8%AD%E6%96%87%0Aline&Channel=rcs%2Bsms")
    assert parse_qsl(body.decode()) == [("To", TO), ("From", FROM), ("Body", "Note: " + message),
                                        ("Channel", "rcs+sms")]


def test_form_template_mistakes_are_named_with_their_position():
    assert check_template("To={{toNumber}}&From={{fromNumber}}\nBody\n{{message}}=x", "form").errors == [
        "“Body” at line 2, column 1 has no =: write each field as name=value.",
        "The field name {{message}} at line 3 is a placeholder: placeholders go in values, after =."]
    assert check_template("=x&To={{toNumber}}", "form").errors[0] == (
        "A field at line 1, column 1 has no name before =.")
    assert check_template(" ", "form").errors == [
        "Enter the provider payload, with the placeholders {{fromNumber}}, {{toNumber}} and {{message}} where "
        "the values go."]
    assert check_template(JSON_TEMPLATE, "xml").errors == ["Choose JSON or form-encoded."]


# --- Headers -------------------------------------------------------------------------------------

def test_header_rows_are_checked_one_by_one():
    rows = [("X-Request-Id", "abc"), ("X-Bad\r\nInjected", "1"), ("X-Value", "a\r\nSet-Cookie: x=1"),
            ("Bad Name", "1"), ("Colon:", "1"), ("x-request-id", "again"), ("", ""), ("", "orphan"),
            ("X-Unicode", "中文"), ("Content-Length", "5"), ("Authorization", "Bearer x")]
    assert check_headers(rows, reserved={"Authorization"}) == [
        {},
        {"name": "A header name cannot contain a line break (CR or LF)."},
        {"value": "A header value cannot contain a line break (CR or LF)."},
        {"name": "A header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~, with no spaces or "
                 "colons, e.g. X-Request-Id."},
        {"name": "A header name has only letters, digits and ! # $ % & ' * + - . ^ _ ` | ~, with no spaces or "
                 "colons, e.g. X-Request-Id."},
        {"name": "x-request-id is already in another row: each header is sent once."},
        {},
        {"name": "Enter the header's name, or remove the row."},
        {"value": "A header value has only printable ASCII characters and spaces."},
        {"name": "Content-Length is set for each request when it is sent."},
        {"name": "Authorization is set by the auth type."},
    ]


def test_content_type_comes_from_the_payload_format_and_cannot_be_set_or_removed(provider_endpoint):
    assert check_headers([("content-type", "text/plain")]) == [
        {"name": "Content-Type is set from the payload format, with its charset; it is always sent and cannot be "
                 "set here."}]
    settings = settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"}, headers=[])
    assert header_rows(settings) == [("Content-Type", "application/json; charset=utf-8")]
    assert prepare(settings, TO, FROM, "m").headers[0] == ("Content-Type", "application/json; charset=utf-8")
    settings.payload_format, settings.payload_template = "form", "t={{toNumber}}&f={{fromNumber}}&m={{message}}"
    assert prepare(settings, TO, FROM, "m").headers[0] == (
        "Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    settings.headers = [["Content-Type", "text/plain"]]  # a stored row can't sneak one in either
    with pytest.raises(ProviderError, match="Content-Type is set from the payload format"):
        prepare(settings, TO, FROM, "m")


# --- URL safety ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, problem", [
    ("http://api.example.com/send", "Use an https:// URL: the request carries secrets that only TLS keeps private."),
    ("ftp://api.example.com/", "Use an https:// URL: the request carries secrets that only TLS keeps private."),
    ("", "Enter the URL, e.g. https://api.example.com/messages."),
    ("https:///send", "The URL has no host name: write it like https://api.example.com/messages."),
    ("https://api.example.com:99999/", "This is not a URL: write it like https://api.example.com/messages."),
    ("https://[::1/", "This is not a URL: write it like https://api.example.com/messages."),
    ("https://api.example .com/", "A URL cannot contain spaces or control characters."),
    ("https://user:pw@api.example.com/", "Leave the user name and password out of the URL: choose the Basic auth "
                                         "type for them."),
    ("https://127.0.0.1/send", refused("127.0.0.1")),
    ("https://10.1.2.3/send", refused("10.1.2.3")),
    ("https://192.168.0.10/send", refused("192.168.0.10")),
    ("https://169.254.169.254/latest/meta-data", refused("169.254.169.254")),
    ("https://169.254.10.1/", refused("169.254.10.1")),
    ("https://[fd00:ec2::254]/", refused("fd00:ec2::254")),
    ("https://[::1]:8443/", refused("::1")),
    ("https://[::ffff:10.0.0.1]/", refused("::ffff:10.0.0.1")),
    ("https://0.0.0.0/", refused("0.0.0.0")),
    ("https://224.0.0.1/", refused("224.0.0.1")),
    ("https://localhost/send", refused("localhost")),
    ("https://2130706433/send", refused("2130706433")),
])
def test_unusable_urls_are_refused_with_the_reason(url, problem):
    assert check_url(url, allow_private=False) == problem


def test_private_addresses_are_allowed_only_when_the_operator_says_so():
    for url in ("https://127.0.0.1:8443/send", "https://10.1.2.3/", "https://169.254.169.254/",
                "https://localhost/send"):
        assert check_url(url, allow_private=True) is None
    assert check_url("http://127.0.0.1/", allow_private=True).startswith("Use an https:// URL")
    assert check_url("https://93.184.215.14/send", allow_private=False) is None  # a public address


# --- Each auth type, byte for byte ---------------------------------------------------------------

def test_api_key_goes_in_the_named_header(provider_endpoint):
    settings = settings_for(provider_endpoint, "api_key", {"api_key_header": "X-Provider-Key"},
                            {"api_key": "k-123456"}, headers=[["X-Tenant", "acme"]])
    answer = send_local(settings, "Hi there")
    assert (answer.status, answer.reason, answer.ok) == (200, "OK", True)
    assert answer.body == '{"id": "msg-1", "status": "accepted"}' and answer.truncated is False
    assert ("Content-Type", "application/json") in answer.headers
    received = provider_endpoint.requests_to("/send")[0]
    assert_received_as_prepared(provider_endpoint, received, prepare(settings, TO, FROM, "Hi there"))
    assert received.header_names == ["Host", "Content-Type", "X-Tenant", "X-Provider-Key", "User-Agent",
                                     "Accept-Encoding", "Content-Length"]
    assert received.header("X-Provider-Key") == "k-123456"
    assert received.body == b'{\n  "from": "+14155550101",\n  "to": "+14155550123",\n  "text": "Hi there"\n}'


def test_basic_auth_is_user_and_password_in_utf8_base64(provider_endpoint):
    settings = settings_for(provider_endpoint, "basic", {"basic_username": "acme"}, {"basic_password": "pässwörd:1"})
    send_local(settings)
    received = provider_endpoint.requests_to("/send")[0]
    assert received.header("Authorization") == "Basic " + base64.b64encode("acme:pässwörd:1".encode()).decode()
    assert_received_as_prepared(provider_endpoint, received, prepare(settings, TO, FROM, "Hello"))


def test_bearer_token_is_sent_as_is(provider_endpoint):
    settings = settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "eyJ.token.value"})
    send_local(settings)
    received = provider_endpoint.requests_to("/send")[0]
    assert received.header("Authorization") == "Bearer eyJ.token.value"
    assert_received_as_prepared(provider_endpoint, received, prepare(settings, TO, FROM, "Hello"))


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_hmac_signs_the_timestamp_and_the_body(provider_endpoint, algorithm):
    settings = settings_for(provider_endpoint, "hmac", {"hmac_header": "X-Signature", "hmac_algorithm": algorithm},
                            {"hmac_secret": "s3cret-key"})
    before = int(time.time())
    send_local(settings, 'Quote " and 中文')
    received = provider_endpoint.requests_to("/send")[0]
    timestamp = received.header(HMAC_TIMESTAMP_HEADER)
    assert before <= int(timestamp) <= time.time()
    expected = hmac.new(b"s3cret-key", timestamp.encode() + b"." + received.body,
                        getattr(hashlib, algorithm)).hexdigest()
    assert received.header("X-Signature") == expected
    assert received.header_names == ["Host", "Content-Type", "X-Timestamp", "X-Signature", "User-Agent",
                                     "Accept-Encoding", "Content-Length"]
    assert json.loads(received.body)["text"] == 'Quote " and 中文'


def test_jwt_is_hs256_with_the_claims_and_fresh_iat_and_exp(provider_endpoint):
    secret = "a-jwt-secret-of-at-least-32-bytes!"
    settings = settings_for(provider_endpoint, "jwt", {"jwt_claims": '{"iss": "acme", "aud": "rcs", "iat": 1}'},
                            {"jwt_secret": secret})
    before = int(time.time())
    send_local(settings)
    received = provider_endpoint.requests_to("/send")[0]
    scheme, token = received.header("Authorization").split(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="rcs")
    assert claims["iss"] == "acme" and claims["aud"] == "rcs"
    assert before <= claims["iat"] <= time.time()  # ours, not the claims' own iat
    assert claims["exp"] - claims["iat"] == 300
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-at-least-32-bytes", algorithms=["HS256"], audience="rcs")


def test_mutual_tls_presents_the_client_certificate(authority, mtls_endpoint, tmp_path, monkeypatch):
    certificate, key = authority.issue("acme-client", client=True)
    settings = settings_for(mtls_endpoint, "none", {"client_certificate": certificate}, {"client_key": key})
    files_during_the_request = []

    def inspect(request):
        files_during_the_request.extend((path.name, stat.S_IMODE(path.stat().st_mode))
                                        for path in (tmp_path / "temp").iterdir())
        return Answer(202, b'{"queued": true}')

    mtls_endpoint.route("/send", inspect)
    (tmp_path / "temp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    answer = send_local(settings)
    assert (answer.status, answer.body) == (202, '{"queued": true}')
    received = mtls_endpoint.requests_to("/send")[0]
    assert dict(name[0] for name in received.client_certificate["subject"]) == {"commonName": "acme-client"}
    assert [mode for _name, mode in files_during_the_request] == [0o600, 0o600]
    assert list((tmp_path / "temp").iterdir()) == []  # deleted right after


def test_without_a_client_certificate_the_mtls_server_refuses_clearly(mtls_endpoint):
    settings = settings_for(mtls_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"})
    with pytest.raises(ProviderError) as raised:
        send_local(settings)
    assert raised.value.message.startswith("The TLS connection to 127.0.0.1 failed: ")
    assert "If the provider requires a client certificate, choose the auth type None (mutual TLS)" in \
        raised.value.message
    assert mtls_endpoint.requests == []
    # The server's thread records its side of the handshake a moment after the client gave up.
    deadline = time.monotonic() + 3
    while not mtls_endpoint.handshake_failures and time.monotonic() < deadline:
        time.sleep(0.02)
    assert any("certificate" in failure for failure in mtls_endpoint.handshake_failures)


def test_a_certificate_from_another_authority_is_refused_too(mtls_endpoint):
    certificate, key = make_authority("Somebody else").issue("stranger", client=True)
    settings = settings_for(mtls_endpoint, "none", {"client_certificate": certificate}, {"client_key": key})
    with pytest.raises(ProviderError, match="The TLS connection to 127.0.0.1 failed"):
        send_local(settings)
    assert mtls_endpoint.requests == []


def test_an_untrusted_server_certificate_is_refused(provider_endpoint, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    settings = settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"})
    with pytest.raises(ProviderError, match="certificate verify failed"):
        send_local(settings)


# --- OAuth 2.0 client credentials ----------------------------------------------------------------


def test_unsaved_oauth2_settings_fetch_a_token_each_time(provider_endpoint):
    provider_endpoint.route("/oauth/token", oauth_token_route())
    settings = oauth_settings(provider_endpoint, oauth_scope="")
    send_local(settings)
    send_local(settings)
    assert [r.body for r in provider_endpoint.requests_to("/oauth/token")] == [b"grant_type=client_credentials"] * 2
    assert [r.header("Authorization") for r in provider_endpoint.requests_to("/send")] == [
        "Bearer token-1", "Bearer token-2"]


def test_a_token_endpoint_error_is_shown_with_its_status_and_body(provider_endpoint):
    provider_endpoint.answer("/oauth/token", 401, b'{"error": "invalid_client"}')
    with pytest.raises(ProviderError) as raised:
        send_local(oauth_settings(provider_endpoint))
    assert raised.value.message == 'The token endpoint answered 401 Unauthorized: {"error": "invalid_client"}'
    assert provider_endpoint.requests_to("/send") == []
    provider_endpoint.answer("/oauth/token", 200, b'{"token_type": "bearer"}')
    with pytest.raises(ProviderError, match="has no access_token"):
        send_local(oauth_settings(provider_endpoint))


def test_the_token_url_gets_the_same_safety_checks(provider_endpoint):
    settings = oauth_settings(provider_endpoint, oauth_token_url=provider_endpoint.url("/oauth/token").replace(
        "https://", "http://"))
    with pytest.raises(ProviderError, match="Token URL: Use an https:// URL"):
        send_local(settings)
    settings = oauth_settings(provider_endpoint)
    settings.provider_url = "https://93.184.215.14/send"  # public; the token URL is not
    with pytest.raises(ProviderError) as raised:
        send(settings, TO, FROM, "m", allow_private=False, transport=NETWORK)
    assert raised.value.message == f"Token URL: {refused('127.0.0.1')}"
    assert provider_endpoint.requests == []


# --- Answers, redirects, timeouts ----------------------------------------------------------------

def test_a_redirect_is_returned_as_the_answer_not_followed(provider_endpoint):
    provider_endpoint.answer("/send", 302, b"", headers=[("Location", provider_endpoint.url("/elsewhere"))])
    answer = send_local(settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"}))
    assert (answer.status, answer.ok) == (302, False)
    assert ("Location", provider_endpoint.url("/elsewhere")) in answer.headers
    assert [r.path for r in provider_endpoint.requests] == ["/send"]


@pytest.mark.parametrize("status, body", [(400, b'{"error": "invalid number"}'), (503, b"Service Unavailable")])
def test_4xx_and_5xx_answers_come_back_with_status_and_body(provider_endpoint, status, body):
    provider_endpoint.answer("/send", status, body, headers=[("Content-Type", "text/plain")])
    answer = send_local(settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"}))
    assert (answer.status, answer.body, answer.ok, answer.truncated) == (status, body.decode(), False, False)
    assert answer.elapsed_ms >= 0


def test_a_long_answer_is_truncated_at_8_kb(provider_endpoint):
    provider_endpoint.answer("/send", 200, "é".encode() + b"x" * 20000, headers=[("Content-Type", "text/plain")])
    answer = send_local(settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"}))
    assert answer.truncated is True
    assert answer.body == "é" + "x" * (MAX_ANSWER - 2)
    provider_endpoint.answer("/send", 200, b"y" * MAX_ANSWER)
    answer = send_local(settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"}))
    assert (len(answer.body), answer.truncated) == (MAX_ANSWER, False)


def test_a_provider_that_does_not_answer_in_time_is_an_error(provider_endpoint):
    provider_endpoint.answer("/send", 200, b"late", delay=3)
    started = time.monotonic()
    with pytest.raises(ProviderError) as raised:
        send_local(settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"}), timeout=0.3)
    assert raised.value.message == "127.0.0.1 did not answer within 0.3 seconds."
    assert time.monotonic() - started < 2
    assert TIMEOUT == 10


def test_a_closed_port_is_an_error(provider_endpoint):
    settings = settings_for(provider_endpoint, "bearer", auth_secrets={"bearer_token": "t0k"})
    provider_endpoint.stop()
    with pytest.raises(ProviderError) as raised:
        send_local(settings)
    assert raised.value.message == refused("127.0.0.1")  # a private target: closed or absent, one message
    provider_endpoint.start()  # for the fixture's own stop


# --- Prepare and redact --------------------------------------------------------------------------

def test_redact_hides_auth_headers_and_every_secret_wherever_it_appears(provider_endpoint):
    template = 'key={{apiKey}}&to={{toNumber}}&from={{fromNumber}}&text={{message}}'
    settings = settings_for(provider_endpoint, "api_key", {"api_key_header": "X-Key"}, {"api_key": "k&y+1 2"},
                            payload_format="form", payload_template=template, headers=[["X-Echo", "k&y+1 2"]])
    prepared = prepare(settings, TO, FROM, "hi", extra={"apiKey": "k&y+1 2"})
    text = redact(prepared, settings.secret_values())
    assert "k&y" not in text and "k%26y" not in text
    assert text == (f"POST /send HTTP/1.1\nHost: 127.0.0.1:{provider_endpoint.port}\n"
                    "Content-Type: application/x-www-form-urlencoded; charset=utf-8\n"
                    f"X-Echo: {REDACTED}\nX-Key: {REDACTED}\nUser-Agent: Twilio-Messaging-Setup/1.0\n"
                    f"Accept-Encoding: identity\nContent-Length: {len(prepared.body)}\n\n"
                    f"key={REDACTED}&to=%2B14155550123&from=%2B14155550101&text=hi")


def test_redact_hides_signatures_and_tokens_of_every_auth_type(provider_endpoint):
    for settings in (
        settings_for(provider_endpoint, "basic", {"basic_username": "u"}, {"basic_password": "p4ss"}),
        settings_for(provider_endpoint, "hmac", {"hmac_header": "X-Sig"}, {"hmac_secret": "h"}),
        settings_for(provider_endpoint, "jwt", {}, {"jwt_secret": "j" * 32}),
        oauth_settings(provider_endpoint),
    ):
        prepared = prepare(settings, TO, FROM, "hi", access_token="live-token")
        text = redact(prepared, settings.secret_values())
        secret_header = "X-Sig" if settings.auth_type == "hmac" else "Authorization"
        assert f"\n{secret_header}: {REDACTED}\n" in text
        value = dict(prepared.headers)[secret_header]
        assert value not in text and "live-token" not in text
        if settings.auth_type == "hmac":
            assert f"\nX-Timestamp: {dict(prepared.headers)['X-Timestamp']}\n" in text  # not a secret
    assert provider_endpoint.requests == []  # prepare and redact never touch the network


def test_a_preview_of_oauth2_needs_no_token(provider_endpoint):
    prepared = prepare(oauth_settings(provider_endpoint), TO, FROM, "hi")
    assert f"Authorization: {REDACTED}" in redact(prepared)
    assert provider_endpoint.requests == []


def test_unusable_auth_settings_are_refused_before_anything_is_sent(provider_endpoint):
    with pytest.raises(ProviderError, match="API key is missing for the auth type API key"):
        prepare(settings_for(provider_endpoint, "api_key"), TO, FROM, "m")
    with pytest.raises(ProviderError, match="Choose an auth type"):
        prepare(settings_for(provider_endpoint, "kerberos"), TO, FROM, "m")
    with pytest.raises(ProviderError, match="Content-Type is already set by the request; name another header"):
        prepare(settings_for(provider_endpoint, "api_key", {"api_key_header": "Content-Type"}, {"api_key": "k"}),
                TO, FROM, "m")
    ca = make_authority()
    certificate, _key = ca.issue("client", client=True)
    _other, other_key = ca.issue("other", client=True)
    with pytest.raises(ProviderError, match="This private key does not belong to the client certificate"):
        send_local(settings_for(provider_endpoint, "none", {"client_certificate": certificate},
                                {"client_key": other_key}))
    assert provider_endpoint.requests == []


# --- Client certificates ---------------------------------------------------------------------------

def test_client_certificate_and_key_must_parse_and_match():
    ca = make_authority()
    certificate, key = ca.issue("client", client=True)
    _other_certificate, other_key = ca.issue("other", client=True)
    assert check_client_certificate(certificate, key) is None
    assert check_client_certificate("garbage", key) == (
        "The client certificate is not a PEM certificate: paste the text from -----BEGIN CERTIFICATE----- to "
        "-----END CERTIFICATE-----.")
    assert check_client_certificate(certificate, "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----") == (
        "The private key is not a PEM private key: paste the text from -----BEGIN ... PRIVATE KEY----- to "
        "-----END ... PRIVATE KEY-----.")
    assert check_client_certificate(certificate, other_key) == (
        "This private key does not belong to the client certificate: paste the key the certificate was issued for.")
    expired, expired_key = ca.issue("old", client=True, valid_days=-1)
    assert check_client_certificate(expired, expired_key).startswith("The client certificate expired on ")

    from cryptography.hazmat.primitives import serialization
    loaded = serialization.load_pem_private_key(key.encode(), password=None)
    encrypted = loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.BestAvailableEncryption(b"passphrase")).decode()
    assert check_client_certificate(certificate, encrypted) == (
        "The private key is encrypted: paste it without a passphrase.")


# --- Settings and the Twilio RCS preset ------------------------------------------------------------


def test_the_twilio_rcs_preset():
    preset = twilio_rcs_preset(ACCOUNT_SID, "f" * 32, SERVICE_SID)
    assert preset.provider_url == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert (preset.auth_type, preset.auth_settings, preset.auth_secrets) == (
        "basic", {"basic_username": ACCOUNT_SID}, {"basic_password": "f" * 32})
    assert preset.payload_format == "form"
    assert preset.payload_template == f"To={{{{toNumber}}}}&MessagingServiceSid={SERVICE_SID}&Body={{{{message}}}}"
    # The Messaging Service picks the sender: the template needs no {{fromNumber}}.
    assert check_template(preset.payload_template, "form") == TemplateCheck([], [])

    content = twilio_rcs_preset(ACCOUNT_SID, "f" * 32, SERVICE_SID, content_sid="HX" + "3" * 32)
    assert content.payload_template == (f"To={{{{toNumber}}}}&MessagingServiceSid={SERVICE_SID}&ContentSid=HX"
                                        f"{'3' * 32}&ContentVariables={{{{contentVariables}}}}")
    assert check_template(content.payload_template, "form").ok
    prepared = prepare(content, TO, FROM, 'Hi "Ann"')
    assert parse_qsl(prepared.body.decode()) == [("To", TO), ("MessagingServiceSid", SERVICE_SID),
                                                 ("ContentSid", "HX" + "3" * 32),
                                                 ("ContentVariables", '{"1": "Hi \\"Ann\\""}')]
    assert check_template("To={{toNumber}}&Body={{message}}", "form").errors == [
        "{{fromNumber}} is missing: put it where the provider expects that value."]


def test_the_twilio_preset_sends_to_twilio_and_redacts_the_auth_token(fake_twilio):
    preset = twilio_rcs_preset(fake_twilio.account_sid, fake_twilio.auth_token, fake_twilio.service_sid)
    prepared = prepare(preset, TO, FROM, "RCS hello 中文")
    text = redact(prepared, preset.secret_values())
    assert fake_twilio.auth_token not in text
    assert base64.b64encode(f"{fake_twilio.account_sid}:{fake_twilio.auth_token}".encode()).decode() not in text
    assert text.startswith(f"POST /2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json HTTP/1.1\n"
                           "Host: api.twilio.com\n")
    assert f"Authorization: {REDACTED}" in text

    # TWILIO_BASE_URL sends Twilio's requests to the fake, as for the twilio client.
    answer = send(preset, TO, FROM, "RCS hello 中文", allow_private=True,
                  transport=Transport(False, twilio_base_url=fake_twilio.base_url))
    assert answer.status == 201
    message = json.loads(answer.body)
    assert (message["to"], message["body"], message["messaging_service_sid"], message["status"]) == (
        TO, "RCS hello 中文", fake_twilio.service_sid, "accepted")
    recorded, = fake_twilio.requests_matching("POST", path=f"/2010-04-01/Accounts/{fake_twilio.account_sid}"
                                                           "/Messages.json")
    assert recorded.host == "api.twilio.com"
    assert recorded.form == {"To": TO, "MessagingServiceSid": fake_twilio.service_sid, "Body": "RCS hello 中文"}

    wrong = twilio_rcs_preset(fake_twilio.account_sid, "0" * 32, fake_twilio.service_sid)
    answer = send(wrong, TO, FROM, "x", allow_private=True,
                  transport=Transport(False, twilio_base_url=fake_twilio.base_url))
    assert answer.status == 401 and json.loads(answer.body)["code"] == 20003


# --- The form --------------------------------------------------------------------------------------
