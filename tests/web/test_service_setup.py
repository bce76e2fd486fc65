"""Setting up the Twilio side from the guided SMS/MMS flow, against the fake Twilio: a Messaging Service
created with our webhook URLs, an account number added to its sender pool (or refused, 21712, when another
service holds it), no SMS number, and a Trial account's verified recipients (21608 stopped before sending)."""
import re

from tests.support.guided import start, step_url
from tests.support.html import field_error, selected_option, text
from wizard.core.models import ApiCredential, AuditEntry, Sandbox
from wizard.providers.twilio.client import TRIAL_PREFIX

MESSAGING = "messaging.twilio.com"


def walk(client, account, upto, name="Twilio prod", service_sid=None) -> str:
    """The steps before `upto` with `account` (a fake Twilio account); the first step's URL."""
    first = start(client)
    client.get(first)
    steps = [("credential", {"vendor": "twilio", "name": name}),
             ("account", {"account_sid": account.sid, "auth_token": account.auth_token}),
             ("messaging_service", {"messaging_service_sid": service_sid or ""})]
    for step, data in steps:
        if step == upto:
            break
        response = client.post(step_url(first, step), data)
        assert response.status_code == 303, text(response)
    return first


def fresh_account(fake, numbers=("+14155550161",)):
    account = fake.add_account("Fresh account", "active", "Full")
    for number in numbers:
        fake.add_number(account.sid, number)
    return account


def test_a_fresh_account_creates_its_messaging_service_and_adds_a_number(signed_in, fake_twilio, in_app):
    account = fresh_account(fake_twilio)
    first = walk(signed_in, account, upto="messaging_service")
    url = step_url(first, "messaging_service")
    page = text(signed_in.get(url))
    assert "This account has no Messaging Service yet. Create one here" in page
    assert "Create one in the Twilio console" not in page

    # First press: what will be created, the name suggested from the credential's; nothing sent yet.
    fake_twilio.clear_requests()
    page = text(signed_in.post(url, {"action": "new_service"}))
    assert 'value="Twilio prod"' in page and "Create this Messaging Service" in page
    inbound, status = re.findall(r"<code>(http[^<]*/(?:inbound|status))</code>", page)
    assert fake_twilio.requests_matching(method="POST") == []

    response = signed_in.post(url, {"action": "create_service", "service_name": "Acme texts"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/numbers")
    created, = fake_twilio.requests_matching(method="POST", host=MESSAGING, path="/v1/Services")
    assert created.form == {"FriendlyName": "Acme texts", "InboundRequestUrl": inbound, "StatusCallback": status}
    service, = fake_twilio.accounts[account.sid].services.values()
    assert (service.friendly_name, service.inbound_request_url, service.status_callback) == ("Acme texts", inbound,
                                                                                            status)

    numbers_url = step_url(first, "numbers")
    page = text(signed_in.get(numbers_url))
    number_sid, = fake_twilio.accounts[account.sid].incoming_numbers
    assert "In no service" in page and f'value="add_number:{number_sid}"' in page
    page = text(signed_in.post(numbers_url, {"action": f"add_number:{number_sid}"}))
    assert "to Messaging Service Acme texts?" in page
    assert not fake_twilio.requests_matching(method="POST", path=f"/v1/Services/{service.sid}/PhoneNumbers")
    page = text(signed_in.post(numbers_url, {"action": f"confirm_add_number:{number_sid}"}))
    added, = fake_twilio.requests_matching(method="POST", host=MESSAGING,
                                           path=f"/v1/Services/{service.sid}/PhoneNumbers")
    assert added.form == {"PhoneNumberSid": number_sid}
    assert "is now in the Messaging Service" in page and "In this service" in page
    assert 'value="+14155550161"' in page  # the run's sandbox gets it

    response = signed_in.post(numbers_url, {"use_1": "y", "number_1": "+14155550161"})
    assert response.status_code == 303, text(response)
    response = signed_in.post(step_url(first, "review"))
    assert response.status_code == 303, text(response)
    with in_app():
        credential = ApiCredential.get()
        assert credential.messaging_service_sid == service.sid
        number, = credential.numbers
        # The service already calls the credential's own receivers: nothing to apply.
        assert (inbound, status) == (f"http://localhost/hooks/twilio/{number.webhook_key}/inbound",
                                     f"http://localhost/hooks/twilio/{number.webhook_key}/status")
        changes = [e.changes for e in AuditEntry.select().where(AuditEntry.object_type == "Sandbox")]
        assert any(service.sid in c and "twilio_messaging_service_created" in c for c in changes)
        assert any(number_sid in c and "twilio_sender_pool" in c for c in changes)


def test_a_name_too_long_or_refused_by_twilio_is_shown(signed_in, fake_twilio):
    account = fresh_account(fake_twilio)
    url = step_url(walk(signed_in, account, upto="messaging_service"), "messaging_service")
    response = signed_in.post(url, {"action": "create_service", "service_name": "x" * 65})
    assert response.status_code == 422
    assert field_error(text(response), "service_name") == "A Messaging Service name has at most 64 characters."
    account.auth_token = "0" * 32  # the token changed in the console since the account step
    response = signed_in.post(url, {"action": "create_service", "service_name": "Acme texts"})
    assert response.status_code == 422
    assert "Twilio error 20003: Authenticate." in text(response)
    assert 'value="Acme texts"' in text(response)
    assert fake_twilio.accounts[account.sid].services == {}


def test_a_number_held_by_another_service_is_named_and_twilios_refusal_shown(signed_in, fake_twilio):
    first = walk(signed_in, fake_twilio.accounts[fake_twilio.account_sid], upto="numbers",
                 service_sid=fake_twilio.service_sid)
    numbers_url = step_url(first, "numbers")
    page = text(signed_in.get(numbers_url))
    assert f"In another service: {fake_twilio.second_service_name}" in page
    held = next(n for n in fake_twilio.accounts[fake_twilio.account_sid].incoming_numbers.values()
                if n.phone_number == fake_twilio.second_service_numbers[0])
    response = signed_in.post(numbers_url, {"action": f"confirm_add_number:{held.sid}"})
    assert response.status_code == 422
    assert ("Twilio error 21712: Phone Number or Short Code is associated with another Messaging Service."
            in text(response))
    refused, = fake_twilio.requests_matching(method="POST", path=f"/v1/Services/{fake_twilio.service_sid}/PhoneNumbers")
    assert refused.form == {"PhoneNumberSid": held.sid}


def test_an_account_without_an_sms_number_is_pointed_to_the_console(signed_in, fake_twilio):
    account = fresh_account(fake_twilio, numbers=())
    service = fake_twilio.add_service(account.sid, "Empty")
    page = text(signed_in.get(step_url(walk(signed_in, account, upto="numbers", service_sid=service.sid), "numbers")))
    assert "This account has no phone number that can send SMS." in page
    assert 'href="https://console.twilio.com/us1/develop/phone-numbers/manage/search"' in page


def test_a_trial_account_offers_its_verified_numbers_and_stops_other_recipients(signed_in, fake_twilio, in_app):
    trial = fake_twilio.add_account("Trial account", "active", "Trial")
    service = fake_twilio.add_service(trial.sid, "Trial service")
    fake_twilio.add_number(trial.sid, "+14155550171", service.sid)
    trial.verified_numbers.extend(["+14155550177", "+14155550178"])
    first = walk(signed_in, trial, upto="numbers", service_sid=service.sid)
    assert signed_in.post(step_url(first, "numbers"), {"use_1": "y", "number_1": "+14155550171"}).status_code == 303
    done = signed_in.post(step_url(first, "review")).headers["Location"]
    page = text(signed_in.get(done))
    assert "This is a Trial account: Twilio delivers its messages only to the phone numbers verified" in page
    assert "<code>Sent from your Twilio trial account - </code>" in page
    assert "<code>+14155550177</code>" in page and "<code>+14155550178</code>" in page
    assert 'value="+14155550177"' in page  # the first one offered as the recipient
    assert fake_twilio.requests_matching(method="GET", path=f"/2010-04-01/Accounts/{trial.sid}/OutgoingCallerIds.json")
    with in_app():
        credential_id = ApiCredential.get().id

    fake_twilio.clear_requests()
    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": "+14155550199", "message": "Hi"})
    assert response.status_code == 422
    assert field_error(text(response), "number") == (
        "Twilio error 21608: The number +14155550199 is unverified. Trial accounts cannot send messages to "
        "unverified numbers; verify +14155550199 at twilio.com/user/account/phone-numbers/verified, or purchase a "
        "Twilio number to send messages to unverified numbers. Nothing was sent. Choose one of the verified "
        "numbers listed above.")
    assert fake_twilio.requests_matching(method="POST") == []  # stopped before sending

    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": "+14155550178", "message": "Hi"})
    assert response.status_code == 303
    sent, = fake_twilio.requests_matching(method="POST", path=f"/2010-04-01/Accounts/{trial.sid}/Messages.json")
    assert sent.form["To"] == "+14155550178" and sent.form["Body"] == "Hi"
    message, = fake_twilio.messages.values()
    assert message.body == TRIAL_PREFIX + "Hi"


def test_the_simulator_refuses_a_trial_send_to_an_unverified_number(fake_twilio):
    """Twilio's own answer, for whoever sends without the wizard's check (the simulator's 21608)."""
    from tests.support.fake_twilio import TwilioFault  # noqa: F401  (the shape the fake answers in)
    from wizard.providers.twilio.client import TwilioError, make_client, send_message

    trial = fake_twilio.add_account("Trial account", "active", "Trial")
    service = fake_twilio.add_service(trial.sid, "Trial service")
    client = make_client(trial.sid, trial.auth_token, fake_twilio.base_url)
    try:
        send_message(client, "+14155550199", service.sid, "Hi")
    except TwilioError as error:
        assert (error.code, error.status) == (21608, 400)
        assert error.message.startswith("The number +14155550199 is unverified.")
    else:
        raise AssertionError("sent")


def test_express_setup_creates_everything_with_twilios_request_shapes(signed_in, fake_twilio, in_app):
    account = fresh_account(fake_twilio)
    first = walk(signed_in, account, upto="messaging_service")
    page = text(signed_in.get(step_url(first, "messaging_service")))
    express = re.search(r'href="(/setup/sms/[^"]+/express)"', page).group(1)
    assert "Set up everything on one screen" in page
    page = text(signed_in.get(express))
    assert 'value="Twilio prod"' in page  # the credential's name, proposed
    assert re.search(r'<input checked id="service-\d+" name="service" type="radio" value="new">', page)  # none yet: new
    assert "+1 415-555-0161 · United States · will be added to the service" in page  # read as people read it
    fake_twilio.clear_requests()
    response = signed_in.post(express, {"name": "Twilio prod", "service": "new", "service_name": "Acme texts",
                                        "use_1": "y", "number_1": "+14155550161", "apply_webhooks": "y",
                                        "to": "+14155550123", "message": "Hello", "action": "go"})
    assert response.status_code == 303, text(response)
    posts = [(r.path, r.form) for r in fake_twilio.requests_matching(method="POST")]
    service, = fake_twilio.accounts[account.sid].services.values()
    number_sid, = fake_twilio.accounts[account.sid].incoming_numbers
    with in_app():
        credential = ApiCredential.get()
        key = credential.numbers.get().webhook_key
    ours = {"InboundRequestUrl": f"http://localhost/hooks/twilio/{key}/inbound",
            "StatusCallback": f"http://localhost/hooks/twilio/{key}/status"}
    assert posts == [
        ("/v1/Services", {"FriendlyName": "Acme texts", **ours}),
        (f"/v1/Services/{service.sid}/PhoneNumbers", {"PhoneNumberSid": number_sid}),
        (f"/v1/Services/{service.sid}", {**ours, "UseInboundWebhookOnNumber": "false"}),
        (f"/2010-04-01/Accounts/{account.sid}/Messages.json",
         {"To": "+14155550123", "MessagingServiceSid": service.sid, "Body": "Hello"}),
    ]
    done = text(signed_in.get(response.headers["Location"]))
    assert "Everything is set up" in done and 'id="message-sid"' in done


def test_express_setup_shows_where_it_stopped_and_goes_on_from_there(signed_in, fake_twilio, in_app):
    first = walk(signed_in, fake_twilio.accounts[fake_twilio.account_sid], upto="messaging_service")
    express = step_url(first, "messaging_service").rsplit("/", 1)[0] + "/express"
    page = text(signed_in.get(express))
    assert f"<code>{'https://hooks.acme.example/twilio/inbound'}</code>" in page  # Twilio's current URL beside ours
    form = {"name": "Twilio prod", "service": fake_twilio.service_sid, "use_1": "y",
            "number_1": fake_twilio.second_service_numbers[0],
            "apply_webhooks": "y", "to": "+14155550123", "message": "Hello", "action": "go"}
    response = signed_in.post(express, form)  # a number the marketing service holds
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'data-stage="credential_name">Credential name: done', page)
    assert re.search(r'data-stage="service">Messaging Service: done', page)
    assert re.search(r'data-stage="number"><strong class="field-error">Numbers in the Messaging Service: failed', page)
    assert re.search(r'data-stage="credential">API credential saved: not done yet', page)
    assert "Twilio error 21712: Phone Number or Short Code is associated with another Messaging Service." in page
    fake_twilio.clear_requests()
    response = signed_in.post(express, {**form, "number_1": fake_twilio.service_numbers[0]})
    assert response.status_code == 303, text(response)
    with in_app():
        assert ApiCredential.select().count() == 1
    assert not fake_twilio.requests_matching(method="POST", path="/v1/Services")  # nothing created twice
    assert fake_twilio.requests_matching(method="POST", path="/2010-04-01/Accounts/"
                                         f"{fake_twilio.account_sid}/Messages.json")


def test_the_practice_page_lists_the_new_account_and_the_trial_accounts_verified_numbers(signed_in, app):
    from tests.support.practice import practice_sandbox
    from wizard.providers.twilio.simulator import FRESH_ACCOUNT, FRESH_NUMBER, TRIAL_VERIFIED_NUMBERS

    practice_sandbox(app)
    signed_in.post("/practice/start", {"start": "practice"})
    page = text(signed_in.get("/practice"))
    assert f"<code>{FRESH_ACCOUNT.sid}</code>" in page and f"<code>{FRESH_ACCOUNT.auth_token}</code>" in page
    assert FRESH_NUMBER in page
    assert all(number in page for number in TRIAL_VERIFIED_NUMBERS)


def selected(page, field_id) -> str:
    return selected_option(page, field_id)[0]


def two_sandboxes_express(signed_in, fake_twilio, in_app, numbers=("+14155550161", "+14155550162")):
    """A fresh account with `numbers`, sandboxes prod (1) and staging, the express screen's URL; (url, staging id)."""
    with in_app():
        staging = Sandbox.create(name="staging", name_key="staging").id
    account = fresh_account(fake_twilio, numbers)
    first = walk(signed_in, account, upto="messaging_service")
    return step_url(first, "messaging_service").rsplit("/", 1)[0] + "/express", staging, account


def test_express_setup_proposes_a_number_for_each_sandbox_and_saves_them_all(signed_in, fake_twilio, in_app):
    express, staging, account = two_sandboxes_express(signed_in, fake_twilio, in_app)
    page = text(signed_in.get(express))
    assert "Sandbox prod" in page and "Sandbox staging" in page
    assert re.search(r'<input checked id="use_1"', page) and re.search(rf'<input checked id="use_{staging}"', page)
    assert selected(page, "number_1") == "+14155550161"  # one number each while there are enough
    assert selected(page, f"number_{staging}") == "+14155550162"
    fake_twilio.clear_requests()
    response = signed_in.post(express, {"name": "Twilio prod", "service": "new", "service_name": "Acme texts",
                                        "use_1": "y", "number_1": "+14155550161",
                                        f"use_{staging}": "y", f"number_{staging}": "+14155550162",
                                        "apply_webhooks": "y", "to": "+14155550123", "message": "Hello",
                                        "action": "go"})
    assert response.status_code == 303, text(response)
    service, = fake_twilio.accounts[account.sid].services.values()
    sids = {n.phone_number: sid for sid, n in fake_twilio.accounts[account.sid].incoming_numbers.items()}
    added = [r.form for r in fake_twilio.requests_matching(method="POST",
                                                           path=f"/v1/Services/{service.sid}/PhoneNumbers")]
    assert added == [{"PhoneNumberSid": sids["+14155550161"]}, {"PhoneNumberSid": sids["+14155550162"]}]
    with in_app():
        assert ApiCredential.get().numbers_by_sandbox() == {1: "+14155550161", staging: "+14155550162"}
    done = text(signed_in.get(response.headers["Location"]))
    assert "Sandbox prod" in done and "Sandbox staging" in done


def test_express_setup_leaves_a_sandbox_out_and_gives_one_number_to_two(signed_in, fake_twilio, in_app):
    express, staging, account = two_sandboxes_express(signed_in, fake_twilio, in_app, numbers=("+14155550161",))
    page = text(signed_in.get(express))
    assert selected(page, "number_1") == selected(page, f"number_{staging}") == "+14155550161"  # only one
    form = {"name": "Twilio prod", "service": "new", "number_1": "+14155550161",
            f"number_{staging}": "+14155550161", "to": "+14155550123", "message": "Hello", "action": "go"}
    response = signed_in.post(express, form)  # no sandbox ticked: as the numbers step says
    assert response.status_code == 422
    assert "Choose at least one sandbox that will use this credential." in text(response)
    assert selected(text(response), "number_1") == "+14155550161"  # what was chosen stays
    response = signed_in.post(express, {**form, f"use_{staging}": "y", "number_1": "+19999"})
    assert response.status_code == 303, text(response)  # prod left out: its number is not asked about
    with in_app():
        assert ApiCredential.get().numbers_by_sandbox() == {staging: "+14155550161"}


def test_express_setup_gives_the_same_number_to_two_sandboxes_as_the_numbers_step_allows(
        signed_in, fake_twilio, in_app):
    express, staging, account = two_sandboxes_express(signed_in, fake_twilio, in_app, numbers=("+14155550161",))
    fake_twilio.clear_requests()
    response = signed_in.post(express, {"name": "Twilio prod", "service": "new", "use_1": "y",
                                        "number_1": "+14155550161", f"use_{staging}": "y",
                                        f"number_{staging}": "+14155550161", "to": "+14155550123",
                                        "message": "Hello", "action": "go"})
    assert response.status_code == 303, text(response)
    service, = fake_twilio.accounts[account.sid].services.values()
    assert len(fake_twilio.requests_matching(method="POST", path=f"/v1/Services/{service.sid}/PhoneNumbers")) == 1
    with in_app():
        assert ApiCredential.get().numbers_by_sandbox() == {1: "+14155550161", staging: "+14155550161"}


def test_after_a_failure_what_is_done_shows_as_done_and_is_what_is_used(signed_in, fake_twilio, in_app):
    first = walk(signed_in, fake_twilio.accounts[fake_twilio.account_sid], upto="messaging_service")
    express = step_url(first, "messaging_service").rsplit("/", 1)[0] + "/express"
    form = {"name": "Twilio prod", "service": fake_twilio.service_sid, "use_1": "y",
            "number_1": fake_twilio.second_service_numbers[0], "apply_webhooks": "y", "to": "+14155550123",
            "message": "Hello", "action": "go"}
    page = text(signed_in.post(express, form))  # stops at the number (another service holds it)
    assert 'name="name"' not in page and 'name="service"' not in page  # done: no longer editable
    assert re.search(r"Name: Twilio prod · done", page)
    assert re.search(rf"Messaging Service: [^<]*\({fake_twilio.service_sid}\) · done", page)
    assert selected(page, "number_1") == fake_twilio.second_service_numbers[0]  # not done: as chosen, to change
    fake_twilio.invalid_numbers.add("+14155550199")  # the test message fails (21211): numbers done by then
    response = signed_in.post(express, {**form, "name": "Another name", "service": fake_twilio.second_service_sid,
                                        "number_1": fake_twilio.service_numbers[0], "to": "+14155550199"})
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'data-stage="test"><strong class="field-error">Test message sent: failed', page)
    assert "Another name" not in page and 'name="number_1"' not in page and 'name="apply_webhooks"' not in page
    assert re.search(r"Sandbox prod: \+1 [\d-]+ · United States · done", page)
    assert "Webhook URLs applied · done" in page
    response = signed_in.post(express, {**form, "name": "Another name",  # what is done is not shown again, nor taken
                                        "number_1": fake_twilio.second_service_numbers[0], "to": "+14155550123"})
    assert response.status_code == 303, text(response)
    with in_app():
        credential = ApiCredential.get()
        assert (credential.name, credential.messaging_service_sid) == ("Twilio prod", fake_twilio.service_sid)
        assert credential.numbers_by_sandbox() == {1: fake_twilio.service_numbers[0]}


def test_express_setup_refuses_a_number_that_is_none_of_the_accounts(signed_in, fake_twilio, in_app):
    express, staging, account = two_sandboxes_express(signed_in, fake_twilio, in_app)
    response = signed_in.post(express, {"name": "Twilio prod", "service": "new", "use_1": "y",
                                        "number_1": "+14155550999", "to": "+14155550123", "message": "Hello",
                                        "action": "go"})
    assert response.status_code == 422
    assert field_error(text(response), "number_1") == "Not a valid choice."
    with in_app():
        assert ApiCredential.select().count() == 0
