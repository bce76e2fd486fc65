"""The first ten minutes: the start offered after first run (practice or Twilio), the test message
where the guided setup ends, a status that moves by itself, readable Events rows, the wrong-token
message, and Resume going to the first unfinished step."""
import re

import pytest

from tests.support.factories import make_credential
from tests.support.guided import step_url, walk_to
from tests.support.html import field_error, text
from wizard.core.db import database
from wizard.core.models import GuidedRun, OutboundMessage, Sandbox, User
from wizard.messaging import store
from wizard.providers import transport
from wizard.providers.twilio.simulator import DEMO_ACCOUNT, DEMO_SERVICES, UNDELIVERABLE_NUMBER

PASSWORD = "a long enough password"


def first_run(client) -> str:
    """Create the first admin; the page the app goes to next."""
    client.get("/first-run")
    response = client.post("/first-run", {"email": "trainer@example.com", "password": PASSWORD})
    assert response.status_code == 303
    return response.headers["Location"]


def forms_posting_to(html: str, action: str) -> list[str]:
    return re.findall(rf'<form[^>]*action="{re.escape(action)}"[^>]*>.*?</form>', html, re.S)


def wait_for_callbacks(app):
    if transport.EXTENSION in app.extensions:
        assert app.extensions[transport.EXTENSION].wait_until_idle(15)


@pytest.fixture(autouse=True)
def callbacks_finish(app):
    yield
    wait_for_callbacks(app)


# --- 1. a start right after the first admin account is created ------------------------------

def test_first_run_offers_practice_data_or_a_twilio_account(client, app, in_app):
    landing = first_run(client)
    page = text(client.get(landing))
    assert "Try it with practice data (no Twilio account)" in page
    assert "Set up with my Twilio account" in page
    [form] = forms_posting_to(page, "/practice/start")
    assert re.search(r'<button[^>]*name="start" value="practice"[^>]*>Try it with practice data \(no Twilio account\)<',
                     form)
    assert re.search(r'<button[^>]*name="start" value="twilio"[^>]*>Set up with my Twilio account<', form)

    client.get(landing)
    response = client.post("/practice/start", {"start": "practice"})
    assert response.status_code == 303
    assert re.fullmatch(r"/setup/sms/[\w-]+/credential", response.headers["Location"])
    step = text(client.get(response.headers["Location"]))
    assert "Practice sandbox: nothing reaches Twilio." in step and "<h1>Vendor and name</h1>" in step
    with in_app():
        practice = Sandbox.get(Sandbox.is_practice == True)  # noqa: E712
        assert User.get().sandbox_id == practice.id
        run = GuidedRun.get()
        assert run.data["sandbox_id"] == practice.id
    # The practice run starts with the practice account filled in: Next walks on.
    base = response.headers["Location"].rsplit("/", 1)[0]
    assert client.post(f"{base}/credential", {"vendor": "twilio", "name": "Twilio practice"}).status_code == 303
    account = text(client.get(f"{base}/account"))
    assert f'value="{DEMO_ACCOUNT.sid}"' in account
    assert client.post(f"{base}/account", {"account_sid": DEMO_ACCOUNT.sid, "auth_token": ""}).status_code == 303


def test_set_up_with_my_twilio_account_starts_the_guided_setup_in_a_real_sandbox(client, in_app):
    client.get(first_run(client))
    client.post("/practice/start", {"start": "practice"})  # first a look at practice...
    client.get("/practice/start")
    response = client.post("/practice/start", {"start": "twilio"})  # ...then the real thing
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "Practice sandbox" not in page and "<h1>Vendor and name</h1>" in page
    assert 'value="Twilio practice"' not in page
    with in_app():
        assert User.get().sandbox.name == "prod"
        assert {run.data["sandbox_id"] for run in GuidedRun.select()} == {
            Sandbox.get(Sandbox.name == "prod").id, Sandbox.get(Sandbox.is_practice == True).id}  # noqa: E712


def test_the_guided_start_page_and_account_step_point_to_practice_outside_it(signed_in, fake_twilio):
    index = text(signed_in.get("/setup"))
    [form] = forms_posting_to(index, "/practice/start")
    assert "Try it with practice data (no Twilio account)" in form
    first = walk_to(signed_in, fake_twilio, upto="account")
    account = text(signed_in.get(step_url(first, "account")))
    # A button of the step's own form (forms don't nest): it posts that form to practice instead.
    assert re.search(r'<button type="submit" formaction="/practice/start" name="start" value="practice"[^>]*>'
                     r'Try it with practice data \(no Twilio account\)</button>', account)
    step_form = re.search(r'<form id="step-form".*?</form>', account, re.S).group(0)
    assert 'value="next"' in step_form and "Try it with practice data" in step_form
    response = signed_in.post("/practice/start", {"start": "practice", "account_sid": "AC" + "1" * 32,
                                                  "auth_token": "", "action": "next"})
    assert re.fullmatch(r"/setup/sms/[\w-]+/credential", response.headers["Location"])
    # In the practice sandbox there is nothing to point to.
    assert forms_posting_to(text(signed_in.get("/setup")), "/practice/start") == []


# --- 2. and 3. the test message where the setup ends, and its status ---------------------------

def finish_practice_setup(client, in_app) -> int:
    """Try it with practice data, then Next to the end: the new credential's id."""
    client.get("/setup")
    response = client.post("/practice/start", {"start": "practice"})
    base = response.headers["Location"].rsplit("/", 1)[0]
    client.get(f"{base}/credential")
    with in_app():
        sandbox_id = Sandbox.get(Sandbox.is_practice == True).id  # noqa: E712
    for step, data in (("credential", {"vendor": "twilio", "name": "Twilio practice"}),
                       ("account", {"account_sid": DEMO_ACCOUNT.sid, "auth_token": ""}),
                       ("messaging_service", {"messaging_service_sid": DEMO_SERVICES[0].sid}),
                       ("numbers", {f"use_{sandbox_id}": "y", f"number_{sandbox_id}": DEMO_SERVICES[0].numbers[0]})):
        response = client.post(f"{base}/{step}", data)
        assert response.status_code == 303, text(response)
    response = client.post(f"{base}/review")
    assert response.status_code == 303
    return int(re.search(r"/(\d+)$", response.headers["Location"]).group(1))


def test_the_setup_ends_with_a_test_message_form(signed_in, app, in_app):
    credential_id = finish_practice_setup(signed_in, in_app)
    done = text(signed_in.get(f"/setup/sms/done/{credential_id}"))
    [form] = forms_posting_to(done, f"/credentials/{credential_id}/verify")
    assert "Send test message" in form and 'name="number"' in form and 'name="message"' in form
    # The test message is the main action; the channel configuration is what comes after.
    assert done.index("Send test message") < done.index("Create a channel configuration")
    assert 'role="button" href="/channels/new' not in done
    assert "simulated: it costs nothing" in done and "Twilio charges" not in done


def test_a_practice_test_message_moves_by_itself_to_delivered(signed_in, app, in_app):
    credential_id = finish_practice_setup(signed_in, in_app)
    signed_in.get(f"/setup/sms/done/{credential_id}")
    response = signed_in.post(f"/credentials/{credential_id}/verify",
                              {"number": "+12025550150", "message": "Hello from practice"}, htmx=True)
    fragment = text(response)
    sid = re.search(r'<code id="message-sid">(SM\w+)</code>', fragment).group(1)
    status_url = f"/credentials/{credential_id}/messages/{sid}"
    # Not final yet: the status asks again every 2 seconds, by itself; no Refresh button.
    assert f'hx-get="{status_url}?seen=accepted"' in fragment and 'hx-trigger="every 2s"' in fragment
    assert ">Refresh<" not in fragment
    assert f'href="/events/messages/{sid}"' in fragment  # the message's timeline
    wait_for_callbacks(app)
    assert signed_in.htmx_get(f"{status_url}?seen=delivered").status_code == 204  # no news: nothing swapped
    final = text(signed_in.htmx_get(f"{status_url}?seen=accepted"))
    assert "<code>delivered</code>" in final and "hx-trigger" not in final
    # Without JavaScript the page offers a link that checks again.
    page = text(signed_in.get(status_url))
    assert "simulated: it costs nothing" in page and "Twilio charges" not in page
    timeline = text(signed_in.get(f"/events/messages/{sid}"))
    assert "+12025550150" in timeline and "Hello from practice" in timeline


def test_a_failed_message_says_twilios_code_its_meaning_and_links_to_it(signed_in, app, in_app):
    credential_id = finish_practice_setup(signed_in, in_app)
    signed_in.get(f"/credentials/{credential_id}/verify")
    response = signed_in.post(f"/credentials/{credential_id}/verify",
                              {"number": UNDELIVERABLE_NUMBER, "message": "Hi"})
    wait_for_callbacks(app)
    page = text(signed_in.get(response.headers["Location"]))
    assert "<code>undelivered</code>" in page
    assert "Twilio error 30003: Unreachable destination handset." in page
    assert "The phone is switched off or out of coverage" in page
    assert 'href="https://www.twilio.com/docs/api/errors/30003"' in page
    assert "hx-trigger" not in re.search(r'<section id="message-result".*?</section>', page, re.S).group(0)


def test_the_verify_page_of_a_real_credential_still_says_twilio_charges(signed_in, app, fake_twilio):
    credential_id = make_credential(app, fake_twilio)
    page = text(signed_in.get(f"/credentials/{credential_id}/verify"))
    assert "Twilio charges for it" in page and "simulated" not in page


def test_without_javascript_the_status_page_has_a_check_again_link(signed_in, app, fake_twilio):
    credential_id = make_credential(app, fake_twilio)
    signed_in.get(f"/credentials/{credential_id}/verify")
    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": "+14155550123", "message": "Hi"})
    page = text(signed_in.get(response.headers["Location"]))
    section = re.search(r'<section id="message-result".*?</section>', page, re.S).group(0)
    assert re.search(r'<noscript><a href="[^"]+">Check again</a></noscript>', section)
    assert 'hx-trigger="every 2s"' in section and ">Refresh<" not in section


# --- 4. Events rows a person can read ----------------------------------------------------------

def test_status_rows_show_the_recipient_and_the_start_of_the_text(signed_in, app, fake_twilio, in_app):
    credential_id = make_credential(app, fake_twilio)
    signed_in.get(f"/credentials/{credential_id}/verify")
    body = "Your order 1234 has shipped and will arrive on Tuesday between 9 and 12."
    response = signed_in.post(f"/credentials/{credential_id}/verify", {"number": "+14155550123", "message": body})
    sid = response.headers["Location"].rsplit("/", 1)[1]
    with in_app(), database.atomic():
        store.record_status(sandbox=Sandbox.get(Sandbox.name == "prod"), message_sid=sid, status="sent",
                            params={"MessageSid": sid, "MessageStatus": "sent", "To": "+14155550123"},
                            credential=credential_id)
        assert OutboundMessage.get(OutboundMessage.message_sid == sid).body == body
    events = text(signed_in.get("/events"))
    row = re.search(r'<tr id="event-status-\d+".*?</tr>', events, re.S).group(0)
    assert sid in row and "+1 415-555-0123" in row
    assert "Your order 1234 has shipped and will arrive" in row and body not in row


# --- 5. the wrong-token message ----------------------------------------------------------------

def test_a_wrong_token_reads_as_sentences_and_is_not_kept(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    response = signed_in.post(step_url(first, "account"), {"account_sid": fake_twilio.account_sid,
                                                           "auth_token": "0" * 32})
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, "auth_token") == (
        "Twilio error 20003: Authenticate. Check the Account SID and Auth Token in the Account Info pane "
        "of the Twilio console.")
    assert "is saved in this setup" not in page
    assert "is saved in this setup" not in text(signed_in.get(step_url(first, "account")))


# --- 6. Resume, the numbers step ---------------------------------------------------------------

def resume_link(html: str) -> str:
    return re.search(r'<a role="button" href="([^"]+)">Resume</a>', html).group(1)


def test_resume_goes_to_the_first_unfinished_step_or_review(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="numbers")
    # Back from Messaging Service to the account step: that step is the last one saved, not the first open one.
    signed_in.post(step_url(first, "messaging_service"), {"messaging_service_sid": fake_twilio.service_sid,
                                                                 "action": "back"})
    assert resume_link(text(signed_in.get("/setup"))) == step_url(first, "numbers")
    signed_in.post(step_url(first, "numbers"), {"use_1": "y", "number_1": fake_twilio.service_numbers[0]})
    signed_in.post(step_url(first, "account"), {"account_sid": fake_twilio.account_sid, "auth_token": "",
                                               "action": "back"})
    assert resume_link(text(signed_in.get("/setup"))) == step_url(first, "review")


def test_the_numbers_step_of_a_real_credential_lists_real_sandboxes_first(signed_in, app, fake_twilio, in_app):
    with in_app():
        Sandbox.create(name="a practice", name_key="a practice", is_practice=True)
        Sandbox.create(name="staging", name_key="staging")
    first = walk_to(signed_in, fake_twilio, upto="numbers")
    page = text(signed_in.get(step_url(first, "numbers")))
    legends = re.findall(r"<legend>Sandbox ([^<]+)</legend>", page)
    assert legends == ["prod", "staging", "a practice"]


def test_number_fields_have_no_placeholder_that_looks_filled_in(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="numbers")
    page = text(signed_in.get(step_url(first, "numbers")))
    inputs = re.findall(r'<input[^>]*id="number_\d+"[^>]*>', page)
    assert inputs
    for tag in inputs:
        placeholder = re.search(r'placeholder="([^"]*)"', tag)
        assert placeholder is None or not re.search(r"\d", placeholder.group(1)), tag

