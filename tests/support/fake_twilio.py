"""A fake Twilio REST server on 127.0.0.1 for tests: the real twilio client talks to it
through wizard.providers.twilio.client.OriginRewritingHttpClient.

Twilio's behaviour is wizard.providers.twilio.simulator.TwilioSimulator (practice sandboxes use the
same one in-process); this serves it over HTTP and seeds it with the tests' account.
Its state is in memory (the simulator's MemoryStore), so tests change it directly:

    fake_twilio.accounts[fake_twilio.account_sid].status = "suspended"
    fake_twilio.invalid_numbers.add("+14155550199")
    fake_twilio.add_service(fake_twilio.account_sid, "Empty service")
    fake_twilio.delay = 2
"""
import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from wizard.providers.twilio.simulator import (
    API_HOST,
    E164,
    MESSAGING_HOST,
    ROUTES,
    RecordedRequest,
    TwilioFault,
    TwilioSimulator,
    new_sid,
    new_token,
)
from wizard.providers.twilio.simulator import Account as FakeAccount
from wizard.providers.twilio.simulator import Message as FakeMessage
from wizard.providers.twilio.simulator import Number as FakeNumber
from wizard.providers.twilio.simulator import Service as FakeService

# The names tests import from here, as before the simulator moved into wizard/.
__all__ = ["API_HOST", "E164", "MESSAGING_HOST", "ROUTES", "FakeAccount", "FakeMessage", "FakeNumber", "FakeService",
           "FakeTwilio", "RecordedRequest", "TwilioFault", "fake_twilio", "new_sid", "new_token"]


class _Simulator(TwilioSimulator):
    def valid_to(self, world, to: str) -> bool:
        # Looked up when asked: a test may narrow valid numbers by patching this module's E164.
        return bool(E164.match(to)) and to not in world.invalid_numbers


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class FakeTwilio:
    """A TwilioSimulator; `start()` serves it on 127.0.0.1 at `self.base_url`."""

    def __init__(self, seed: bool = True):
        self.simulator = _Simulator()
        self.delay = 0.0  # seconds to wait before answering: a slow Twilio
        self.slow_accounts: dict[str, float] = {}  # Account SID -> seconds: slow for that account only
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        if seed:
            self._seed()

    # -- state: the simulator's ------------------------------------------------------

    @property
    def lock(self):
        return self.simulator.store.lock

    @property
    def accounts(self):
        return self.simulator.store.state.accounts

    @property
    def invalid_numbers(self):
        return self.simulator.store.state.invalid_numbers

    @property
    def messages(self):
        return self.simulator.store.messages_by_sid

    def add_account(self, *args, **kwargs):
        return self.simulator.store.state.add_account(*args, **kwargs)

    def add_service(self, *args, **kwargs):
        return self.simulator.store.state.add_service(*args, **kwargs)

    def add_number(self, *args, **kwargs):
        """An incoming number of the account, in the service's sender pool if one is named."""
        return self.simulator.store.state.add_number(*args, **kwargs)

    def add_campaign(self, *args, **kwargs):
        """The service's A2P 10DLC campaign: add_campaign(account_sid, service_sid, "VERIFIED")."""
        return self.simulator.store.state.add_campaign(*args, **kwargs)

    def add_tollfree_verification(self, *args, **kwargs):
        """add_tollfree_verification(account_sid, number_sid, "TWILIO_REJECTED", "reason")."""
        return self.simulator.store.state.add_tollfree_verification(*args, **kwargs)

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
    def requests(self):
        return self.simulator.requests

    def requests_matching(self, method=None, host=None, path=None):
        """Recorded requests with this method / Host header / path (each optional)."""
        return self.simulator.requests_matching(method, host, path)

    def clear_requests(self):
        self.simulator.clear_requests()

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

    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        self.simulator.record(request)
        auth = request.authorization
        delay = self.slow_accounts.get(auth.username if auth else "", 0) or self.delay
        if delay:
            self._stopping.wait(delay)
        return self.simulator.respond(request)(environ, start_response)


@pytest.fixture
def fake_twilio():
    """A seeded fake Twilio, served for the duration of one test."""
    with FakeTwilio() as fake:
        yield fake
