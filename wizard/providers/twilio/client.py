"""The Twilio adapter: the official client, pointed at Twilio or at a local stand-in, and
the few calls the wizard makes, each answering in plain data or raising TwilioError."""
import io
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3
from twilio.base import values
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from werkzeug.test import EnvironBuilder, run_wsgi_app


class OriginRewritingHttpClient(TwilioHttpClient):
    """Sends every request to `base_url` instead of Twilio's host, keeping path and query,
    and naming the Twilio host in the Host header (so a fake can tell API from Messaging).

    twilio-python has no base-URL setting; this is how tests and practice mode reach a
    local server. With an empty base_url it is the stock client.
    """

    def __init__(self, base_url: str | None = None, timeout: float = 10, **kwargs):
        super().__init__(timeout=timeout, **kwargs)
        self.base_url = (base_url or "").rstrip("/")

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        if timeout is None:
            timeout = self.timeout
        if self.base_url:
            target, base = urlsplit(url), urlsplit(self.base_url)
            url = target._replace(scheme=base.scheme, netloc=base.netloc).geturl()
            headers = {**(headers or {}), "Host": target.netloc}
        return super().request(method, url, params=params, data=data, headers=headers,
                               auth=auth, timeout=timeout, allow_redirects=allow_redirects)


class WsgiAdapter(requests.adapters.HTTPAdapter):
    """A requests transport that hands every request to a WSGI app in this process: no socket,
    no name lookup, whatever the URL says. Practice sandboxes reach the Twilio simulator so."""

    def __init__(self, wsgi_app):
        super().__init__()
        self.wsgi_app = wsgi_app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        target = urlsplit(request.url)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else (request.body or b"")
        environ = EnvironBuilder(path=target.path or "/", base_url=f"{target.scheme}://{target.netloc}",
                                 query_string=target.query, method=request.method,
                                 headers=list(request.headers.items()), data=body).get_environ()
        app_iter, status, headers = run_wsgi_app(self.wsgi_app, environ, buffered=True)
        try:
            content = b"".join(app_iter)
        finally:
            getattr(app_iter, "close", lambda: None)()
        code, _, reason = status.partition(" ")
        raw = urllib3.HTTPResponse(body=io.BytesIO(content), headers=list(headers.items()), status=int(code),
                                   reason=reason, preload_content=False, decode_content=False,
                                   request_method=request.method, request_url=request.url)
        return self.build_response(request, raw)


class InProcessHttpClient(TwilioHttpClient):
    """The stock twilio HTTP client whose requests a WSGI app in this process answers."""

    def __init__(self, wsgi_app, timeout: float = 10, **kwargs):
        super().__init__(timeout=timeout, **kwargs)
        adapter = WsgiAdapter(wsgi_app)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)


class TwilioError(Exception):
    """A failed Twilio call, in Twilio's words: its error code, its message, the HTTP status."""

    def __init__(self, code: int | None, message: str, status: int | None = None):
        super().__init__(code, message, status)
        self.code = code
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code is not None else self.message


class TwilioUnreachable(TwilioError):
    """Twilio never answered: connection refused, timed out, name not resolved..."""

    def __init__(self, reason: str):
        super().__init__(None, f"Twilio could not be reached: {reason}")


# twilio-python prefixes Twilio's message with its own words ("Unable to fetch record: ").
_CLIENT_PREFIX = re.compile(r"^Unable to \w+ (record|page): ")


def _from_rest_exception(exc: TwilioRestException) -> TwilioError:
    # Without a code in the body, twilio-python puts the HTTP status in `code`.
    code = exc.code if exc.code != exc.status else None
    return TwilioError(code, _CLIENT_PREFIX.sub("", str(exc.msg)), exc.status)


def _from_page_exception(exc: TwilioException) -> TwilioError:
    # A failed .list() raises TwilioException("Unable to fetch page", response).
    response = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    try:
        body = json.loads(response.text)
        return TwilioError(body.get("code"), body.get("message") or str(exc.args[0]), status)
    except (AttributeError, TypeError, ValueError):
        return TwilioError(None, str(exc.args[0]) if exc.args else "Twilio error", status)


def _network_reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if "Connection refused" in str(exc):
        return "connection refused"
    return str(exc)


@contextmanager
def twilio_errors():
    """Turn whatever the twilio client or the network raises into TwilioError.
    Usable as `with twilio_errors():` or as a decorator `@twilio_errors()`."""
    try:
        yield
    except TwilioRestException as exc:
        raise _from_rest_exception(exc) from exc
    except TwilioServiceException as exc:
        raise TwilioError(exc.code, exc.detail or exc.title, exc.status) from exc
    except TwilioException as exc:
        raise _from_page_exception(exc) from exc
    except requests.RequestException as exc:
        raise TwilioUnreachable(_network_reason(exc)) from exc


def make_client(account_sid: str, auth_token: str, base_url: str | None = None,
                timeout: float = 10, wsgi_app=None) -> Client:
    """A client for Twilio, for the server at base_url, or (wsgi_app) for an app in this process."""
    if wsgi_app is not None:
        return Client(account_sid, auth_token, http_client=InProcessHttpClient(wsgi_app, timeout=timeout))
    return Client(account_sid, auth_token,
                  http_client=OriginRewritingHttpClient(base_url, timeout=timeout))


# What a Trial account's messages start with, and Twilio's error when it is asked to reach an unverified number.
TRIAL_PREFIX = "Sent from your Twilio trial account - "


TRIAL_UNVERIFIED_CODE = 21608


TRIAL_UNVERIFIED = ("The number {to} is unverified. Trial accounts cannot send messages to unverified numbers; "
                    "verify {to} at twilio.com/user/account/phone-numbers/verified, or purchase a Twilio number to "
                    "send messages to unverified numbers.")


@dataclass(frozen=True)
class Account:
    sid: str
    friendly_name: str
    status: str  # active, suspended, closed
    type: str  # Trial, Full


@dataclass(frozen=True)
class MessagingService:
    sid: str
    friendly_name: str
    inbound_request_url: str | None
    status_callback: str | None
    use_inbound_webhook_on_number: bool


@dataclass(frozen=True)
class PhoneNumber:
    sid: str
    phone_number: str  # E.164
    sms: bool = True  # can send and receive SMS (an account number's capabilities say)


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str
    error_code: int | None
    error_message: str | None


def _service(instance) -> MessagingService:
    return MessagingService(
        sid=instance.sid,
        friendly_name=instance.friendly_name,
        inbound_request_url=instance.inbound_request_url or None,
        status_callback=instance.status_callback or None,
        use_inbound_webhook_on_number=bool(instance.use_inbound_webhook_on_number),
    )


def _message(instance) -> SentMessage:
    return SentMessage(instance.sid, instance.status, instance.error_code, instance.error_message)


@twilio_errors()
def fetch_account(client: Client, sid: str) -> Account:
    account = client.api.v2010.accounts(sid).fetch()
    return Account(account.sid, account.friendly_name, account.status, account.type)


@twilio_errors()
def list_messaging_services(client: Client) -> list[MessagingService]:
    return [_service(service) for service in client.messaging.v1.services.list()]


@twilio_errors()
def fetch_messaging_service(client: Client, sid: str) -> MessagingService:
    return _service(client.messaging.v1.services(sid).fetch())


@twilio_errors()
def update_messaging_service(client: Client, sid: str, *, inbound_request_url: str | None = None,
                             status_callback: str | None = None,
                             use_inbound_webhook_on_number: bool | None = None) -> MessagingService:
    """Change the service's webhooks; None leaves a field as it is, "" clears a URL."""
    def given(value):
        return values.unset if value is None else value

    return _service(client.messaging.v1.services(sid).update(
        inbound_request_url=given(inbound_request_url),
        status_callback=given(status_callback),
        use_inbound_webhook_on_number=given(use_inbound_webhook_on_number),
    ))


@twilio_errors()
def list_service_numbers(client: Client, service_sid: str) -> list[PhoneNumber]:
    numbers = client.messaging.v1.services(service_sid).phone_numbers.list()
    return [PhoneNumber(number.sid, number.phone_number) for number in numbers]


@twilio_errors()
def list_account_numbers(client: Client) -> list[PhoneNumber]:
    numbers = client.api.v2010.account.incoming_phone_numbers.list()
    return [PhoneNumber(number.sid, number.phone_number, bool((number.capabilities or {}).get("sms", True)))
            for number in numbers]


@twilio_errors()
def send_message(client: Client, to: str, messaging_service_sid: str, body: str,
                 status_callback: str | None = None) -> SentMessage:
    return _message(client.api.v2010.account.messages.create(
        to=to,
        messaging_service_sid=messaging_service_sid,
        body=body,
        status_callback=status_callback or values.unset,
    ))


@twilio_errors()
def fetch_message(client: Client, sid: str) -> SentMessage:
    return _message(client.api.v2010.account.messages(sid).fetch())


@dataclass(frozen=True)
class Campaign:
    """A Messaging Service's US A2P 10DLC campaign (Compliance/Usa2p)."""
    sid: str
    campaign_status: str | None  # IN_PROGRESS, VERIFIED, FAILED
    campaign_id: str | None
    errors: tuple


@dataclass(frozen=True)
class TollfreeVerification:
    sid: str
    status: str | None  # PENDING_REVIEW, IN_REVIEW, TWILIO_APPROVED, TWILIO_REJECTED
    rejection_reason: str | None
    error_code: int | None


@twilio_errors()
def list_campaigns(client: Client, service_sid: str) -> list[Campaign]:
    """GET messaging.twilio.com/v1/Services/{MG}/Compliance/Usa2p."""
    return [Campaign(c.sid, c.campaign_status, c.campaign_id, tuple(c.errors or ()))
            for c in client.messaging.v1.services(service_sid).us_app_to_person.list()]


@twilio_errors()
def list_tollfree_verifications(client: Client, number_sid: str) -> list[TollfreeVerification]:
    """GET messaging.twilio.com/v1/Tollfree/Verifications?TollfreePhoneNumberSid=PN..."""
    return [TollfreeVerification(v.sid, v.status, v.rejection_reason, v.error_code)
            for v in client.messaging.v1.tollfree_verifications.list(tollfree_phone_number_sid=number_sid)]


# Setting up from the wizard: a Messaging Service created, numbers added to its sender pool,
# and who a Trial account may send to.

@twilio_errors()
def create_messaging_service(client: Client, friendly_name: str, *, inbound_request_url: str | None = None,
                             status_callback: str | None = None) -> MessagingService:
    return _service(client.messaging.v1.services.create(
        friendly_name=friendly_name,
        inbound_request_url=inbound_request_url or values.unset,
        status_callback=status_callback or values.unset,
    ))


@twilio_errors()
def add_service_number(client: Client, service_sid: str, phone_number_sid: str) -> PhoneNumber:
    """Put one of the account's numbers into the service's sender pool."""
    number = client.messaging.v1.services(service_sid).phone_numbers.create(phone_number_sid=phone_number_sid)
    return PhoneNumber(number.sid, number.phone_number)


@twilio_errors()
def list_verified_caller_ids(client: Client) -> list[str]:
    """The account's verified caller IDs (OutgoingCallerIds): the only phones a Trial account reaches."""
    return [caller.phone_number for caller in client.outgoing_caller_ids.list()]
