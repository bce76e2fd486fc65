"""A Twilio simulator: Twilio's REST API answered as a WSGI app, over a store of its state.

One implementation of Twilio's behaviour, two uses: the tests serve it over HTTP on
127.0.0.1 with its state in memory (MemoryStore; tests/support/fake_twilio.py), practice
sandboxes hand it each request in-process with its state in the database, shared by every
process (wizard/providers/twilio/practice_store.py, wizard/providers/transport.py). It routes
on the Host header (api.twilio.com, messaging.twilio.com) and the path, checks Basic auth as
Twilio does (Account SID + Auth Token), answers in Twilio's JSON shapes and error shape, and
records every request.

Given a `deliver` callable, messages also move on their own, as real ones do: a send is
`accepted`, then within a few seconds signed status callbacks report queued, sent and
delivered (or undelivered with error 30003 for an undeliverable number). Each step is a
status change stored with its due time; the Clock of whichever process claims it first
applies it. Without `deliver`, messages stay as they were sent and tests move them by hand."""
import itertools
import json
import logging
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from wizard.providers.twilio.client import TRIAL_PREFIX, TRIAL_UNVERIFIED, TRIAL_UNVERIFIED_CODE

API_HOST = "api.twilio.com"


MESSAGING_HOST = "messaging.twilio.com"


E164 = re.compile(r"^\+[1-9]\d{1,14}$")


log = logging.getLogger(__name__)


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def new_token() -> str:
    return uuid.uuid4().hex


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment)  # "Wed, 27 Nov 2024 11:44:00 +0000", as the 2010 API


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Number:
    sid: str
    phone_number: str
    created: datetime = field(default_factory=_now)


@dataclass
class Campaign:
    """A Messaging Service's US A2P 10DLC campaign (Compliance/Usa2p)."""
    sid: str
    campaign_status: str  # IN_PROGRESS, VERIFIED, FAILED
    brand_registration_sid: str = field(default_factory=lambda: new_sid("BN"))
    campaign_id: str | None = None
    us_app_to_person_usecase: str = "MIXED"
    errors: list = field(default_factory=list)
    created: datetime = field(default_factory=_now)


@dataclass
class TollfreeVerification:
    """A toll-free number's verification (Tollfree/Verifications)."""
    sid: str
    tollfree_phone_number_sid: str
    tollfree_phone_number: str
    status: str  # PENDING_REVIEW, IN_REVIEW, TWILIO_APPROVED, TWILIO_REJECTED
    rejection_reason: str | None = None
    error_code: int | None = None
    created: datetime = field(default_factory=_now)


@dataclass
class Service:
    sid: str
    friendly_name: str
    inbound_request_url: str | None = None
    status_callback: str | None = None
    use_inbound_webhook_on_number: bool = False
    phone_numbers: list[Number] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    created: datetime = field(default_factory=_now)


@dataclass
class Message:
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
class Account:
    sid: str
    auth_token: str
    friendly_name: str
    status: str = "active"  # active, suspended, closed
    type: str = "Full"  # Trial, Full
    services: dict[str, Service] = field(default_factory=dict)
    incoming_numbers: dict[str, Number] = field(default_factory=dict)
    tollfree_verifications: dict[str, TollfreeVerification] = field(default_factory=dict)
    verified_numbers: list[str] = field(default_factory=list)  # OutgoingCallerIds: who a Trial account reaches
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
    # "201 Created", as Twilio's status line has it (werkzeug would say "201 CREATED").
    return Response(json.dumps(body), f"{status} {HTTP_STATUS_CODES.get(status, '')}".strip(),
                    content_type="application/json; charset=utf-8")


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
        Rule("/2010-04-01/Accounts/<account_sid>/OutgoingCallerIds.json",
             endpoint="list_outgoing_caller_ids", methods=["GET"]),
    ]),
    MESSAGING_HOST: Map([
        Rule("/v1/Services", endpoint="list_services", methods=["GET"]),
        Rule("/v1/Services/<service_sid>", endpoint="fetch_service", methods=["GET"]),
        Rule("/v1/Services/<service_sid>", endpoint="update_service", methods=["POST"]),
        Rule("/v1/Services/<service_sid>/PhoneNumbers",
             endpoint="list_service_numbers", methods=["GET"]),
        Rule("/v1/Services/<service_sid>/Compliance/Usa2p", endpoint="list_campaigns", methods=["GET"]),
        Rule("/v1/Tollfree/Verifications", endpoint="list_tollfree_verifications", methods=["GET"]),
        # Setting up a service from the wizard (creating it, adding numbers to its sender pool).
        Rule("/v1/Services", endpoint="create_service", methods=["POST"]),
        Rule("/v1/Services/<service_sid>/PhoneNumbers",
             endpoint="add_service_number", methods=["POST"]),
    ]),
}


# How a message moves after it is accepted: (status, seconds after the step before).
DELIVERED_STEPS = (("queued", 0.5), ("sent", 1.0), ("delivered", 1.0))


UNDELIVERED_STEPS = (("queued", 0.5), ("sent", 1.0), ("undelivered", 1.0))


UNDELIVERED_ERROR = (30003, "Unreachable destination handset")




# deliver(url, params, signature): hand a signed webhook request to whoever serves `url`;
# returns the answer's status and body, or None when nobody there takes it.
Deliver = Callable[[str, dict, str], "tuple[int, str] | None"]


# A status only moves forward: a step taken again (its claim's lease ran out) never moves a message back.
STATUS_RANK = {"accepted": 0, "queued": 1, "sent": 2, "delivered": 3, "undelivered": 3}


@dataclass
class World:
    """Everything Twilio knows but its messages: the accounts and what hangs off them, the numbers that
    fail, and the reset generation (bumped by reset(): status changes of an earlier one are dropped)."""
    accounts: dict[str, Account] = field(default_factory=dict)
    invalid_numbers: set[str] = field(default_factory=set)  # To numbers Twilio refuses with 21211
    undeliverable_numbers: set[str] = field(default_factory=set)  # To numbers whose messages end undelivered (30003)
    generation: int = 0

    def add_account(self, friendly_name: str = "Another account", status: str = "active",
                    type: str = "Full", sid: str | None = None,
                    auth_token: str | None = None) -> Account:
        account = Account(sid or new_sid("AC"), auth_token or new_token(), friendly_name, status, type)
        self.accounts[account.sid] = account
        return account

    def add_service(self, account_sid: str, friendly_name: str,
                    inbound_request_url: str | None = None, status_callback: str | None = None,
                    use_inbound_webhook_on_number: bool = False,
                    sid: str | None = None) -> Service:
        service = Service(sid or new_sid("MG"), friendly_name, inbound_request_url,
                          status_callback, use_inbound_webhook_on_number)
        self.accounts[account_sid].services[service.sid] = service
        return service

    def add_number(self, account_sid: str, phone_number: str, service_sid: str | None = None,
                   sid: str | None = None) -> Number:
        """An incoming number of the account, in the service's sender pool if one is named."""
        number = Number(sid or new_sid("PN"), phone_number)
        account = self.accounts[account_sid]
        account.incoming_numbers[number.sid] = number
        if service_sid:
            account.services[service_sid].phone_numbers.append(number)
        return number

    def add_campaign(self, account_sid: str, service_sid: str, campaign_status: str,
                     errors: list | None = None) -> Campaign:
        """The service's US A2P 10DLC campaign (a service has at most one)."""
        campaign = Campaign(new_sid("QE"), campaign_status, errors=list(errors or []),
                            campaign_id="C" + uuid.uuid4().hex[:6].upper() if campaign_status == "VERIFIED" else None)
        self.accounts[account_sid].services[service_sid].campaigns[:] = [campaign]
        return campaign

    def add_tollfree_verification(self, account_sid: str, number_sid: str, status: str,
                                  rejection_reason: str | None = None, error_code: int | None = None,
                                  sid: str | None = None) -> TollfreeVerification:
        """A verification submitted for the account's toll-free number `number_sid`."""
        account = self.accounts[account_sid]
        number = account.incoming_numbers[number_sid]
        verification = TollfreeVerification(sid or new_sid("HH"), number.sid, number.phone_number, status,
                                            rejection_reason, error_code)
        account.tollfree_verifications[verification.sid] = verification
        return verification

    # -- as one JSON document (the practice world is one database row) --------------------

    def to_json(self) -> str:
        return json.dumps({
            "generation": self.generation,
            "invalid_numbers": sorted(self.invalid_numbers),
            "undeliverable_numbers": sorted(self.undeliverable_numbers),
            "accounts": [_account_document(a) for a in self.accounts.values()],
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "World":
        document = json.loads(text)
        accounts = [_account_from(a) for a in document["accounts"]]
        return cls({a.sid: a for a in accounts}, set(document["invalid_numbers"]),
                   set(document["undeliverable_numbers"]), document["generation"])


def _flat(record) -> dict:
    """A dataclass of plain fields as JSON: its `created` moment as ISO 8601."""
    return {name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in vars(record).items()}


def _unflat(kind, document: dict):
    return kind(**{**document, "created": datetime.fromisoformat(document["created"])})


def _account_document(account: Account) -> dict:
    return {
        **{name: value for name, value in _flat(account).items()
           if name not in ("services", "incoming_numbers", "tollfree_verifications")},
        "incoming_numbers": [_flat(n) for n in account.incoming_numbers.values()],
        "tollfree_verifications": [_flat(v) for v in account.tollfree_verifications.values()],
        "services": [{**{name: value for name, value in _flat(s).items() if name not in ("phone_numbers", "campaigns")},
                      "phone_numbers": [n.sid for n in s.phone_numbers],  # the account's numbers, by SID
                      "campaigns": [_flat(c) for c in s.campaigns]} for s in account.services.values()],
    }


def _account_from(document: dict) -> Account:
    numbers = {n["sid"]: _unflat(Number, n) for n in document["incoming_numbers"]}
    services = {}
    for s in document["services"]:
        fields = {name: value for name, value in s.items() if name not in ("phone_numbers", "campaigns")}
        service = _unflat(Service, fields)
        service.phone_numbers = [numbers[sid] for sid in s["phone_numbers"]]
        service.campaigns = [_unflat(Campaign, c) for c in s["campaigns"]]
        services[service.sid] = service
    fields = {name: value for name, value in document.items()
              if name not in ("services", "incoming_numbers", "tollfree_verifications")}
    account = _unflat(Account, fields)
    account.incoming_numbers = numbers
    account.services = services
    account.tollfree_verifications = {v["sid"]: _unflat(TollfreeVerification, v)
                                      for v in document["tollfree_verifications"]}
    return account


def message_document(message: Message) -> str:
    return json.dumps(_flat(message), sort_keys=True)


def message_from(text: str) -> Message:
    return _unflat(Message, json.loads(text))


@dataclass(frozen=True)
class StatusChange:
    """A message's next status, due at `due` (wall-clock epoch seconds: processes share no clock
    but the wall's). `claim` names whoever took it to apply."""
    id: int
    message_sid: str
    status: str
    due: float
    generation: int
    claim: str | None = None


class MemoryStore:
    """The simulator's state in this process's memory (the tests' fake Twilio).

    The store interface, which wizard/providers/twilio/practice_store.py implements on the database:
    world() gives the world to read or change (changes kept when the block ends without error);
    message()/save_message()/messages(); schedule() status changes, claim_due() those due, done()
    once applied; next_due(); pending(); reset(seed)."""

    MAX_PENDING = 600

    def __init__(self):
        self.lock = threading.RLock()
        self.state = World()
        self.messages_by_sid: dict[str, Message] = {}
        self._changes: dict[int, StatusChange] = {}
        self._ids = itertools.count(1)

    @contextmanager
    def world(self, write: bool = True):
        with self.lock:
            yield self.state

    def message(self, sid: str) -> Message | None:
        with self.lock:
            return self.messages_by_sid.get(sid)

    def save_message(self, message: Message):
        with self.lock:
            self.messages_by_sid[message.sid] = message

    def messages(self) -> dict[str, Message]:
        with self.lock:
            return dict(self.messages_by_sid)

    def schedule(self, changes: list[tuple[str, str, float]], generation: int) -> bool:
        with self.lock:
            if len(self._changes) + len(changes) > self.MAX_PENDING:
                return False
            for sid, status, due in changes:
                change = StatusChange(next(self._ids), sid, status, due, generation)
                self._changes[change.id] = change
            return True

    def claim_due(self, now: float, lease: float) -> list[StatusChange]:
        with self.lock:
            due = sorted((c for c in self._changes.values() if c.due <= now and c.claim is None),
                         key=lambda c: (c.due, c.id))
            claimed = [StatusChange(c.id, c.message_sid, c.status, c.due, c.generation, "this process") for c in due]
            self._changes.update((c.id, c) for c in claimed)
            return claimed

    def done(self, change: StatusChange):
        with self.lock:
            self._changes.pop(change.id, None)

    def next_due(self, now: float) -> float | None:
        with self.lock:
            return min((c.due for c in self._changes.values() if c.claim is None), default=None)

    def pending(self) -> int:
        with self.lock:
            return len(self._changes)

    def reset(self, seed: Callable[[World], None] | None):
        with self.lock:
            self.state = World(generation=self.state.generation + 1)
            if seed:
                seed(self.state)
            self.messages_by_sid.clear()
            self._changes.clear()

    def usable(self) -> bool:
        return True


class Clock:
    """Applies due status changes on one background thread of this process: woken at once for a change
    scheduled here, and every POLL_SECONDS it looks for those other processes scheduled. A claim is
    held for LEASE_SECONDS: one whose process died mid-delivery is taken again after that."""

    POLL_SECONDS = 0.5
    LEASE_SECONDS = 10.0

    def __init__(self, simulator: "TwilioSimulator"):
        self._simulator = simulator
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self):
        with self._starting:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="twilio-simulator-clock", daemon=True)
                self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self):
        self._wake.set()

    def stop(self, timeout: float = 5):
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self):
        store = self._simulator.store
        while not self._stopping.is_set() and store.usable():
            self._wake.clear()
            wait = self.POLL_SECONDS
            try:
                changes = store.claim_due(time.time(), self.LEASE_SECONDS)
                for change in changes:
                    try:
                        self._simulator.apply(change)
                    except Exception:  # a failed delivery must not stop the ones after it
                        log.exception("twilio simulator: a status change failed")
                    finally:
                        store.done(change)
                if changes:
                    continue
                due = store.next_due(time.time())
                if due is not None:
                    wait = min(max(due - time.time(), 0.0), self.POLL_SECONDS)
            except Exception:  # the database away for a moment: try again at the next tick
                log.exception("twilio simulator: could not read the status changes")
            self._wake.wait(wait)


class TwilioSimulator:
    """Twilio's behaviour (a WSGI app, `wsgi_app`, that answers its REST API) over a store of its state:
    MemoryStore (the tests' fake Twilio) or the database's (practice, shared by every process).

    `seed(world)` fills it at start and on reset(); `deliver` (see Deliver) makes messages move and
    carries their signed status callbacks, applied by this process's Clock.
    """

    def __init__(self, seed: Callable[[World], None] | None = None,
                 deliver: Deliver | None = None, keep_requests: int | None = None, store=None):
        self.lock = threading.RLock()
        if store is None:
            store = MemoryStore()
            if seed:
                seed(store.state)
        self.store = store
        # Recorded requests (what tests inspect) stay in this process, whichever store holds the state.
        self._requests: deque[RecordedRequest] = deque(maxlen=keep_requests)
        self._seed = seed
        self.deliver = deliver
        self.clock = Clock(self)

    def reset(self):
        """Back to the seeded state: messages, pending status changes and recorded requests gone."""
        self.store.reset(self._seed)
        self.clear_requests()

    def stop(self):
        """Stop this process's clock (the store keeps what is pending, for another process)."""
        self.clock.stop()

    # -- state ------------------------------------------------------------------

    def world(self, write: bool = True):
        """`with simulator.world() as world:` the world to read or change, kept when the block ends."""
        return self.store.world(write)

    def messages(self) -> dict[str, Message]:
        """The messages sent so far, by SID: a copy, as they are now."""
        return self.store.messages()

    def wait_until_idle(self, timeout: float) -> bool:
        """True once no status change is pending, in any process (tests use it to let messages finish)."""
        deadline = time.monotonic() + timeout
        while self.store.pending():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

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

    # -- HTTP ---------------------------------------------------------------------

    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        self.record(request)
        return self.respond(request)(environ, start_response)

    def record(self, request: Request):
        with self.lock:
            self._requests.append(RecordedRequest(
                request.method, request.headers.get("Host", ""), request.path,
                request.query_string.decode("latin-1"),
                request.form.to_dict(), dict(request.headers)))

    def respond(self, request: Request) -> Response:
        try:
            return self._dispatch(request, request.headers.get("Host", "").split(":")[0])
        except TwilioFault as fault:
            return fault.response()

    def _dispatch(self, request: Request, host: str) -> Response:
        # One request, one reading of the world: a POST holds it (locked, in one transaction on the
        # database) until its change is kept; Twilio's GETs change nothing.
        with self.world(write=request.method != "GET") as world:
            account = self._authenticate(world, request)
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
            response = getattr(self, "_" + endpoint)(world, account, request, **args)
        if endpoint == "create_message" and self.clock.running:
            self.clock.wake()  # its status changes are committed now: the clock sees them
        return response

    def _authenticate(self, world: World, request: Request) -> Account:
        auth = request.authorization
        account = world.accounts.get(auth.username) if auth and auth.type == "basic" else None
        if account is None or auth.password != account.auth_token:
            raise TwilioFault(401, 20003, "Authenticate")
        return account

    # api.twilio.com

    def _account_json(self, account: Account) -> dict:
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

    def _fetch_account(self, world, account, request):
        return _json(self._account_json(account))

    def _incoming_number_json(self, account: Account, number: Number) -> dict:
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

    def _list_incoming_numbers(self, world, account, request):
        numbers = list(account.incoming_numbers.values())
        wanted = request.args.get("PhoneNumber")
        if wanted:
            numbers = [n for n in numbers if wanted.lstrip("+") in n.phone_number]
        records = [self._incoming_number_json(account, n) for n in numbers]
        return _json(_api_page(request, "incoming_phone_numbers", records))

    def _message_json(self, message: Message) -> dict:
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

    def _create_message(self, world, account, request):
        to = request.form.get("To", "")
        service_sid = request.form.get("MessagingServiceSid") or None
        sender = request.form.get("From") or None
        body = request.form.get("Body", "")
        if not to:
            raise TwilioFault(400, 21604, "A 'To' phone number is required.")
        if not self.valid_to(world, to):
            raise TwilioFault(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not service_sid and not sender:
            raise TwilioFault(400, 21603, "A 'From' phone number is required.")
        if service_sid and service_sid not in account.services:
            raise TwilioFault(400, 21701, f"The Messaging Service Sid {service_sid} is invalid.")
        if not body and not request.form.get("ContentSid"):
            raise TwilioFault(400, 21602, "Message body is required.")
        body = self._trial_body(account, to, body)
        message = Message(
            sid=new_sid("SM"), account_sid=account.sid, to=to, body=body,
            messaging_service_sid=service_sid, from_=sender,
            status_callback=request.form.get("StatusCallback") or None,
            # With a Messaging Service Twilio picks the sender later: "accepted".
            status="accepted" if service_sid else "queued")
        self.store.save_message(message)
        if self.deliver is not None:
            self._move_on(world, message)
        return _json(self._message_json(message), 201)

    def valid_to(self, world: World, to: str) -> bool:
        """Whether Twilio takes `to` as a recipient (else error 21211)."""
        return bool(E164.match(to)) and to not in world.invalid_numbers

    def _fetch_message(self, world, account, request, message_sid):
        message = self.store.message(message_sid)
        if message is None or message.account_sid != account.sid:
            raise _not_found(request.path)
        return _json(self._message_json(message))

    # messaging.twilio.com

    def _service_json(self, account: Account, service: Service) -> dict:
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

    def _service_of(self, account: Account, service_sid: str, request: Request):
        service = account.services.get(service_sid)
        if service is None:
            raise _not_found(request.path)
        return service

    def _list_services(self, world, account, request):
        records = [self._service_json(account, s) for s in account.services.values()]
        return _json(_messaging_page(request, "services", records))

    def _fetch_service(self, world, account, request, service_sid):
        return _json(self._service_json(account, self._service_of(account, service_sid, request)))

    def _update_service(self, world, account, request, service_sid):
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

    def _list_service_numbers(self, world, account, request, service_sid):
        service = self._service_of(account, service_sid, request)
        records = [self._service_number_json(account, service, n) for n in service.phone_numbers]
        return _json(_messaging_page(request, "phone_numbers", records))

    # -- setting up from the wizard: services created, numbers added, Trial accounts ---------

    def _create_service(self, world, account, request):
        name = request.form.get("FriendlyName", "")
        if not name:
            raise TwilioFault(400, 20001, "Missing required parameter FriendlyName in the post body")
        if len(name) > 64:
            raise TwilioFault(400, 20001, "FriendlyName must be 64 characters or fewer")
        service = Service(new_sid("MG"), name, request.form.get("InboundRequestUrl") or None,
                          request.form.get("StatusCallback") or None)
        account.services[service.sid] = service
        return _json(self._service_json(account, service), 201)

    def _service_number_json(self, account: Account, service: Service, number: Number) -> dict:
        return {
            "account_sid": account.sid,
            "capabilities": ["SMS", "MMS", "Voice"],
            "country_code": "US",
            "date_created": _iso(number.created),
            "date_updated": _iso(number.created),
            "phone_number": number.phone_number,
            "service_sid": service.sid,
            "sid": number.sid,
            "url": f"https://{MESSAGING_HOST}/v1/Services/{service.sid}/PhoneNumbers/{number.sid}",
        }

    def _add_service_number(self, world, account, request, service_sid):
        """Twilio's rules: a number of the account, in one Messaging Service at a time."""
        service = self._service_of(account, service_sid, request)
        number_sid = request.form.get("PhoneNumberSid", "")
        if not number_sid:
            raise TwilioFault(400, 20001, "Missing required parameter PhoneNumberSid in the post body")
        number = account.incoming_numbers.get(number_sid)
        if number is None:
            raise TwilioFault(400, 21421, "Phone Number is invalid")
        if number in service.phone_numbers:
            raise TwilioFault(409, 80104, "PhoneNumber has already been added to Service")
        if any(number in other.phone_numbers for other in account.services.values()):
            raise TwilioFault(400, 21712, "Phone Number or Short Code is associated with another Messaging Service.")
        service.phone_numbers.append(number)
        return _json(self._service_number_json(account, service, number), 201)

    def _list_outgoing_caller_ids(self, world, account, request):
        records = [{
            "account_sid": account.sid,
            "date_created": _rfc2822(account.created),
            "date_updated": _rfc2822(account.created),
            "friendly_name": number,
            "phone_number": number,
            "sid": "PN" + uuid.uuid5(uuid.NAMESPACE_URL, account.sid + number).hex,
            "uri": f"/2010-04-01/Accounts/{account.sid}/OutgoingCallerIds/PN.json",
        } for number in account.verified_numbers]
        return _json(_api_page(request, "outgoing_caller_ids", records))

    def _trial_body(self, account: Account, to: str, body: str) -> str:
        """A Trial account reaches only its verified numbers (21608), and Twilio prefixes its messages."""
        if account.type != "Trial":
            return body
        if to not in account.verified_numbers:
            raise TwilioFault(400, TRIAL_UNVERIFIED_CODE, TRIAL_UNVERIFIED.format(to=to))
        return TRIAL_PREFIX + body

    def _list_campaigns(self, world, account, request, service_sid):
        service = self._service_of(account, service_sid, request)
        base = f"https://{MESSAGING_HOST}/v1/Services/{service.sid}/Compliance/Usa2p"
        records = [{
            "account_sid": account.sid,
            "age_gated": False,
            "brand_registration_sid": c.brand_registration_sid,
            "campaign_id": c.campaign_id,
            "campaign_status": c.campaign_status,
            "date_created": _iso(c.created),
            "date_updated": _iso(c.created),
            "description": "Order updates and delivery notices for customers who opted in at checkout.",
            "direct_lending": False,
            "errors": c.errors,
            "has_embedded_links": True,
            "has_embedded_phone": False,
            "help_keywords": ["HELP", "INFO"],
            "is_externally_registered": False,
            "message_flow": "Customers opt in at checkout on the website.",
            "message_samples": ["Your order has shipped."],
            "messaging_service_sid": service.sid,
            "mock": False,
            "opt_out_keywords": ["STOP"],
            "rate_limits": {},
            "sid": c.sid,
            "subscriber_opt_in": True,
            "url": f"{base}/{c.sid}",
            "us_app_to_person_usecase": c.us_app_to_person_usecase,
        } for c in service.campaigns]
        return _json(_messaging_page(request, "compliance", records))

    def _list_tollfree_verifications(self, world, account, request):
        wanted = request.args.get("TollfreePhoneNumberSid")
        status = request.args.get("Status")
        found = [v for v in account.tollfree_verifications.values()
                 if (not wanted or v.tollfree_phone_number_sid == wanted) and (not status or v.status == status)]
        records = [{
            "account_sid": account.sid,
            "business_name": "Demo Retail",
            "date_created": _iso(v.created),
            "date_updated": _iso(v.created),
            "edit_allowed": v.status == "TWILIO_REJECTED",
            "error_code": v.error_code,
            "rejection_reason": v.rejection_reason,
            "rejection_reasons": ([{"code": v.error_code, "reason": v.rejection_reason}]
                                  if v.rejection_reason else None),
            "sid": v.sid,
            "status": v.status,
            "tollfree_phone_number": v.tollfree_phone_number,
            "tollfree_phone_number_sid": v.tollfree_phone_number_sid,
            "url": f"https://{MESSAGING_HOST}/v1/Tollfree/Verifications/{v.sid}",
        } for v in found]
        return _json(_messaging_page(request, "verifications", records))

    # -- messages that move, and the webhooks Twilio sends ----------------------------

    def _move_on(self, world: World, message: Message):
        """Schedule the message's statuses; each step is stored here and reported by callback."""
        steps = UNDELIVERED_STEPS if message.to in world.undeliverable_numbers else DELIVERED_STEPS
        due, changes = time.time(), []
        for status, after in steps:
            due += after
            changes.append((message.sid, status, due))
        if not self.store.schedule(changes, world.generation):
            log.warning("twilio simulator: too many messages in flight; %s stays %s", message.sid, message.status)
            return
        self.clock.start()

    def apply(self, change: StatusChange):
        """A due status change: stored on the message, then reported by its signed callback."""
        with self.world() as world:
            message = self.store.message(change.message_sid)
            if message is None or change.generation != world.generation:
                return  # reset since it was sent
            if STATUS_RANK[change.status] <= STATUS_RANK.get(message.status, 0):
                return  # taken again after its lease ran out, and the message has moved on since
            account = world.accounts.get(message.account_sid)
            service = account.services.get(message.messaging_service_sid) if account else None
            if message.from_ is None and service and service.phone_numbers:
                message.from_ = service.phone_numbers[0].phone_number  # the pool's sender
            message.status = change.status
            if change.status == "undelivered":
                message.error_code, message.error_message = UNDELIVERED_ERROR
            self.store.save_message(message)
            # A callback URL given with the send wins over the Messaging Service's.
            url = message.status_callback or (service.status_callback if service else None)
            params = self._status_params(message)
            token = account.auth_token if account else None
        if url and token and self.deliver is not None:
            self._signed_delivery(url, params, token)

    def _status_params(self, message: Message) -> dict:
        params = {
            "AccountSid": message.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_ or "",
            "MessageSid": message.sid,
            "MessageStatus": message.status,
            "SmsSid": message.sid,
            "SmsStatus": message.status,
            "To": message.to,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if message.error_code:
            params["ErrorCode"] = str(message.error_code)
        return params

    def _signed_delivery(self, url: str, params: dict, auth_token: str):
        signature = RequestValidator(auth_token).compute_signature(url, params)
        answer = self.deliver(url, params, signature)
        if answer is None:
            log.info("twilio simulator: nobody here serves %s; the webhook was not delivered", url)
        elif not 200 <= answer[0] < 300:
            log.warning("twilio simulator: %s answered %s", url, answer[0])
        return answer

    def inbound(self, account_sid: str, to: str, from_: str, body: str, url: str) -> "tuple[int, str] | None":
        """A person texts `body` from `from_` to the account's number `to`: Twilio posts it to `url`,
        signed. Returns the webhook's answer (status, body: the TwiML reply), None if not delivered."""
        with self.world(write=False) as world:
            account = world.accounts.get(account_sid)
            if account is None:
                raise KeyError(account_sid)
            service = next((s for s in account.services.values()
                            if any(n.phone_number == to for n in s.phone_numbers)), None)
            sid = new_sid("SM")
            params = {
                "ToCountry": "US", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
                "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
                "Body": body, "FromCountry": "", "To": to, "ToZip": "", "NumSegments": "1",
                "MessageSid": sid, "AccountSid": account.sid, "From": from_, "ApiVersion": "2010-04-01",
            }
            if service is not None:
                params["MessagingServiceSid"] = service.sid
            token = account.auth_token
        if self.deliver is None:
            return None
        return self._signed_delivery(url, params, token)


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


@dataclass(frozen=True)
class PracticeAccount:
    sid: str
    auth_token: str
    friendly_name: str
    status: str
    type: str


@dataclass(frozen=True)
class PracticeService:
    sid: str
    friendly_name: str
    numbers: tuple[str, ...]


DEMO_ACCOUNT = PracticeAccount("AC0123456789abcdef0123456789abcdef", "c0ffee00c0ffee00c0ffee00c0ffee00",
                               "Demo Retail (practice)", "active", "Full")


DEMO_SERVICES = (
    PracticeService("MG11111111111111111111111111111111", "Demo order notifications",
                    ("+12025550101", "+12025550102")),
    PracticeService("MG22222222222222222222222222222222", "Demo marketing", ("+12025550103", "+18335550104")),
)


# US sending readiness in practice: the notifications service's A2P campaign is verified, the
# marketing one's still in review, and the toll-free number's verification was rejected.
DEMO_CAMPAIGNS = {DEMO_SERVICES[0].sid: "VERIFIED", DEMO_SERVICES[1].sid: "IN_PROGRESS"}


DEMO_TOLL_FREE_NUMBER = "+18335550104"


DEMO_TOLL_FREE_REJECTION = ("The business website given in the verification could not be opened, so the "
                            "use case could not be confirmed.")


DEMO_UNASSIGNED_NUMBER = "+12025550109"  # on the account, in no service's sender pool


TRIAL_ACCOUNT = PracticeAccount("AC7777777777777777777777777777777a", "7a1a17a1a17a1a17a1a17a1a17a1a17a",
                                "Demo trial account (practice)", "active", "Trial")


TRIAL_SERVICE = PracticeService("MG77777777777777777777777777777777", "Trial notifications", ("+12025550171",))


SUSPENDED_ACCOUNT = PracticeAccount("AC5555555555555555555555555555555f", "5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f",
                                    "Demo suspended account (practice)", "suspended", "Full")


# A fresh Full account, as many admins start: one number, no Messaging Service yet.
FRESH_ACCOUNT = PracticeAccount("AC6666666666666666666666666666666e", "6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e",
                                "Demo new account (practice)", "active", "Full")


FRESH_NUMBER = "+12025550161"


PRACTICE_ACCOUNTS = (DEMO_ACCOUNT, TRIAL_ACCOUNT, SUSPENDED_ACCOUNT, FRESH_ACCOUNT)


# Recipients that show what goes wrong: Twilio's own test number for an invalid To (21211),
# and a phone that never gets the message (undelivered, 30003).
INVALID_TO_NUMBER = "+15005550001"


UNDELIVERABLE_NUMBER = "+12025550199"


# Who texts in when the trainer simulates a reply, unless another number is typed.
PRACTICE_PHONE = "+12025550150"


# The Trial account's verified caller IDs: the only phones it can send to.
TRIAL_VERIFIED_NUMBERS = (PRACTICE_PHONE, "+12025550177")


# The demo service's webhooks before anyone applies ours: another platform's, as in a real migration.
PREVIOUS_WEBHOOKS = ("https://old-platform.example/twilio/inbound", "https://old-platform.example/twilio/status")


def practice_seed(world: World):
    """The demo Full account with two Messaging Services, a Trial account with verified numbers, a suspended
    account, and a fresh Full account with a number in no service."""
    demo = world.add_account(DEMO_ACCOUNT.friendly_name, DEMO_ACCOUNT.status, DEMO_ACCOUNT.type,
                                 sid=DEMO_ACCOUNT.sid, auth_token=DEMO_ACCOUNT.auth_token)
    for index, service in enumerate(DEMO_SERVICES):
        inbound, status = PREVIOUS_WEBHOOKS if index == 0 else (None, None)
        world.add_service(demo.sid, service.friendly_name, inbound, status, sid=service.sid)
        for n, number in enumerate(service.numbers):
            added = world.add_number(demo.sid, number, service.sid, sid=f"PN{index + 1}{n + 1}".ljust(34, "0"))
            if number == DEMO_TOLL_FREE_NUMBER:
                world.add_tollfree_verification(demo.sid, added.sid, "TWILIO_REJECTED", DEMO_TOLL_FREE_REJECTION,
                                                    sid="HH".ljust(34, "1"))
        world.add_campaign(demo.sid, service.sid, DEMO_CAMPAIGNS[service.sid])
    world.add_number(demo.sid, DEMO_UNASSIGNED_NUMBER, sid="PN9".ljust(34, "0"))
    for account, service in ((TRIAL_ACCOUNT, TRIAL_SERVICE), (SUSPENDED_ACCOUNT, None)):
        world.add_account(account.friendly_name, account.status, account.type, sid=account.sid,
                              auth_token=account.auth_token)
        if service:
            world.add_service(account.sid, service.friendly_name, sid=service.sid)
            for number in service.numbers:
                world.add_number(account.sid, number, service.sid, sid="PN7".ljust(34, "0"))
    world.accounts[TRIAL_ACCOUNT.sid].verified_numbers.extend(TRIAL_VERIFIED_NUMBERS)
    fresh = world.add_account(FRESH_ACCOUNT.friendly_name, FRESH_ACCOUNT.status, FRESH_ACCOUNT.type,
                                  sid=FRESH_ACCOUNT.sid, auth_token=FRESH_ACCOUNT.auth_token)
    world.add_number(fresh.sid, FRESH_NUMBER, sid="PN6".ljust(34, "0"))
    world.invalid_numbers.add(INVALID_TO_NUMBER)
    world.undeliverable_numbers.add(UNDELIVERABLE_NUMBER)
