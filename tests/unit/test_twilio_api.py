"""The Twilio adapter with the real twilio twilio, against the fake Twilio server."""
import socket

import pytest

from tests.support.fake_twilio import API_HOST, MESSAGING_HOST, new_sid
from wizard.providers.twilio import client as twilio_api
from wizard.providers.twilio.client import TwilioError


@pytest.fixture
def twilio(fake_twilio):
    return twilio_api.make_client(fake_twilio.account_sid, fake_twilio.auth_token,
                                  base_url=fake_twilio.base_url)


def test_fetch_account_gives_its_name_status_and_type(fake_twilio, twilio):
    account = twilio_api.fetch_account(twilio, fake_twilio.account_sid)

    assert account == twilio_api.Account(
        sid=fake_twilio.account_sid, friendly_name=fake_twilio.account_name,
        status="active", type="Full")


def test_fetch_account_shows_a_suspended_trial_account_as_such(fake_twilio, twilio):
    fake_twilio.accounts[fake_twilio.account_sid].status = "suspended"
    fake_twilio.accounts[fake_twilio.account_sid].type = "Trial"

    account = twilio_api.fetch_account(twilio, fake_twilio.account_sid)

    assert (account.status, account.type) == ("suspended", "Trial")


def test_wrong_auth_token_is_twilios_20003(fake_twilio):
    twilio = twilio_api.make_client(fake_twilio.account_sid, "0" * 32,
                                    base_url=fake_twilio.base_url)

    with pytest.raises(TwilioError) as caught:
        twilio_api.fetch_account(twilio, fake_twilio.account_sid)

    error = caught.value
    assert (error.code, error.message, error.status) == (20003, "Authenticate", 401)
    assert str(caught.value) == "20003: Authenticate"


def test_unknown_account_sid_is_20404(fake_twilio, twilio):
    unknown = new_sid("AC")

    with pytest.raises(TwilioError) as caught:
        twilio_api.fetch_account(twilio, unknown)

    assert caught.value.code == 20404
    assert caught.value.status == 404
    assert caught.value.message == (
        f"The requested resource /2010-04-01/Accounts/{unknown}.json was not found")


def test_another_accounts_messaging_service_is_not_found(fake_twilio, twilio):
    other = fake_twilio.add_account("Someone else")
    theirs = fake_twilio.add_service(other.sid, "Their service")

    with pytest.raises(TwilioError) as caught:
        twilio_api.fetch_messaging_service(twilio, theirs.sid)

    assert caught.value.code == 20404


def test_unknown_messaging_service_is_20404(fake_twilio, twilio):
    with pytest.raises(TwilioError) as caught:
        twilio_api.fetch_messaging_service(twilio, new_sid("MG"))

    assert (caught.value.code, caught.value.status) == (20404, 404)
    assert "was not found" in caught.value.message


def test_numbers_of_an_unknown_messaging_service_is_20404_too(fake_twilio, twilio):
    # twilio-python raises a bare TwilioException when a .list() page fails.
    with pytest.raises(TwilioError) as caught:
        twilio_api.list_service_numbers(twilio, new_sid("MG"))

    assert (caught.value.code, caught.value.status) == (20404, 404)
    assert "was not found" in caught.value.message


def test_lists_messaging_services_with_their_webhooks(fake_twilio, twilio):
    services = twilio_api.list_messaging_services(twilio)

    assert [s.sid for s in services] == [fake_twilio.service_sid, fake_twilio.second_service_sid]
    first = services[0]
    assert first.friendly_name == fake_twilio.service_name
    assert first.inbound_request_url == "https://hooks.acme.example/twilio/inbound"
    assert first.status_callback == "https://hooks.acme.example/twilio/status"
    assert first.use_inbound_webhook_on_number is False
    assert services[1].inbound_request_url is None


def test_fetch_messaging_service(fake_twilio, twilio):
    service = twilio_api.fetch_messaging_service(twilio, fake_twilio.second_service_sid)

    assert service.sid == fake_twilio.second_service_sid
    assert service.friendly_name == fake_twilio.second_service_name


def test_update_messaging_service_changes_only_what_is_given(fake_twilio, twilio):
    updated = twilio_api.update_messaging_service(
        twilio, fake_twilio.second_service_sid,
        inbound_request_url="https://wizard.example/hooks/abc/inbound",
        use_inbound_webhook_on_number=True)

    assert updated.inbound_request_url == "https://wizard.example/hooks/abc/inbound"
    assert updated.use_inbound_webhook_on_number is True
    assert updated.status_callback is None
    form = fake_twilio.requests_matching("POST", MESSAGING_HOST)[-1].form
    assert form == {"InboundRequestUrl": "https://wizard.example/hooks/abc/inbound",
                    "UseInboundWebhookOnNumber": "true"}
    again = twilio_api.fetch_messaging_service(twilio, fake_twilio.second_service_sid)
    assert again.inbound_request_url == "https://wizard.example/hooks/abc/inbound"


def test_lists_numbers_of_a_service_and_of_the_account(fake_twilio, twilio):
    in_service = twilio_api.list_service_numbers(twilio, fake_twilio.service_sid)
    in_account = twilio_api.list_account_numbers(twilio)

    assert [n.phone_number for n in in_service] == fake_twilio.service_numbers
    assert all(n.sid.startswith("PN") and len(n.sid) == 34 for n in in_service)
    assert sorted(n.phone_number for n in in_account) == sorted(
        fake_twilio.service_numbers + fake_twilio.second_service_numbers
        + [fake_twilio.unassigned_number])


def test_next_pages_are_fetched_through_the_local_server(fake_twilio, twilio):
    # Page 2 comes from an absolute https://messaging.twilio.com URL Twilio hands back.
    services = twilio.messaging.v1.services.list(page_size=1)
    numbers = twilio.api.v2010.account.incoming_phone_numbers.list(page_size=3)

    assert len(services) == 2 and len(numbers) == 4
    assert [r.query_string for r in fake_twilio.requests_matching("GET", MESSAGING_HOST)] == [
        "PageSize=1", "PageSize=1&Page=1"]
    assert len(fake_twilio.requests_matching("GET", API_HOST)) == 2


def test_send_message_then_fetch_it(fake_twilio, twilio):
    sent = twilio_api.send_message(twilio, "+15005550006", fake_twilio.service_sid,
                                   "Hello from the wizard",
                                   status_callback="https://wizard.example/hooks/abc/status")

    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert (sent.status, sent.error_code, sent.error_message) == ("accepted", None, None)
    form = fake_twilio.requests_matching("POST", API_HOST)[-1].form
    assert form == {"To": "+15005550006", "MessagingServiceSid": fake_twilio.service_sid,
                    "Body": "Hello from the wizard",
                    "StatusCallback": "https://wizard.example/hooks/abc/status"}

    fake_twilio.messages[sent.sid].status = "undelivered"
    fake_twilio.messages[sent.sid].error_code = 30003
    fake_twilio.messages[sent.sid].error_message = "Unreachable destination handset"
    fetched = twilio_api.fetch_message(twilio, sent.sid)
    assert fetched == twilio_api.SentMessage(sent.sid, "undelivered", 30003,
                                             "Unreachable destination handset")


def test_send_without_status_callback_sends_none(fake_twilio, twilio):
    twilio_api.send_message(twilio, "+15005550006", fake_twilio.service_sid, "Hi")

    assert "StatusCallback" not in fake_twilio.requests_matching("POST", API_HOST)[-1].form


def test_invalid_to_is_21211(fake_twilio, twilio):
    with pytest.raises(TwilioError) as caught:
        twilio_api.send_message(twilio, "0612", fake_twilio.service_sid, "Hello")

    assert (caught.value.code, caught.value.status) == (21211, 400)
    assert caught.value.message == "The 'To' number 0612 is not a valid phone number."
    assert fake_twilio.messages == {}


def test_unknown_message_is_20404(fake_twilio, twilio):
    with pytest.raises(TwilioError) as caught:
        twilio_api.fetch_message(twilio, new_sid("SM"))

    assert caught.value.code == 20404


def test_requests_keep_path_and_query_and_name_the_twilio_host(fake_twilio, twilio):
    twilio_api.fetch_account(twilio, fake_twilio.account_sid)
    twilio.api.v2010.account.incoming_phone_numbers.list(phone_number="+14155550101")
    twilio_api.list_service_numbers(twilio, fake_twilio.service_sid)

    account, numbers, service_numbers = fake_twilio.requests
    assert (account.host, account.path, account.query_string) == (
        API_HOST, f"/2010-04-01/Accounts/{fake_twilio.account_sid}.json", "")
    assert (numbers.host, numbers.path, numbers.query_string) == (
        API_HOST, f"/2010-04-01/Accounts/{fake_twilio.account_sid}/IncomingPhoneNumbers.json",
        "PhoneNumber=%2B14155550101")
    assert (service_numbers.host, service_numbers.path) == (
        MESSAGING_HOST, f"/v1/Services/{fake_twilio.service_sid}/PhoneNumbers")
    assert numbers.headers["Authorization"].startswith("Basic ")


def test_a_slow_twilio_times_out_as_unreachable(fake_twilio):
    fake_twilio.delay = 2
    twilio = twilio_api.make_client(fake_twilio.account_sid, fake_twilio.auth_token,
                                    base_url=fake_twilio.base_url, timeout=0.5)

    with pytest.raises(TwilioError) as caught:
        twilio_api.fetch_account(twilio, fake_twilio.account_sid)

    assert (caught.value.code, caught.value.status) == (None, None)
    assert str(caught.value) == "Twilio could not be reached: timed out"
    assert isinstance(caught.value, twilio_api.TwilioUnreachable)


def test_a_closed_port_is_unreachable():
    with socket.socket() as bound_not_listening:  # connecting to it is refused
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        twilio = twilio_api.make_client(new_sid("AC"), "0" * 32,
                                        base_url=f"http://127.0.0.1:{port}", timeout=2)

        with pytest.raises(TwilioError) as caught:
            twilio_api.fetch_account(twilio, twilio.account_sid)

    assert caught.value.code is None
    assert caught.value.message == "Twilio could not be reached: connection refused"


def test_without_base_url_requests_go_to_twilio_itself(monkeypatch):
    http = twilio_api.OriginRewritingHttpClient(base_url="", timeout=3)
    sent = {}

    def capture(session, prepared, **kwargs):
        sent.update(url=prepared.url, host=prepared.headers.get("Host"), timeout=kwargs["timeout"])
        raise twilio_api.requests.ConnectionError("stop here")

    monkeypatch.setattr(twilio_api.requests.Session, "send", capture)
    with pytest.raises(twilio_api.requests.ConnectionError):
        http.request("GET", "https://api.twilio.com/2010-04-01/Accounts/AC1.json",
                     params={"a": "b"})

    assert sent == {"url": "https://api.twilio.com/2010-04-01/Accounts/AC1.json?a=b",
                    "host": None, "timeout": 3}
