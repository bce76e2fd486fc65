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
from flask_babel import gettext as _

from wizard.core import json_text
from wizard.core.models import utcnow
from wizard.providers.custom.auth import AUTH_TYPES
from wizard.providers.custom.auth.oauth2 import OAUTH2, OAUTH_MARGIN, token_fingerprint
from wizard.providers.custom.request import prepare
from wizard.providers.custom.settings import (
    MAX_ANSWER,
    TIMEOUT,
    ProviderError,
    as_settings,
)
from wizard.providers.custom.urls import _allow_private, check_url
from wizard.providers.transport import Transport


@dataclass
class ProviderAnswer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: str  # at most 8 KB of it
    truncated: bool
    elapsed_ms: int

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


def _cause(error: BaseException) -> BaseException:
    """The innermost error under requests' and urllib3's wrappers."""
    for _depth in range(10):
        inner = getattr(error, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in error.args if isinstance(arg, BaseException)), error.__cause__)
        if inner is None:
            break
        error = inner
    return error


def _problem(error: Exception, url: str, timeout: float, certificate_presented: bool) -> str:
    host = urlsplit(url).hostname or url
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
        return _("The TLS connection to %(host)s failed: %(reason)s", host=host, reason=reason)
    return _("%(host)s could not be reached: %(reason)s", host=host, reason=reason)


def _exchange(method: str, url: str, headers: list[tuple[str, str]], body: bytes, timeout: float,
              certificate=None, adapter=None) -> tuple[requests.Response, bytes, int]:
    """One HTTP exchange: no redirects followed, at most MAX_ANSWER + 1 bytes of the answer read.
    An adapter (practice: the Twilio simulator) answers instead of the network."""
    started = time.monotonic()
    with _client_certificate_files(certificate) as cert_files, requests.Session() as session:
        session.headers.clear()  # what the preview shows is what goes out
        if adapter is not None:
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        try:
            response = session.request(method, url, data=body, headers=dict(headers), timeout=timeout,
                                       allow_redirects=False, stream=True, cert=cert_files)
            with response:
                content = response.raw.read(MAX_ANSWER + 1, decode_content=True)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            raise ProviderError(_problem(error, url, timeout, certificate is not None)) from None
    return response, content, int((time.monotonic() - started) * 1000)


def _text(response: requests.Response, content: bytes) -> str:
    """The answer as text: in the charset it names, else UTF-8 (what JSON APIs send)."""
    named = re.search(r"charset=[\"']?([\w.:-]+)", response.headers.get("Content-Type", ""), re.IGNORECASE)
    try:
        return content[:MAX_ANSWER].decode(named.group(1) if named else "utf-8", "replace")
    except LookupError:
        return content[:MAX_ANSWER].decode("utf-8", "replace")


def fetch_access_token(credential_like, *, timeout: float = TIMEOUT, allow_private: bool | None = None,
                       adapter=None) -> str:
    """An OAuth 2.0 client-credentials access token: the cached one while it is valid, else a new one."""
    settings = as_settings(credential_like)
    fingerprint = token_fingerprint(settings)
    cached = settings.token_cache.load(fingerprint, utcnow())
    if cached:
        return cached
    token_url = OAUTH2.required(settings, "oauth_token_url")
    problem = check_url(token_url, _allow_private(allow_private))
    if problem:
        raise ProviderError(_("Token URL: %(problem)s", problem=problem))
    form = {"grant_type": "client_credentials"}
    if settings.setting("oauth_scope"):
        form["scope"] = settings.setting("oauth_scope")
    # RFC 6749 section 2.3.1: the client id and secret are form-encoded, then sent as HTTP Basic.
    pair = (f"{quote_plus(OAUTH2.required(settings, 'oauth_client_id'))}:"
            f"{quote_plus(OAUTH2.required(settings, 'oauth_client_secret'))}")
    headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
               ("Authorization", "Basic " + base64.b64encode(pair.encode("ascii")).decode("ascii"))]
    response, content, _elapsed = _exchange("POST", token_url.strip(), headers, urlencode(form).encode("ascii"),
                                            timeout, adapter=adapter)
    text = _text(response, content)
    if response.status_code != 200:
        raise ProviderError(_("The token endpoint answered %(status)s %(reason)s: %(body)s",
                              status=response.status_code, reason=response.reason or "", body=text))
    try:
        answer = json_text.loads(text)
        token = answer["access_token"]
        expires_in = int(answer.get("expires_in") or 0)
    except (ValueError, TypeError, KeyError):
        raise ProviderError(_("The token endpoint's answer has no access_token: %(body)s", body=text)) from None
    if not isinstance(token, str) or not token:
        raise ProviderError(_("The token endpoint's answer has no access_token: %(body)s", body=text))
    if str(answer.get("token_type") or "bearer").lower() != "bearer":
        raise ProviderError(_("The token endpoint gave a token of type %(type)s; only Bearer tokens can be sent.",
                              type=answer.get("token_type")))
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
    problem = check_url(settings.provider_url, allow_private)
    access_token = None
    kind = AUTH_TYPES.get(settings.auth_type)
    if problem is None and kind is not None and kind.uses_access_token:
        access_token = fetch_access_token(settings, timeout=timeout, allow_private=allow_private, adapter=adapter)
        problem = check_url(settings.provider_url, allow_private)  # again: fetching the token took a while
    if problem:
        raise ProviderError(problem)
    prepared = prepare(settings, to, from_, message, extra, access_token=access_token)
    url, host = _twilio_origin(prepared.url, twilio_base_url)
    response, content, elapsed = _exchange(prepared.method, url, [*prepared.headers, *host.items()],
                                           prepared.body, timeout, prepared.client_certificate, adapter)
    return ProviderAnswer(response.status_code, response.reason or "", list(response.raw.headers.items()),
                          _text(response, content), len(content) > MAX_ANSWER, elapsed)
