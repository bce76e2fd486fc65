"""Practice mode: the Twilio simulator's answers (shapes and codes), practice sandboxes whose
Twilio calls never leave the process, messages that move by signed callbacks, simulated
replies, Reset practice data (this sandbox only), presenter mode and the first-run command."""
import json
import re
from html import unescape

import pytest
import requests

from tests.support.factories import make_channel_configuration, make_credential
from tests.support.html import field_error, text
from tests.support.practice import DEMO_NUMBER, demo_sms_flow, practice_sandbox, start
from wizard.core.db import database
from wizard.core.models import (
    ApiCredential,
    AuditEntry,
    ChannelConfiguration,
    Consent,
    ConsentEvent,
    CredentialNumber,
    GuidedRun,
    InboundMessage,
    KeywordRule,
    KeywordSettings,
    OutboundMessage,
    Sandbox,
    StatusEvent,
)
from wizard.providers import transport as practice
from wizard.providers.custom.settings import ProviderSettings
from wizard.providers.twilio import client as twilio_api
from wizard.providers.twilio.simulator import (
    DEMO_ACCOUNT,
    DEMO_SERVICES,
    INVALID_TO_NUMBER,
    PRACTICE_PHONE,
    SUSPENDED_ACCOUNT,
    TRIAL_ACCOUNT,
    TRIAL_SERVICE,
    UNDELIVERABLE_NUMBER,
    TwilioSimulator,
    practice_seed,
)

RCS_CONSOLE = {name: "y" for name in ("sender_created", "sender_tested", "sender_submitted", "sender_approved",
                                      "sender_in_pool")}


# --- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def in_practice(signed_in, app):
    """The signed-in admin works in a practice sandbox; its id."""
    sandbox_id = practice_sandbox(app)
    signed_in.get("/sandboxes")
    assert signed_in.post("/sandboxes/current", {"sandbox": sandbox_id, "next": "/sandboxes"}).status_code == 303
    return sandbox_id


def simulator(app):
    return practice.simulator(app)


def wait_for_callbacks(app):
    assert simulator(app).wait_until_idle(15), "the simulator's callbacks did not finish"


def rows(app, model, **where):
    with app.app_context(), database.connection_context():
        query = model.select()
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return list(query)


# --- the simulator itself --------------------------------------------------------------------

@pytest.fixture
def twilio():
    return TwilioSimulator(seed=practice_seed)


def client_for(sim, account=DEMO_ACCOUNT, token=None):
    return twilio_api.make_client(account.sid, token or account.auth_token, wsgi_app=sim.wsgi_app)


def raw(sim, method, url, token=DEMO_ACCOUNT.auth_token, **kwargs):
    """A request as any HTTP client sends it, answered in-process."""
    with requests.Session() as session:
        session.mount("https://", twilio_api.WsgiAdapter(sim.wsgi_app))
        return session.request(method, url, auth=(DEMO_ACCOUNT.sid, token), **kwargs)


def test_the_simulator_answers_in_twilios_shapes(twilio):
    answer = raw(twilio, "GET", f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT.sid}.json")
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    account = answer.json()
    assert (account["sid"], account["status"], account["type"]) == (DEMO_ACCOUNT.sid, "active", "Full")
    assert account["friendly_name"] == DEMO_ACCOUNT.friendly_name and "subresource_uris" in account

    services = raw(twilio, "GET", "https://messaging.twilio.com/v1/Services").json()
    assert [s["sid"] for s in services["services"]] == [s.sid for s in DEMO_SERVICES]
    assert services["meta"]["key"] == "services"
    numbers = raw(twilio, "GET", f"https://messaging.twilio.com/v1/Services/{DEMO_SERVICES[0].sid}/PhoneNumbers")
    assert [n["phone_number"] for n in numbers.json()["phone_numbers"]] == list(DEMO_SERVICES[0].numbers)

    sent = raw(twilio, "POST", f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT.sid}/Messages.json",
               data={"To": "+12025550123", "MessagingServiceSid": DEMO_SERVICES[0].sid, "Body": "Hi"})
    assert sent.status_code == 201
    message = sent.json()
    assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"]) and message["status"] == "accepted"
    assert message["direction"] == "outbound-api" and message["messaging_service_sid"] == DEMO_SERVICES[0].sid


@pytest.mark.parametrize("method, url, token, data, status, code", [
    ("GET", f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT.sid}.json", "0" * 32, None, 401, 20003),
    ("GET", f"https://api.twilio.com/2010-04-01/Accounts/{TRIAL_ACCOUNT.sid}.json", None, None, 404, 20404),
    ("GET", f"https://messaging.twilio.com/v1/Services/MG{'0' * 32}", None, None, 404, 20404),
    ("POST", f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT.sid}/Messages.json", None,
     {"To": INVALID_TO_NUMBER, "MessagingServiceSid": DEMO_SERVICES[0].sid, "Body": "Hi"}, 400, 21211),
    ("POST", f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT.sid}/Messages.json", None,
     {"To": "0912345678", "MessagingServiceSid": DEMO_SERVICES[0].sid, "Body": "Hi"}, 400, 21211),
])
def test_the_simulator_fails_with_twilios_codes_and_error_shape(twilio, method, url, token, data, status, code):
    answer = raw(twilio, method, url, token=token or DEMO_ACCOUNT.auth_token, data=data)
    assert answer.status_code == status
    body = answer.json()
    assert body == {"code": code, "message": body["message"], "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}
    if status == 401:
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'


def test_the_trial_and_suspended_accounts_through_the_twilio_client(twilio):
    trial = twilio_api.fetch_account(client_for(twilio, TRIAL_ACCOUNT), TRIAL_ACCOUNT.sid)
    assert (trial.status, trial.type) == ("active", "Trial")
    assert [s.sid for s in twilio_api.list_messaging_services(client_for(twilio, TRIAL_ACCOUNT))] == [TRIAL_SERVICE.sid]
    suspended = twilio_api.fetch_account(client_for(twilio, SUSPENDED_ACCOUNT), SUSPENDED_ACCOUNT.sid)
    assert (suspended.status, suspended.type) == ("suspended", "Full")
    with pytest.raises(twilio_api.TwilioError) as caught:
        twilio_api.fetch_account(client_for(twilio, token="1" * 32), DEMO_ACCOUNT.sid)
    assert (caught.value.code, caught.value.status) == (20003, 401)


def test_without_a_deliverer_messages_stay_as_sent_and_reset_restores_the_seed(twilio):
    sent = twilio_api.send_message(client_for(twilio), "+12025550123", DEMO_SERVICES[0].sid, "Hi")
    assert twilio.wait_until_idle(1)
    assert twilio.messages()[sent.sid].status == "accepted"
    with twilio.world() as world:
        world.accounts[DEMO_ACCOUNT.sid].status = "closed"
    twilio.reset()
    assert twilio.messages() == {} and twilio.requests == []
    with twilio.world() as world:
        assert world.accounts[DEMO_ACCOUNT.sid].status == "active"


def test_messages_move_by_signed_callbacks_in_order(twilio):
    from twilio.request_validator import RequestValidator

    delivered = []
    twilio.deliver = lambda url, params, signature: delivered.append((url, params, signature)) or (204, "")
    callback = "https://setup.example/hooks/twilio/key/status"
    ok = twilio_api.send_message(client_for(twilio), "+12025550123", DEMO_SERVICES[0].sid, "Hi", callback)
    bad = twilio_api.send_message(client_for(twilio), UNDELIVERABLE_NUMBER, DEMO_SERVICES[0].sid, "Hi", callback)
    assert twilio.wait_until_idle(10)
    statuses = {sid: [p["MessageStatus"] for _u, p, _s in delivered if p["MessageSid"] == sid]
                for sid in (ok.sid, bad.sid)}
    assert statuses == {ok.sid: ["queued", "sent", "delivered"], bad.sid: ["queued", "sent", "undelivered"]}
    for url, params, signature in delivered:
        assert url == callback and RequestValidator(DEMO_ACCOUNT.auth_token).validate(url, params, signature)
        assert params["From"] == DEMO_SERVICES[0].numbers[0]  # the sender the service chose
    assert [p.get("ErrorCode") for _u, p, _s in delivered if p["MessageStatus"] == "undelivered"] == ["30003"]
    fetched = twilio_api.fetch_message(client_for(twilio), bad.sid)
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)


# --- practice sandboxes never reach the network ----------------------------------------------------

def test_a_whole_practice_setup_sends_nothing_to_the_twilio_base_url(in_practice, signed_in, app, fake_twilio, in_app):
    """TWILIO_BASE_URL points at the recording fake; a practice sandbox must not reach it."""
    sandbox_id = in_practice
    assert app.config["TWILIO_BASE_URL"] == fake_twilio.base_url
    fake_twilio.clear_requests()
    credential_id = demo_sms_flow(signed_in, sandbox_id)
    with in_app():
        number = CredentialNumber.get(CredentialNumber.credential == credential_id)
        assert ApiCredential.get_by_id(credential_id).account_name == DEMO_ACCOUNT.friendly_name

    # Webhooks applied to the simulated Messaging Service, after showing what it had.
    page = text(signed_in.get(f"/webhooks/twilio/{number.id}/apply"))
    assert "https://old-platform.example/twilio/inbound" in page
    assert signed_in.post(f"/webhooks/twilio/{number.id}/apply").status_code == 303
    with simulator(app).world() as world:
        service = world.accounts[DEMO_ACCOUNT.sid].services[DEMO_SERVICES[0].sid]
    assert service.status_callback.endswith(f"/hooks/twilio/{number.webhook_key}/status")

    # Verify SMS connection: a test send, then delivered by signed callbacks through our receiver.
    signed_in.get(f"/credentials/{credential_id}/verify")
    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": "+12025550123", "message": "Hi"})
    assert response.status_code == 303, text(response)
    sid = response.headers["Location"].rsplit("/", 1)[1]
    assert sid.startswith("SM") and "accepted" in text(signed_in.get(response.headers["Location"]))
    wait_for_callbacks(app)
    events = rows(app, StatusEvent, message_sid=sid)
    assert sorted(e.status for e in events) == ["delivered", "queued", "sent"]
    assert all(e.signed and e.sandbox_id == sandbox_id and e.credential_id == credential_id for e in events)
    assert rows(app, OutboundMessage, message_sid=sid)[0].status == "delivered"
    assert "delivered" in text(signed_in.get(f"/credentials/{credential_id}/messages/{sid}"))

    # The RCS flow with the Twilio RCS preset, its test request answered by the simulator.
    base = start(signed_in, "rcs")
    signed_in.get(f"{base}/register")
    response = signed_in.post(f"{base}/register", {"twilio_credential": str(credential_id), **RCS_CONSOLE})
    assert response.status_code == 303, text(response)
    assert signed_in.post(f"{base}/webhook", {}).status_code == 303
    page = text(signed_in.post(f"{base}/credential", {"action": "preset"}))
    assert f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT.sid}/Messages.json" in page
    form = {"name": "Demo RCS", "provider_name": "Twilio",
            "provider_url": f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT.sid}/Messages.json",
            "auth_type": "basic", "basic_username": DEMO_ACCOUNT.sid, "basic_password": "",
            "payload_format": "form",
            "payload_template": f"To={{{{toNumber}}}}&MessagingServiceSid={DEMO_SERVICES[0].sid}&Body={{{{message}}}}",
            "test_number": "+886912345678", "test_message": "Hello RCS"}
    page = unescape(text(signed_in.post(f"{base}/credential", {**form, "action": "test"})))
    assert "201 Created" in page and '"status": "accepted"' in page, page[-2000:]
    assert signed_in.post(f"{base}/credential", form).status_code == 303
    response = signed_in.post(f"{base}/channel", {"name": "RCS_Demo", "sms_type": "marketing",
                                                   "execution_field": "mobilePhone.number"})
    assert response.status_code == 303
    assert signed_in.post(f"{base}/review").status_code == 303
    [channel] = rows(app, ChannelConfiguration, name="RCS_Demo")
    assert (channel.channel, channel.status) == ("rcs", "active")
    wait_for_callbacks(app)  # the RCS message reports to the service's status callback: ours, applied above
    rcs = [m for m in simulator(app).messages().values() if m.to == "+886912345678"]
    statuses = sorted(e.status for e in rows(app, StatusEvent, message_sid=rcs[0].sid))
    assert statuses == ["delivered", "queued", "sent"], [(e.id, e.status) for e in rows(app, StatusEvent)]

    assert fake_twilio.requests == []


def test_a_practice_sandbox_refuses_every_provider_but_twilio(in_practice, signed_in, app, provider_endpoint,
                                                               fake_twilio):
    credential_id = make_credential(app, fake_twilio, name="Demo Twilio", numbers={"practice": DEMO_NUMBER},
                                    account_sid=DEMO_ACCOUNT.sid, auth_token=DEMO_ACCOUNT.auth_token,
                                    messaging_service_sid=DEMO_SERVICES[0].sid)
    base = start(signed_in, "rcs")
    signed_in.post(f"{base}/register", {"twilio_credential": str(credential_id), **RCS_CONSOLE})
    signed_in.post(f"{base}/webhook", {})
    page = text(signed_in.post(f"{base}/credential", {
        "name": "Elsewhere", "provider_name": "Acme", "provider_url": provider_endpoint.url("/send"),
        "auth_type": "bearer", "bearer_token": "t-123", "payload_format": "json",
        "payload_template": '{"to": "{{toNumber}}", "from": "{{fromNumber}}", "text": "{{message}}"}',
        "test_number": "+886912345678", "test_message": "Hi", "action": "test"}))
    assert "This is a practice sandbox: only the Twilio simulator answers here" in page
    assert provider_endpoint.requests == [] and fake_twilio.requests == []


def test_a_practice_sandbox_looks_up_no_host_name(in_practice, signed_in, app, fake_twilio, monkeypatch):
    """A room without internet: saving and testing the RCS preset resolves no name (outside
    practice, a provider URL's host is looked up, and here that fails)."""
    import socket

    resolve = socket.getaddrinfo

    def offline(host, *args, **kwargs):  # no DNS in the room; the fake Twilio on 127.0.0.1 still answers
        if host != "127.0.0.1":
            raise socket.gaierror(-3, "Temporary failure in name resolution")
        return resolve(host, *args, **kwargs)

    app.config["ALLOW_PRIVATE_PROVIDER_URLS"] = False
    monkeypatch.setattr(socket, "getaddrinfo", offline)
    credential_id = make_credential(app, fake_twilio, name="Demo Twilio", numbers={"practice": DEMO_NUMBER},
                                    account_sid=DEMO_ACCOUNT.sid, auth_token=DEMO_ACCOUNT.auth_token,
                                    messaging_service_sid=DEMO_SERVICES[0].sid)
    base = start(signed_in, "rcs")
    signed_in.post(f"{base}/register", {"twilio_credential": str(credential_id), **RCS_CONSOLE})
    signed_in.post(f"{base}/webhook", {})
    signed_in.post(f"{base}/credential", {"action": "preset"})
    form = {"name": "Demo RCS", "provider_name": "Twilio",
            "provider_url": f"https://api.twilio.com/2010-04-01/Accounts/{DEMO_ACCOUNT.sid}/Messages.json",
            "auth_type": "basic", "basic_username": DEMO_ACCOUNT.sid, "basic_password": "",
            "payload_format": "form",
            "payload_template": f"To={{{{toNumber}}}}&MessagingServiceSid={DEMO_SERVICES[0].sid}&Body={{{{message}}}}",
            "test_number": "+886912345678", "test_message": "Offline"}
    assert "201 Created" in text(signed_in.post(f"{base}/credential", {**form, "action": "test"}))
    assert signed_in.post(f"{base}/credential", form).status_code == 303

    signed_in.post("/sandboxes/current", {"sandbox": 1, "next": "/setup"})
    base = start(signed_in, "rcs")
    prod_credential = make_credential(app, fake_twilio, name="Prod Twilio")
    signed_in.post(f"{base}/register", {"twilio_credential": str(prod_credential), **RCS_CONSOLE})
    signed_in.post(f"{base}/webhook", {})
    response = signed_in.post(f"{base}/credential", form)
    assert response.status_code == 422
    assert field_error(text(response), "provider_url").startswith("api.twilio.com is not a public address that "
                                                                  "answers.")


def test_custom_provider_send_in_practice_checks_oauth_token_urls_too(in_practice, app):
    settings = ProviderSettings(provider_url="https://api.twilio.com/x", auth_type="oauth2",
                                auth_settings={"oauth_token_url": "https://login.example.com/token"})
    with app.test_request_context("/"), database.connection_context():
        transport = practice.for_sandbox(Sandbox.get_by_id(in_practice))
        assert transport.practice and transport.provider_adapter() is not None
        assert "login.example.com" in transport.provider_refusal(settings)
        settings.auth_settings["oauth_token_url"] = "https://oauth.twilio.com/v2/token"
        assert transport.provider_refusal(settings) is None


# --- the transport follows the credential's sandboxes, whatever sandbox the page is in ------------

def switch_to(client, app, name) -> int:
    with app.app_context(), database.connection_context():
        sandbox = Sandbox.get_or_none(Sandbox.name == name) or Sandbox.create(name=name, name_key=name.casefold())
    client.get("/sandboxes")
    assert client.post("/sandboxes/current", {"sandbox": sandbox.id, "next": "/sandboxes"}).status_code == 303
    return sandbox.id


def messages_sent(twilio, account_sid) -> list:
    return twilio.requests_matching(method="POST", path=f"/2010-04-01/Accounts/{account_sid}/Messages.json")


def test_a_practice_credential_reaches_only_the_simulator_from_a_real_sandbox(in_practice, signed_in, app,
                                                                             fake_twilio):
    credential_id = make_credential(app, fake_twilio, name="Demo", numbers={"practice": DEMO_NUMBER},
                                    account_sid=DEMO_ACCOUNT.sid, auth_token=DEMO_ACCOUNT.auth_token,
                                    messaging_service_sid=DEMO_SERVICES[0].sid)
    switch_to(signed_in, app, "prod")  # the header now shows a real sandbox
    signed_in.get(f"/credentials/{credential_id}/verify")
    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": "+12025550123", "message": "Hi"})
    assert response.status_code == 303, text(response)
    assert len(messages_sent(simulator(app), DEMO_ACCOUNT.sid)) == 1
    assert fake_twilio.requests == []  # nothing went to TWILIO_BASE_URL


def test_a_real_credential_never_reaches_the_simulator_from_a_practice_sandbox(in_practice, signed_in, app,
                                                                              fake_twilio):
    credential_id = make_credential(app, fake_twilio)  # a number in sandbox prod only
    simulator(app)  # started, so that a request it got would show
    signed_in.get(f"/credentials/{credential_id}/verify")  # the header shows the practice sandbox
    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": "+12025550123", "message": "Hi"})
    assert response.status_code == 303, text(response)
    assert len(messages_sent(fake_twilio, fake_twilio.account_sid)) == 1
    assert not any(fake_twilio.auth_token in json.dumps(r.headers) or fake_twilio.account_sid in r.path
                   for r in simulator(app).requests)


def test_a_credential_in_practice_and_real_sandboxes_sends_nowhere(in_practice, signed_in, app, fake_twilio):
    credential_id = make_credential(app, fake_twilio, numbers={"prod": fake_twilio.service_numbers[0],
                                                               "practice": DEMO_NUMBER})
    signed_in.get(f"/credentials/{credential_id}/verify")
    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": "+12025550123", "message": "Hi"})
    assert response.status_code == 422
    assert "used in practice sandbox practice and in sandbox prod" in text(response)
    assert fake_twilio.requests == [] and simulator(app).requests == []


def test_outside_practice_the_twilio_base_url_is_used(signed_in, app, fake_twilio):
    credential_id = make_credential(app, fake_twilio)
    signed_in.get(f"/credentials/{credential_id}/verify")
    assert signed_in.post(f"/credentials/{credential_id}/verify",
                          {"number": "+12025550123", "message": "Hi"}).status_code == 303
    assert fake_twilio.requests_matching(method="POST")
    assert practice.EXTENSION not in app.extensions  # no simulator was even started


# --- what the admin sees: Twilio's codes, from the simulator ---------------------------------------

def test_the_account_step_shows_20003_trial_and_suspended(in_practice, signed_in):
    base = start(signed_in, "sms")
    signed_in.post(f"{base}/credential", {"vendor": "twilio", "name": "Demo"})
    page = text(signed_in.get(f"{base}/account"))
    assert "Practice account" in page and DEMO_ACCOUNT.sid in page and DEMO_ACCOUNT.auth_token in page
    response = signed_in.post(f"{base}/account", {"account_sid": DEMO_ACCOUNT.sid, "auth_token": "0" * 32})
    assert response.status_code == 422
    assert "Twilio error 20003" in field_error(text(response), "auth_token")
    response = signed_in.post(f"{base}/account", {"account_sid": SUSPENDED_ACCOUNT.sid,
                                                  "auth_token": SUSPENDED_ACCOUNT.auth_token})
    assert response.status_code == 422
    assert "This Twilio account is suspended" in field_error(text(response), "account_sid")
    response = signed_in.post(f"{base}/account", {"account_sid": TRIAL_ACCOUNT.sid,
                                                  "auth_token": TRIAL_ACCOUNT.auth_token, "action": "check"})
    assert response.status_code == 200 and "This is a Trial account" in text(response)


def test_an_unknown_messaging_service_is_20404(in_practice, signed_in):
    base = start(signed_in, "sms")
    signed_in.post(f"{base}/credential", {"vendor": "twilio", "name": "Demo"})
    signed_in.post(f"{base}/account", {"account_sid": DEMO_ACCOUNT.sid, "auth_token": DEMO_ACCOUNT.auth_token})
    response = signed_in.post(f"{base}/messaging_service", {"messaging_service_sid": "MG" + "0" * 32})
    assert response.status_code == 422
    assert "Twilio error 20404" in field_error(text(response), "messaging_service_sid")


def test_an_invalid_to_is_21211_and_an_undeliverable_number_ends_undelivered(in_practice, signed_in, app):
    credential_id = demo_sms_flow(signed_in, in_practice)
    signed_in.get(f"/credentials/{credential_id}/verify")
    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": INVALID_TO_NUMBER, "message": "Hi"})
    assert response.status_code == 422
    assert "Twilio error 21211" in field_error(text(response), "number")
    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": UNDELIVERABLE_NUMBER, "message": "Hi"})
    sid = response.headers["Location"].rsplit("/", 1)[1]
    wait_for_callbacks(app)
    [final] = [e for e in rows(app, StatusEvent, message_sid=sid) if e.status == "undelivered"]
    assert final.error_code == "30003"
    events = text(signed_in.get("/events"))
    assert "undelivered" in events and "error 30003" in events


# --- Simulate inbound reply ------------------------------------------------------------------------

def test_a_simulated_stop_opts_the_number_out(in_practice, signed_in, app):
    credential_id = demo_sms_flow(signed_in, in_practice)
    [number] = rows(app, CredentialNumber, credential=credential_id)
    page = text(signed_in.get("/events"))
    assert "Simulate inbound reply" in page and 'id="inbound-number"' in page
    response = signed_in.post("/practice/inbound", {"number": number.id, "from_number": PRACTICE_PHONE,
                                                    "body": "", "quick": "STOP", "next": "/consent"})
    assert response.status_code == 303 and response.headers["Location"] == "/consent"
    page = text(signed_in.get("/consent"))
    assert "reached the inbound webhook" in page and "You have successfully been unsubscribed" in page
    [consent] = rows(app, Consent, phone_number=PRACTICE_PHONE)
    assert (consent.state, consent.sandbox_id) == ("opted_out", in_practice)
    [message] = rows(app, InboundMessage, from_number=PRACTICE_PHONE)
    assert message.signed and message.body == "STOP" and message.keyword_category == "opt_out"
    assert json.loads(message.params)["AccountSid"] == DEMO_ACCOUNT.sid

    # With htmx: the section comes back with what happened; free text gets the default (no) reply.
    response = signed_in.post("/practice/inbound", {"number": number.id, "from_number": "+12025550151",
                                                    "body": "Is the shop open today?"}, htmx=True)
    assert response.status_code == 200 and "<html" not in text(response)
    assert "Is the shop open today?" in text(response) and 'id="practice-inbound"' in text(response)
    response = signed_in.post("/practice/inbound", {"number": number.id, "from_number": "+12025550151",
                                                    "quick": "HELP"}, htmx=True)
    assert 'Our reply: <span translate="no">Reply STOP to unsubscribe.' in text(response)


def test_simulated_replies_check_their_input(in_practice, signed_in, app):
    credential_id = demo_sms_flow(signed_in, in_practice)
    [number] = rows(app, CredentialNumber, credential=credential_id)
    for htmx in (False, True):
        response = signed_in.post("/practice/inbound", {"number": number.id, "from_number": "0912", "body": "Hi"},
                                  htmx=htmx)
        assert response.status_code == 422
        assert field_error(text(response), "inbound-from").startswith("Start the number with + and its country code")
        assert 'value="0912"' in text(response)
    response = signed_in.post("/practice/inbound", {"number": number.id, "from_number": PRACTICE_PHONE, "body": " "})
    assert response.status_code == 422
    assert field_error(text(response), "inbound-body") == "Type a message, or choose STOP, HELP or YES."
    response = signed_in.post("/practice/inbound", {"number": 999, "from_number": PRACTICE_PHONE, "quick": "YES"})
    assert response.status_code == 422
    assert rows(app, InboundMessage) == []
    assert signed_in.post("/practice/inbound", {"quick": "STOP"}, csrf=False).status_code == 400


def test_a_reply_signed_with_another_token_is_refused_by_our_receiver(in_practice, signed_in, app, fake_twilio):
    # A credential of the demo account saved with a token the account no longer has (rotated).
    make_credential(app, fake_twilio, name="Stale token", numbers={"practice": DEMO_NUMBER},
                    account_sid=DEMO_ACCOUNT.sid, auth_token="e" * 32, messaging_service_sid=DEMO_SERVICES[0].sid)
    [number] = rows(app, CredentialNumber, sandbox=in_practice)
    response = signed_in.post("/practice/inbound", {"number": number.id, "from_number": PRACTICE_PHONE,
                                                    "quick": "STOP"}, htmx=True)
    assert "The inbound webhook answered 403" in text(response)
    assert rows(app, Consent) == []


def test_simulated_replies_exist_only_in_practice(signed_in, app, fake_twilio):
    make_credential(app, fake_twilio)
    assert "Simulate inbound reply" not in text(signed_in.get("/events"))
    response = signed_in.post("/practice/inbound", {"number": 1, "from_number": PRACTICE_PHONE, "quick": "STOP"})
    assert response.status_code == 303
    assert "Simulated replies exist only in a practice sandbox." in text(signed_in.get("/practice"))


# --- the banner, the practice page, the sandbox flag ----------------------------------------------

def test_every_page_of_a_practice_sandbox_has_the_banner(in_practice, signed_in):
    for path in ("/setup", "/credentials", "/webhooks", "/channels", "/events", "/consent", "/sandboxes", "/audit",
                 "/keywords", "/practice"):
        assert "Practice sandbox: nothing reaches Twilio." in text(signed_in.get(path)), path
    signed_in.post("/sandboxes/current", {"sandbox": 1, "next": "/setup"})
    assert "Practice sandbox: nothing reaches Twilio." not in text(signed_in.get("/setup"))
    page = text(signed_in.get("/practice"))
    assert "Sandbox prod is not a practice sandbox" in page and "Switch to practice sandbox practice" in page


def test_the_practice_page_shows_the_practice_accounts(in_practice, signed_in):
    page = text(signed_in.get("/practice"))
    for value in (DEMO_ACCOUNT.sid, DEMO_ACCOUNT.auth_token, DEMO_SERVICES[0].sid, DEMO_SERVICES[1].sid,
                  TRIAL_ACCOUNT.sid, SUSPENDED_ACCOUNT.sid, INVALID_TO_NUMBER, UNDELIVERABLE_NUMBER, "20003", "20404",
                  "21211", "30003"):
        assert value in page, value
    assert "No Twilio API credential has a number in this sandbox yet" in page


def test_a_sandbox_is_made_practice_on_create_and_on_edit(signed_in, app):
    signed_in.get("/sandboxes")
    assert signed_in.post("/sandboxes", {"name": "training", "is_practice": "y"}).status_code == 303
    [training] = rows(app, Sandbox, name="training")
    assert training.is_practice
    page = text(signed_in.get("/sandboxes"))
    assert "badge-practice" in page and '<a href="/practice">Practice mode</a>' in page
    row = signed_in.post(f"/sandboxes/{training.id}", {"name": "training", "version": "1"}, htmx=True)
    assert "is no longer a practice sandbox" in text(row)
    assert not rows(app, Sandbox, name="training")[0].is_practice
    assert signed_in.post(f"/sandboxes/{training.id}", {"name": "training", "is_practice": "y",
                                                                 "version": "2"}).status_code == 303
    assert rows(app, Sandbox, name="training")[0].is_practice
    changes = [e.changed_fields for e in rows(app, AuditEntry, object_type="Sandbox", object_id=training.id)]
    assert changes == [{"name": [None, "training"], "is_practice": [None, True]},
                       {"is_practice": [True, False]}, {"is_practice": [False, True]}]


def test_status_callbacks_go_to_our_receiver_in_practice_even_without_a_public_url(in_practice, signed_in, app,
                                                                                     fake_twilio):
    from wizard.messaging.receiver_urls import status_callback_url

    assert app.config["PUBLIC_BASE_URL"] == ""
    make_credential(app, fake_twilio, numbers={"prod": fake_twilio.service_numbers[0], "practice": DEMO_NUMBER})
    with app.test_request_context("/", base_url="http://127.0.0.1:5000"), database.connection_context():
        urls = {n.sandbox.name: status_callback_url(n) for n in CredentialNumber.select()}
    assert urls["prod"] is None
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/hooks/twilio/[\w-]+/status", urls["practice"])


# --- Reset practice data ---------------------------------------------------------------------------

def test_reset_removes_this_practice_sandboxs_data_and_touches_no_other(in_practice, signed_in, app, fake_twilio,
                                                                       in_app):
    # prod: a credential, a channel configuration, events and consent of its own.
    prod_only = make_credential(app, fake_twilio, name="Prod only")
    make_channel_configuration(app, prod_only, name="Prod_SMS")
    # A credential used in both sandboxes: it stays, only its practice number goes.
    shared = make_credential(app, fake_twilio, name="Shared",
                             numbers={"prod": fake_twilio.service_numbers[1], "practice": DEMO_SERVICES[1].numbers[0]})
    with in_app():
        prod = Sandbox.get(Sandbox.name == "prod")
        Consent.create(sandbox=prod, phone_number="+886900000001", state="opted_out")
        InboundMessage.create(sandbox=prod, credential=prod_only, message_sid="SM" + "1" * 32,
                              from_number="+886900000001", to_number=fake_twilio.service_numbers[0], body="STOP")
        KeywordRule.create(credential=prod_only, sandbox=prod, category="help", keywords='["HELP"]', reply="Help!")

    # practice: the demo credential, a message that moved, a simulated STOP, an RCS channel, an unfinished run.
    demo = demo_sms_flow(signed_in, in_practice)
    make_channel_configuration(app, demo, name="Demo_SMS", sandbox="practice")
    signed_in.get(f"/credentials/{demo}/verify")
    signed_in.post(f"/credentials/{demo}/verify", {"number": "+12025550123", "message": "Hi"})
    [number] = rows(app, CredentialNumber, credential=demo)
    signed_in.post("/practice/inbound", {"number": number.id, "from_number": PRACTICE_PHONE, "quick": "STOP"})
    signed_in.post(f"/keywords?credential={demo}", {})
    base = start(signed_in, "sms")
    signed_in.post(f"{base}/credential", {"vendor": "twilio", "name": "Unfinished"})
    signed_in.post(f"{base}/account", {"account_sid": DEMO_ACCOUNT.sid, "auth_token": DEMO_ACCOUNT.auth_token})
    wait_for_callbacks(app)
    with simulator(app).world() as world:
        world.accounts[DEMO_ACCOUNT.sid].services[DEMO_SERVICES[0].sid].friendly_name = "Renamed"
    assert rows(app, StatusEvent, sandbox=in_practice) and rows(app, Consent, sandbox=in_practice)

    page = text(signed_in.get(f"/practice/{in_practice}/reset"))
    assert "Reset the practice data of sandbox practice?" in page
    response = signed_in.post(f"/practice/{in_practice}/reset")
    assert response.status_code == 303 and response.headers["Location"] == "/practice"
    assert "Practice data of sandbox practice reset" in text(signed_in.get("/practice"))

    for model in (CredentialNumber, ChannelConfiguration, InboundMessage, StatusEvent, OutboundMessage, Consent,
                  KeywordRule):
        assert rows(app, model, sandbox=in_practice) == [], model
    assert rows(app, ApiCredential, id=demo) == []
    assert rows(app, GuidedRun) == []
    assert {c.name for c in rows(app, ApiCredential)} == {"Prod only", "Shared"}
    assert [n.phone_number for n in rows(app, CredentialNumber, credential=shared)] == [fake_twilio.service_numbers[1]]
    with in_app():
        prod = Sandbox.get(Sandbox.name == "prod")
    assert [c.name for c in rows(app, ChannelConfiguration)] == ["Prod_SMS"]
    assert [c.phone_number for c in rows(app, Consent)] == ["+886900000001"]
    assert len(rows(app, InboundMessage, sandbox=prod.id)) == 1 and len(rows(app, KeywordRule, sandbox=prod.id)) == 1
    assert rows(app, Sandbox, id=in_practice)[0].is_practice

    assert simulator(app).messages() == {}
    with simulator(app).world() as world:
        assert world.accounts[DEMO_ACCOUNT.sid].services[DEMO_SERVICES[0].sid].friendly_name == (
            DEMO_SERVICES[0].friendly_name)
    deleted = {(e.object_type, e.object_label) for e in rows(app, AuditEntry, action="delete")}
    assert {("ApiCredential", "Demo Twilio"), ("ChannelConfiguration", "Demo_SMS")} <= deleted
    assert fake_twilio.requests_matching(method="POST") == []


def practice_rows_of_every_kind(app, fake_twilio, in_app, sandbox_id):
    """In the practice sandbox: 1 credential and its number, 2 channel configurations, 1 keyword
    rule and its settings, 1 sent message with 3 status events, 2 received messages, 1 consent
    record with 2 changes."""
    demo = make_credential(app, fake_twilio, name="Demo Twilio", numbers={"practice": DEMO_NUMBER},
                           account_sid=DEMO_ACCOUNT.sid, auth_token=DEMO_ACCOUNT.auth_token)
    make_channel_configuration(app, demo, name="Demo_SMS", sandbox="practice")
    make_channel_configuration(app, demo, name="Demo_SMS_2", sandbox="practice")
    with in_app():
        KeywordRule.create(credential=demo, sandbox=sandbox_id, category="help", keywords='["HELP"]', reply="Help!")
        KeywordSettings.create(credential=demo, sandbox=sandbox_id, default_reply="Hi")
        OutboundMessage.create(sandbox=sandbox_id, credential=demo, message_sid="SM" + "1" * 32, status="delivered")
        for status in ("queued", "sent", "delivered"):
            StatusEvent.create(sandbox=sandbox_id, credential=demo, message_sid="SM" + "1" * 32, status=status)
        for n in (2, 3):
            InboundMessage.create(sandbox=sandbox_id, credential=demo, message_sid="SM" + str(n) * 32,
                                  from_number=PRACTICE_PHONE, to_number=DEMO_NUMBER, body="HELLO")
        consent = Consent.create(sandbox=sandbox_id, phone_number=PRACTICE_PHONE, state="opted_out")
        ConsentEvent.create(consent=consent, state="opted_in")
        ConsentEvent.create(consent=consent, state="opted_out")


REMOVED_REPORTS = {
    "en": ("Practice data of sandbox practice reset: 1 API credential, 1 number, 2 channel configurations, "
           "1 keyword rule, 1 set of keyword settings, 1 sent message, 2 received messages, 3 status events, "
           "1 consent record, and 2 consent changes removed; the simulator is back to its starting point.",
           "Practice data of sandbox practice reset: there was nothing to remove; the simulator is back to "
           "its starting point."),
    "zh_Hant": ("已重設沙箱 practice 的練習資料：移除了 1 個 API 認證、1 個號碼、2 個通道設定、1 條關鍵字規則、"
                "1 組關鍵字設定、1 則已傳送訊息、2 則已接收訊息、3 筆狀態事件、1 筆同意紀錄和2 筆同意變更；"
                "模擬器已回到起始狀態。",
                "已重設沙箱 practice 的練習資料：沒有需要移除的資料；模擬器已回到起始狀態。"),
}


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_reset_reports_what_it_removed_by_kind(in_practice, signed_in, app, fake_twilio, in_app, language):
    practice_rows_of_every_kind(app, fake_twilio, in_app, in_practice)
    signed_in.post("/language", {"language": language, "next": "/practice"})
    signed_in.get(f"/practice/{in_practice}/reset")
    signed_in.post(f"/practice/{in_practice}/reset")
    removed, nothing = REMOVED_REPORTS[language]
    assert removed in unescape(text(signed_in.get("/practice")))

    # Again: nothing is left to remove, and the report says so.
    signed_in.post(f"/practice/{in_practice}/reset")
    assert nothing in unescape(text(signed_in.get("/practice")))


def test_reset_with_htmx_asks_first_and_only_for_practice_sandboxes(in_practice, signed_in):
    page = text(signed_in.get("/practice"))
    assert f'hx-post="/practice/{in_practice}/reset"' in page
    assert 'hx-confirm="Reset the practice data of sandbox practice?"' in page
    response = signed_in.post(f"/practice/{in_practice}/reset", htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/practice"
    assert signed_in.get("/practice/1/reset").status_code == 404
    assert signed_in.post("/practice/1/reset").status_code == 404
    assert signed_in.post(f"/practice/{in_practice}/reset", csrf=False).status_code == 400


# --- presenter mode and the first run --------------------------------------------------------------

def test_presenter_mode_is_a_cookie_toggled_in_the_header(signed_in):
    page = text(signed_in.get("/sandboxes"))
    assert 'aria-pressed="false"' in page and 'class="presenter"' not in page
    response = signed_in.post("/practice/presenter", {"next": "/sandboxes"})
    assert response.status_code == 303 and response.headers["Location"] == "/sandboxes"
    page = text(signed_in.get("/sandboxes"))
    assert 'class="presenter"' in page and 'aria-pressed="true"' in page
    signed_in.post("/practice/presenter", {"next": "https://elsewhere.example/"})
    assert 'class="presenter"' not in text(signed_in.get("/sandboxes"))


def test_practice_setup_makes_sure_a_practice_sandbox_exists(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["practice-setup"])
    assert result.exit_code == 0, result.output
    assert "Created the practice sandbox practice" in result.output
    result = runner.invoke(args=["practice-setup"])
    assert "The practice sandbox practice is ready." in result.output
    assert [(s.name, s.is_practice) for s in rows(app, Sandbox)] == [("prod", False), ("practice", True)]


def test_practice_setup_leaves_a_real_sandbox_named_practice_alone(app, in_app):
    with in_app():
        Sandbox.create(name="practice", name_key="practice")
    result = app.test_cli_runner().invoke(args=["practice-setup"])
    assert "Created the practice sandbox practice 2" in result.output
    assert [(s.name, s.is_practice) for s in rows(app, Sandbox)] == [
        ("prod", False), ("practice", False), ("practice 2", True)]


@pytest.fixture(autouse=True)
def callbacks_finish(app):
    """Messages still moving when a test ends would call into the next test's database."""
    yield
    if practice.EXTENSION in app.extensions:
        app.extensions[practice.EXTENSION].wait_until_idle(15)
