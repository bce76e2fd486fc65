"""Sending a custom provider's request: one HTTP exchange, no redirects, a bounded answer, an OAuth
token fetched and cached when the auth type needs one."""
import base64
import datetime
import os
import re
import ssl
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode, urlsplit

import requests
import urllib3
from flask import current_app, has_app_context
from flask_babel import gettext as _

from wizard.core import json_text
from wizard.core.models import utcnow
from wizard.providers.custom.auth import AUTH_TYPES
from wizard.providers.custom.auth.oauth2 import OAUTH2, OAUTH_MARGIN, token_fingerprint
from wizard.providers.custom.pinned import NO_PROXIES, PinnedAdapter
from wizard.providers.custom.request import Prepared, prepare, redact, redact_text
from wizard.providers.custom.settings import (
    MAX_ANSWER,
    TIMEOUT,
    ProviderError,
    as_settings,
)
from wizard.providers.custom.urls import (
    _allow_private,
    addresses_of,
    check_url,
    is_private,
    resolve,
    unreachable,
)
from wizard.providers.transport import Transport

# Read past the 8 KB shown, so that a secret the cut would split is seen whole, and hidden whole.
READ_BEYOND = 16 * 1024


@dataclass
class ProviderAnswer:
    """A provider's answer with every secret, and every value sent because of one, redacted."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: str  # at most 8 KB of it
    truncated: bool
    elapsed_ms: int
    request: str = ""  # the request as it was sent (its timestamp, its access token), redacted

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


def _chain(error: BaseException):
    """The error and those under it, through requests' and urllib3's wrappers, outermost first."""
    for _depth in range(10):
        yield error
        inner = getattr(error, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in error.args if isinstance(arg, BaseException)), error.__cause__)
        if inner is None:
            return
        error = inner


def _cause(error: BaseException) -> BaseException:
    """The innermost error under requests' and urllib3's wrappers."""
    *_outer, innermost = _chain(error)
    return innermost


def _not_connected(error: BaseException) -> bool:
    """Whether the error came before a connection was made (refused, unreachable, timed out):
    urllib3's NewConnectionError is a ConnectTimeoutError too."""
    connecting = (requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError)
    return any(isinstance(inner, connecting) for inner in _chain(error))


def _problem(error: Exception, url: str, timeout: float, certificate_presented: bool, private: bool) -> str:
    host = urlsplit(url).hostname or url
    if private and _not_connected(error):
        return unreachable(host)  # one message, whether the port is closed, filtered or nothing is there
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
        if "verify failed" in reason:  # the server's certificate: perhaps from a CA not trusted here
            return _("The TLS connection to %(host)s failed: %(reason)s. If the provider's certificate comes from "
                     "a private CA, the CA bundle named by the setting PROVIDER_CA_BUNDLE must include that CA.",
                     host=host, reason=reason)
        return _("The TLS connection to %(host)s failed: %(reason)s", host=host, reason=reason)
    return _("%(host)s could not be reached: %(reason)s", host=host, reason=reason)


def _trusted_cas() -> str | bool:
    """requests' `verify` for provider requests: the PROVIDER_CA_BUNDLE file, else the usual CAs."""
    return (has_app_context() and current_app.config.get("PROVIDER_CA_BUNDLE")) or True


def _exchange(method: str, url: str, headers: list[tuple[str, str]], body: bytes, timeout: float,
              certificate=None, adapter=None, addresses=()) -> tuple[requests.Response, bytes, int]:
    """One HTTP exchange: no redirects followed, at most MAX_ANSWER + READ_BEYOND bytes of the answer read.
    The connection goes to `addresses`, the URL's host as looked up and checked, and nowhere else
    (wizard.providers.custom.pinned); an adapter (practice: the Twilio simulator) answers instead
    of the network."""
    started = time.monotonic()
    with _client_certificate_files(certificate) as cert_files, requests.Session() as session:
        session.headers.clear()  # what the preview shows is what goes out
        adapter = adapter if adapter is not None else PinnedAdapter(addresses)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        try:
            response = session.request(method, url, data=body, headers=dict(headers), timeout=timeout,
                                       allow_redirects=False, stream=True, cert=cert_files, proxies=NO_PROXIES,
                                       verify=_trusted_cas())
            with response:
                content = response.raw.read(MAX_ANSWER + READ_BEYOND, decode_content=True)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            private = any(is_private(address) for address in addresses)
            raise ProviderError(_problem(error, url, timeout, certificate is not None, private)) from None
    return response, content, int((time.monotonic() - started) * 1000)


def _text(response: requests.Response, content: bytes, secrets, sent: tuple) -> str:
    """The answer's first MAX_ANSWER bytes as text, in the charset it names, else UTF-8 (what JSON
    APIs send), with the secrets and what `sent` carried because of them redacted."""
    named = re.search(r"charset=[\"']?([\w.:-]+)", response.headers.get("Content-Type", ""), re.IGNORECASE)
    charset = named.group(1) if named else "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        charset = "utf-8"
    shown, rest = content[:MAX_ANSWER].decode(charset, "replace"), content[MAX_ANSWER:].decode(charset, "replace")
    return redact_text(shown, secrets, sent, rest)


def token_request(settings) -> Prepared:
    """The client-credentials request to the token URL (RFC 6749 section 4.4)."""
    form = {"grant_type": "client_credentials"}
    if settings.setting("oauth_scope"):
        form["scope"] = settings.setting("oauth_scope")
    # RFC 6749 section 2.3.1: the client id and secret are form-encoded, then sent as HTTP Basic.
    pair = (f"{quote_plus(OAUTH2.required(settings, 'oauth_client_id'))}:"
            f"{quote_plus(OAUTH2.required(settings, 'oauth_client_secret'))}")
    headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
               ("Authorization", "Basic " + base64.b64encode(pair.encode("ascii")).decode("ascii"))]
    return Prepared("POST", OAUTH2.required(settings, "oauth_token_url").strip(), headers,
                    urlencode(form).encode("ascii"), frozenset({"authorization"}))


def fetch_access_token(credential_like, *, timeout: float = TIMEOUT, allow_private: bool | None = None,
                       adapter=None) -> str:
    """An OAuth 2.0 client-credentials access token: the cached one while it is valid, else a new one."""
    settings = as_settings(credential_like)
    fingerprint = token_fingerprint(settings)
    cached = settings.token_cache.load(fingerprint, utcnow())
    if cached:
        return cached
    token_url = OAUTH2.required(settings, "oauth_token_url")
    try:
        addresses = _addresses(token_url, _allow_private(allow_private), adapter)
    except ProviderError as error:
        raise ProviderError(_("Token URL: %(problem)s", problem=error.message)) from None
    request, secrets = token_request(settings), settings.secret_values()
    try:
        response, content, _elapsed = _exchange(request.method, request.url, request.headers, request.body, timeout,
                                                adapter=adapter, addresses=addresses)
    except ProviderError as error:
        raise ProviderError(redact_text(error.message, secrets, request)) from None
    text = _text(response, content, secrets, (request,))
    if response.status_code != 200:
        raise ProviderError(_("The token endpoint answered %(status)s %(reason)s: %(body)s",
                              status=response.status_code, body=text,
                              reason=redact_text(response.reason or "", secrets, request)))
    try:
        answer = json_text.loads(text)
        token = answer["access_token"]
        expires_in = int(answer.get("expires_in") or 0)
    except (ValueError, TypeError, KeyError):
        raise ProviderError(_("The token endpoint's answer has no access_token: %(body)s", body=text)) from None
    if not isinstance(token, str) or not token:
        raise ProviderError(_("The token endpoint's answer has no access_token: %(body)s", body=text))
    if str(answer.get("token_type") or "bearer").lower() != "bearer":
        raise ProviderError(redact_text(_("The token endpoint gave a token of type %(type)s; only Bearer tokens can "
                                          "be sent.", type=answer.get("token_type")), [*secrets, token], request))
    lifetime = datetime.timedelta(seconds=expires_in) - OAUTH_MARGIN
    if lifetime.total_seconds() > 0:
        settings.token_cache.store(fingerprint, token, utcnow() + lifetime)
    return token


def _twilio_origin(url: str, twilio_base_url: str | None) -> tuple[str, dict]:
    """TWILIO_BASE_URL sends every Twilio REST request to a local stand-in (tests, practice),
    the path kept and the Twilio host named in the Host header, as wizard.providers.twilio.client does."""
    target = urlsplit(url)
    host = (target.hostname or "").lower()
    if not twilio_base_url or not (host == "twilio.com" or host.endswith(".twilio.com")):
        return url, {}
    base = urlsplit(twilio_base_url)
    return target._replace(scheme=base.scheme, netloc=base.netloc).geturl(), {"Host": target.netloc}


def _addresses(url: str, allow_private: bool, adapter=None, twilio_base_url: str | None = None) -> tuple[str, ...]:
    """Where a request to `url` will connect, looked up and checked now: nowhere when an adapter
    answers (practice); TWILIO_BASE_URL's host, the operator's stand-in, for a Twilio URL; else the
    URL's own host, whose every address must be public unless allow_private. ProviderError when
    the URL can't be used."""
    problem = check_url(url, allow_private=True)  # the URL itself, without a lookup
    if problem:
        raise ProviderError(problem)
    if adapter is not None:
        return ()
    rewritten, host = _twilio_origin(url.strip(), twilio_base_url)
    if host:
        parts = urlsplit(rewritten)
        return tuple(addresses_of(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
    return tuple(resolve(url, allow_private))


def send(credential_like, to: str, from_: str, message: str, extra: dict | None = None, *, transport: Transport,
         timeout: float = TIMEOUT, allow_private: bool | None = None) -> ProviderAnswer:
    """Send one message through the provider and return its answer, whatever its status. The
    transport (wizard.providers.transport.for_credential) says where it may go; allow_private
    defaults to the app's setting."""
    settings = as_settings(credential_like)
    if problem := transport.provider_refusal(settings):
        raise ProviderError(problem)
    adapter = transport.provider_adapter()
    # In practice only the Twilio simulator answers, in-process: no name is looked up.
    allow_private = True if transport.practice else _allow_private(allow_private)
    twilio_base_url = transport.twilio_base_url
    # Checked when sending, not only when saved: DNS may point elsewhere by now.
    addresses = _addresses(settings.provider_url, allow_private, adapter, twilio_base_url)
    access_token = None
    kind = AUTH_TYPES.get(settings.auth_type)
    if kind is not None and kind.uses_access_token:
        access_token = fetch_access_token(settings, timeout=timeout, allow_private=allow_private, adapter=adapter)
        # Again, since fetching the token took a while: the request goes where this lookup says.
        addresses = _addresses(settings.provider_url, allow_private, adapter, twilio_base_url)
    prepared = prepare(settings, to, from_, message, extra, access_token=access_token)
    # Every value that left because of a secret, to hide wherever the provider echoes it.
    secrets = settings.secret_values()
    sent = (prepared, token_request(settings)) if access_token is not None else (prepared,)
    url, host = _twilio_origin(prepared.url, twilio_base_url)
    try:
        response, content, elapsed = _exchange(prepared.method, url, [*prepared.headers, *host.items()],
                                               prepared.body, timeout, prepared.client_certificate, adapter, addresses)
    except ProviderError as error:
        raise ProviderError(redact_text(error.message, secrets, sent)) from None
    return ProviderAnswer(
        response.status_code, redact_text(response.reason or "", secrets, sent),
        [(redact_text(name, secrets, sent), redact_text(value, secrets, sent))
         for name, value in response.raw.headers.items()],
        _text(response, content, secrets, sent), len(content) > MAX_ANSWER, elapsed, redact(prepared, secrets))
