"""A fake Twilio REST server on 127.0.0.1 for tests: the real twilio client talks to it
through wizard.twilio_api.OriginRewritingHttpClient.

It routes on the Host header (api.twilio.com, messaging.twilio.com) and the path, checks
Basic auth as Twilio does (Account SID + Auth Token), answers in Twilio's JSON shapes and
error shape, and records every request. Tests change its state directly:

    fake_twilio.accounts[fake_twilio.account_sid].status = "suspended"
    fake_twilio.add_service(fake_twilio.account_sid, "Empty service")
    fake_twilio.delay = 2
"""
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import urlencode

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_HOST = "api.twilio.com"
MESSAGING_HOST = "messaging.twilio.com"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def new_token() -> str:
    return uuid.uuid4().hex


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment)  # "Wed, 27 Nov 2024 11:44:00 +0000", as the 2010 API


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass
class FakeNumber:
    sid: str
    phone_number: str
    created: datetime = field(default_factory=_now)


@dataclass
class FakeService:
    sid: str
    friendly_name: str
    inbound_request_url: str | None = None
    status_callback: str | None = None
    use_inbound_webhook_on_number: bool = False
    phone_numbers: list[FakeNumber] = field(default_factory=list)
    created: datetime = field(default_factory=_now)


@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    body: str
    messaging_service_sid: str | None
    from_: str | None
    status_callback: str | None
    status: str
    error_code: int | None = None
    error_message: str | None = None
    created: datetime = field(default_factory=_now)


@dataclass
class FakeAccount:
    sid: str
    auth_token: str
    friendly_name: str
    status: str = "active"  # active, suspended, closed
    type: str = "Full"  # Trial, Full
    services: dict[str, FakeService] = field(default_factory=dict)
    incoming_numbers: dict[str, FakeNumber] = field(default_factory=dict)
    created: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    host: str  # the Host header as sent
    path: str
    query_string: str
    form: dict
    headers: dict


class TwilioFault(Exception):
    """An error answer, in Twilio's body shape."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        body = {"code": self.code, "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status}
        response = _json(body, self.status)
        if self.status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return response


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json; charset=utf-8")


def _not_found(path: str) -> TwilioFault:
    return TwilioFault(404, 20404, f"The requested resource {path} was not found")


ROUTES = {
    API_HOST: Map([
        Rule("/2010-04-01/Accounts/<account_sid>.json", endpoint="fetch_account", methods=["GET"]),
        Rule("/2010-04-01/Accounts/<account_sid>/IncomingPhoneNumbers.json",
             endpoint="list_incoming_numbers", methods=["GET"]),
        Rule("/2010-04-01/Accounts/<account_sid>/Messages.json",
             endpoint="create_message", methods=["POST"]),
        Rule("/2010-04-01/Accounts/<account_sid>/Messages/<message_sid>.json",
             endpoint="fetch_message", methods=["GET"]),
    ]),
    MESSAGING_HOST: Map([
        Rule("/v1/Services", endpoint="list_services", methods=["GET"]),
        Rule("/v1/Services/<service_sid>", endpoint="fetch_service", methods=["GET"]),
        Rule("/v1/Services/<service_sid>", endpoint="update_service", methods=["POST"]),
        Rule("/v1/Services/<service_sid>/PhoneNumbers",
             endpoint="list_service_numbers", methods=["GET"]),
    ]),
}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class FakeTwilio:
    """State plus a WSGI app; `start()` serves it on 127.0.0.1 at `self.base_url`."""

    def __init__(self, seed: bool = True):
        self.lock = threading.RLock()
        self.accounts: dict[str, FakeAccount] = {}
        self.messages: dict[str, FakeMessage] = {}
        self.delay = 0.0  # seconds to wait before answering: a slow Twilio
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        if seed:
            self._seed()

    # -- state ------------------------------------------------------------------

    def add_account(self, friendly_name: str = "Another account", status: str = "active",
                    type: str = "Full", sid: str | None = None,
                    auth_token: str | None = None) -> FakeAccount:
        account = FakeAccount(sid or new_sid("AC"), auth_token or new_token(), friendly_name,
                              status, type)
        with self.lock:
            self.accounts[account.sid] = account
        return account

    def add_service(self, account_sid: str, friendly_name: str,
                    inbound_request_url: str | None = None, status_callback: str | None = None,
                    use_inbound_webhook_on_number: bool = False,
                    sid: str | None = None) -> FakeService:
        service = FakeService(sid or new_sid("MG"), friendly_name, inbound_request_url,
                              status_callback, use_inbound_webhook_on_number)
        with self.lock:
            self.accounts[account_sid].services[service.sid] = service
        return service

    def add_number(self, account_sid: str, phone_number: str, service_sid: str | None = None,
                   sid: str | None = None) -> FakeNumber:
        """An incoming number of the account, in the service's sender pool if one is named."""
        number = FakeNumber(sid or new_sid("PN"), phone_number)
        with self.lock:
            account = self.accounts[account_sid]
            account.incoming_numbers[number.sid] = number
            if service_sid:
                account.services[service_sid].phone_numbers.append(number)
        return number

    def _seed(self):
        account = self.add_account("Acme Retail (production)", "active", "Full")
        notifications = self.add_service(
            account.sid, "Acme order notifications",
            inbound_request_url="https://hooks.acme.example/twilio/inbound",
            status_callback="https://hooks.acme.example/twilio/status")
        marketing = self.add_service(account.sid, "Acme marketing")
        self.add_number(account.sid, "+14155550101", notifications.sid)
        self.add_number(account.sid, "+14155550102", notifications.sid)
        self.add_number(account.sid, "+14155550103", marketing.sid)
        self.add_number(account.sid, "+14155550199")

        self.account_sid = account.sid
        self.auth_token = account.auth_token
        self.account_name = account.friendly_name
        self.service_sid = notifications.sid
        self.service_name = notifications.friendly_name
        self.service_numbers = ["+14155550101", "+14155550102"]
        self.second_service_sid = marketing.sid
        self.second_service_name = marketing.friendly_name
        self.second_service_numbers = ["+14155550103"]
        self.unassigned_number = "+14155550199"

    # -- recorded requests --------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self._requests)

    def requests_matching(self, method: str | None = None, host: str | None = None,
                          path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests with this method / Host header / path (each optional)."""
        return [r for r in self.requests
                if (method is None or r.method == method.upper())
                and (host is None or r.host == host)
                and (path is None or r.path == path)]

    def clear_requests(self):
        with self.lock:
            self._requests.clear()

    # -- server -------------------------------------------------------------------

    def start(self) -> "FakeTwilio":
        self._stopping.clear()
        self._server = make_server("127.0.0.1", 0, self.wsgi_app, threaded=True,
                                   request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()  # wakes requests sleeping on `delay`
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- HTTP ---------------------------------------------------------------------

    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        host_header = request.headers.get("Host", "")
        with self.lock:
            self._requests.append(RecordedRequest(
                request.method, host_header, request.path,
                request.query_string.decode("latin-1"),
                request.form.to_dict(), dict(request.headers)))
        if self.delay:
            self._stopping.wait(self.delay)
        try:
            response = self._dispatch(request, host_header.split(":")[0])
        except TwilioFault as fault:
            response = fault.response()
        return response(environ, start_response)

    def _dispatch(self, request: Request, host: str) -> Response:
        account = self._authenticate(request)
        routes = ROUTES.get(host)
        if routes is None:
            raise _not_found(request.path)
        try:
            endpoint, args = routes.bind(host).match(request.path, request.method)
        except NotFound:
            raise _not_found(request.path)
        except MethodNotAllowed:
            raise TwilioFault(405, 20004, "Method not allowed")
        if args.pop("account_sid", account.sid) != account.sid:
            raise _not_found(request.path)  # another account's resources don't exist for you
        with self.lock:
            return getattr(self, "_" + endpoint)(account, request, **args)

    def _authenticate(self, request: Request) -> FakeAccount:
        auth = request.authorization
        with self.lock:
            account = self.accounts.get(auth.username) if auth and auth.type == "basic" else None
        if account is None or auth.password != account.auth_token:
            raise TwilioFault(401, 20003, "Authenticate")
        return account

    # api.twilio.com

    def _account_json(self, account: FakeAccount) -> dict:
        uri = f"/2010-04-01/Accounts/{account.sid}"
        return {
            "auth_token": account.auth_token,
            "date_created": _rfc2822(account.created),
            "date_updated": _rfc2822(account.created),
            "friendly_name": account.friendly_name,
            "owner_account_sid": account.sid,
            "sid": account.sid,
            "status": account.status,
            "subresource_uris": {
                "incoming_phone_numbers": f"{uri}/IncomingPhoneNumbers.json",
                "messages": f"{uri}/Messages.json",
            },
            "type": account.type,
            "uri": f"{uri}.json",
        }

    def _fetch_account(self, account, request):
        return _json(self._account_json(account))

    def _incoming_number_json(self, account: FakeAccount, number: FakeNumber) -> dict:
        digits = number.phone_number[2:] if number.phone_number.startswith("+1") else None
        friendly = (f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if digits and len(digits) == 10
                    else number.phone_number)
        return {
            "account_sid": account.sid,
            "api_version": "2010-04-01",
            "capabilities": {"fax": False, "mms": True, "sms": True, "voice": True},
            "date_created": _rfc2822(number.created),
            "date_updated": _rfc2822(number.created),
            "friendly_name": friendly,
            "origin": "twilio",
            "phone_number": number.phone_number,
            "sid": number.sid,
            "sms_method": "POST",
            "sms_url": "",
            "status": "in-use",
            "status_callback": "",
            "uri": f"/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers/{number.sid}.json",
        }

    def _list_incoming_numbers(self, account, request):
        numbers = list(account.incoming_numbers.values())
        wanted = request.args.get("PhoneNumber")
        if wanted:
            numbers = [n for n in numbers if wanted.lstrip("+") in n.phone_number]
        records = [self._incoming_number_json(account, n) for n in numbers]
        return _json(_api_page(request, "incoming_phone_numbers", records))

    def _message_json(self, message: FakeMessage) -> dict:
        uri = f"/2010-04-01/Accounts/{message.account_sid}/Messages/{message.sid}"
        return {
            "account_sid": message.account_sid,
            "api_version": "2010-04-01",
            "body": message.body,
            "date_created": _rfc2822(message.created),
            "date_sent": None,
            "date_updated": _rfc2822(message.created),
            "direction": "outbound-api",
            "error_code": message.error_code,
            "error_message": message.error_message,
            "from": message.from_,
            "messaging_service_sid": message.messaging_service_sid,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": message.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }

    def _create_message(self, account, request):
        to = request.form.get("To", "")
        service_sid = request.form.get("MessagingServiceSid") or None
        sender = request.form.get("From") or None
        body = request.form.get("Body", "")
        if not to:
            raise TwilioFault(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            raise TwilioFault(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not service_sid and not sender:
            raise TwilioFault(400, 21603, "A 'From' phone number is required.")
        if service_sid and service_sid not in account.services:
            raise TwilioFault(400, 21701, f"The Messaging Service Sid {service_sid} is invalid.")
        if not body and not request.form.get("ContentSid"):
            raise TwilioFault(400, 21602, "Message body is required.")
        message = FakeMessage(
            sid=new_sid("SM"), account_sid=account.sid, to=to, body=body,
            messaging_service_sid=service_sid, from_=sender,
            status_callback=request.form.get("StatusCallback") or None,
            # With a Messaging Service Twilio picks the sender later: "accepted".
            status="accepted" if service_sid else "queued")
        self.messages[message.sid] = message
        return _json(self._message_json(message), 201)

    def _fetch_message(self, account, request, message_sid):
        message = self.messages.get(message_sid)
        if message is None or message.account_sid != account.sid:
            raise _not_found(request.path)
        return _json(self._message_json(message))

    # messaging.twilio.com

    def _service_json(self, account: FakeAccount, service: FakeService) -> dict:
        url = f"https://{MESSAGING_HOST}/v1/Services/{service.sid}"
        return {
            "account_sid": account.sid,
            "area_code_geomatch": True,
            "date_created": _iso(service.created),
            "date_updated": _iso(service.created),
            "fallback_method": "POST",
            "fallback_to_long_code": True,
            "fallback_url": None,
            "friendly_name": service.friendly_name,
            "inbound_method": "POST",
            "inbound_request_url": service.inbound_request_url,
            "links": {"phone_numbers": f"{url}/PhoneNumbers",
                      "short_codes": f"{url}/ShortCodes",
                      "alpha_senders": f"{url}/AlphaSenders"},
            "mms_converter": True,
            "scan_message_content": "inherit",
            "sid": service.sid,
            "smart_encoding": True,
            "status_callback": service.status_callback,
            "sticky_sender": True,
            "synchronous_validation": True,
            "url": url,
            "usecase": "notifications",
            "use_inbound_webhook_on_number": service.use_inbound_webhook_on_number,
            "validity_period": 14400,
        }

    def _service_of(self, account: FakeAccount, service_sid: str, request: Request):
        service = account.services.get(service_sid)
        if service is None:
            raise _not_found(request.path)
        return service

    def _list_services(self, account, request):
        records = [self._service_json(account, s) for s in account.services.values()]
        return _json(_messaging_page(request, "services", records))

    def _fetch_service(self, account, request, service_sid):
        return _json(self._service_json(account, self._service_of(account, service_sid, request)))

    def _update_service(self, account, request, service_sid):
        service = self._service_of(account, service_sid, request)
        form = request.form
        if "FriendlyName" in form:
            service.friendly_name = form["FriendlyName"]
        if "InboundRequestUrl" in form:
            service.inbound_request_url = form["InboundRequestUrl"] or None
        if "StatusCallback" in form:
            service.status_callback = form["StatusCallback"] or None
        if "UseInboundWebhookOnNumber" in form:
            flag = form["UseInboundWebhookOnNumber"]
            service.use_inbound_webhook_on_number = flag.lower() == "true"
        return _json(self._service_json(account, service))

    def _list_service_numbers(self, account, request, service_sid):
        service = self._service_of(account, service_sid, request)
        records = [{
            "account_sid": account.sid,
            "capabilities": ["SMS", "MMS", "Voice"],
            "country_code": "US",
            "date_created": _iso(n.created),
            "date_updated": _iso(n.created),
            "phone_number": n.phone_number,
            "service_sid": service.sid,
            "sid": n.sid,
            "url": f"https://{MESSAGING_HOST}/v1/Services/{service.sid}/PhoneNumbers/{n.sid}",
        } for n in service.phone_numbers]
        return _json(_messaging_page(request, "phone_numbers", records))


def _paging(request: Request, records: list) -> tuple[list, int, int, bool]:
    size = max(1, min(int(request.args.get("PageSize", 50)), 1000))
    page = max(0, int(request.args.get("Page", 0)))
    chunk = records[page * size:(page + 1) * size]
    return chunk, page, size, (page + 1) * size < len(records)


def _api_page(request: Request, key: str, records: list) -> dict:
    """The 2010 API's list shape: relative *_page_uri fields beside the records."""
    chunk, page, size, more = _paging(request, records)

    def uri(n):
        return f"{request.path}?{urlencode({'PageSize': size, 'Page': n})}"

    return {
        key: chunk,
        "end": page * size + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if more else None,
        "page": page,
        "page_size": size,
        "previous_page_uri": uri(page - 1) if page else None,
        "start": page * size,
        "uri": uri(page),
    }


def _messaging_page(request: Request, key: str, records: list) -> dict:
    """The v1 APIs' list shape: absolute URLs in `meta`, naming the record key."""
    chunk, page, size, more = _paging(request, records)

    def url(n):
        return f"https://{MESSAGING_HOST}{request.path}?{urlencode({'PageSize': size, 'Page': n})}"

    return {
        key: chunk,
        "meta": {
            "first_page_url": url(0),
            "key": key,
            "next_page_url": url(page + 1) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_url": url(page - 1) if page else None,
            "url": url(page),
        },
    }


@pytest.fixture
def fake_twilio():
    """A seeded fake Twilio, served for the duration of one test."""
    with FakeTwilio() as fake:
        yield fake
