"""The health page (one fragment per check, or every check before the page with ?now=1), US sending
readiness on the credential page and in the guided numbers step, and `flask --app app health`."""
import datetime
import re
from contextlib import contextmanager
from html import unescape

import pytest

from tests.support.factories import make_credential
from tests.support.guided import step_url, walk_to
from tests.support.html import text
from tests.support.practice import practice_sandbox
from wizard.core.db import database
from wizard.core.models import ApiCredential, CredentialNumber, InboundMessage, StatusEvent, utcnow
from wizard.providers.twilio.simulator import (
    DEMO_ACCOUNT,
    DEMO_SERVICES,
    DEMO_TOLL_FREE_REJECTION,
    MESSAGING_HOST,
)


@pytest.fixture
def credential_id(app, fake_twilio):
    return make_credential(app, fake_twilio)


@pytest.fixture
def number(app, in_app, credential_id):
    with in_app():
        return CredentialNumber.get(CredentialNumber.credential == credential_id)


def service(fake_twilio):
    return fake_twilio.accounts[fake_twilio.account_sid].services[fake_twilio.service_sid]


def apply_ours(fake_twilio, number):
    service(fake_twilio).inbound_request_url = f"http://localhost/hooks/twilio/{number.webhook_key}/inbound"
    service(fake_twilio).status_callback = f"http://localhost/hooks/twilio/{number.webhook_key}/status"


def check(client, credential_id, name):
    response = client.htmx_get(f"/health/{credential_id}/{name}")
    assert response.status_code == 200
    return unescape(text(response))


@contextmanager
def twilio_down(fake_twilio):
    """Twilio stops answering (connection refused) for the block."""
    fake_twilio.stop()
    try:
        yield
    finally:
        fake_twilio.start()


def toll_free(fake_twilio, status=None, reason=None):
    number = fake_twilio.add_number(fake_twilio.account_sid, "+18335550177", fake_twilio.service_sid)
    if status:
        fake_twilio.add_tollfree_verification(fake_twilio.account_sid, number.sid, status, reason)
    return number


# -- the frame and its fragments ----------------------------------------------------------------


def test_the_page_is_a_frame_whose_checks_load_one_by_one(signed_in, credential_id, fake_twilio):
    fake_twilio.clear_requests()
    page = text(signed_in.get("/health"))
    assert "Health of sandbox prod" in page
    for name in ("account", "service", "webhooks", "failures", "readiness"):
        assert f'hx-get="/health/{credential_id}/{name}" hx-trigger="load"' in page
    assert not fake_twilio.requests  # the frame asks Twilio nothing
    assert '<meta http-equiv="refresh" content="0; url=/health?now=1">' in page  # without JavaScript


def test_the_navigation_links_the_health_page(signed_in, credential_id):
    assert '<a href="/health"' in text(signed_in.get("/credentials"))


def test_without_javascript_every_check_runs_before_the_page_is_sent(signed_in, credential_id, number, fake_twilio):
    apply_ours(fake_twilio, number)
    page = unescape(text(signed_in.get("/health?now=1")))
    assert "hx-trigger" not in page.split("<main", 1)[1]
    assert "The Auth Token works and the account Acme Retail (production) is active (Full)." in page
    assert "The Messaging Service Acme order notifications exists." in page
    assert "Twilio sends this Messaging Service's inbound messages and delivery status here." in page
    assert "No message failed in the last 24 hours." in page
    assert "No A2P 10DLC campaign" in page


def test_a_check_of_a_credential_in_another_sandbox_is_not_found(signed_in, app, fake_twilio):
    other = make_credential(app, fake_twilio, name="Dev Twilio", numbers={"dev": fake_twilio.service_numbers[1]})
    prod = make_credential(app, fake_twilio, name="Prod Twilio")
    assert signed_in.get(f"/health/{prod}/webhooks").status_code == 200
    assert signed_in.get(f"/health/{other}/webhooks").status_code == 404
    assert signed_in.get(f"/health/{other}/unknown").status_code == 404
    assert signed_in.get("/health/999999/account").status_code == 404


# -- token and account --------------------------------------------------------------------------


def test_counts_are_said_in_words_for_one(app, signed_in, credential_id, number):
    with app.app_context(), database.connection_context():
        StatusEvent.create(credential=credential_id, sandbox=number.sandbox_id, message_sid="SM" + "9" * 32,
                           status="failed", error_code="30007")
    assert "1 message failed in the last 24 hours." in check(signed_in, credential_id, "failures")


def test_a_valid_token_and_an_active_account(signed_in, credential_id, fake_twilio):
    fake_twilio.clear_requests()
    assert "The Auth Token works and the account Acme Retail (production) is active (Full)." in check(
        signed_in, credential_id, "account")
    [request] = fake_twilio.requests
    assert (request.method, request.path) == ("GET", f"/2010-04-01/Accounts/{fake_twilio.account_sid}.json")


def test_a_token_that_no_longer_works(signed_in, credential_id, fake_twilio):
    fake_twilio.accounts[fake_twilio.account_sid].auth_token = "f" * 32  # rotated in the console
    page = check(signed_in, credential_id, "account")
    assert "Failed" in page
    assert "Twilio error 20003: Authenticate. The stored Auth Token is no longer valid" in page


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_a_suspended_or_closed_account(signed_in, credential_id, fake_twilio, status):
    fake_twilio.accounts[fake_twilio.account_sid].status = status
    assert f"the account Acme Retail (production) is {status}: it cannot send messages." in check(
        signed_in, credential_id, "account")


def test_twilio_unreachable_is_shown_with_its_reason(signed_in, credential_id, fake_twilio):
    with twilio_down(fake_twilio):
        page = check(signed_in, credential_id, "account")
    assert "Twilio could not be reached: connection refused" in page


@pytest.mark.parametrize("name", ["account", "service", "webhooks", "readiness"])
def test_a_check_that_takes_too_long_is_reported_within_its_bound(app, signed_in, credential_id, fake_twilio, name):
    app.config["HEALTH_CHECK_SECONDS"] = 1
    fake_twilio.slow_accounts[fake_twilio.account_sid] = 3
    page = check(signed_in, credential_id, name)
    assert "No answer within 1 seconds: Twilio or the provider is slow or unreachable." in page


# -- the Messaging Service and drift ------------------------------------------------------------


def test_a_messaging_service_that_no_longer_exists(signed_in, credential_id, fake_twilio):
    del fake_twilio.accounts[fake_twilio.account_sid].services[fake_twilio.service_sid]
    page = check(signed_in, credential_id, "service")
    assert "Twilio error 20404" in page
    assert f"The Messaging Service {fake_twilio.service_sid} no longer exists in this account" in page


def test_drift_shows_both_urls_and_offers_apply_to_twilio(signed_in, credential_id, number, fake_twilio):
    page = check(signed_in, credential_id, "webhooks")  # the fake's service points at another platform
    assert "no longer point at this app" in page
    assert "https://hooks.acme.example/twilio/inbound" in page
    assert f"http://localhost/hooks/twilio/{number.webhook_key}/inbound" in page
    assert "Not expected: Twilio sends this service's inbound messages elsewhere." in page
    assert f'href="/webhooks/twilio/{number.id}/apply?next=/health"' in page


def test_apply_from_the_health_page_asks_then_writes_ours_and_comes_back(signed_in, credential_id, number,
                                                                         fake_twilio):
    confirm = text(signed_in.get(f"/webhooks/twilio/{number.id}/apply?next=/health"))
    assert "Replace the Messaging Service settings at Twilio with ours?" in confirm  # its usual confirmation
    assert '<input type="hidden" name="next" value="/health">' in confirm
    assert not fake_twilio.requests_matching(method="POST")
    response = signed_in.post(f"/webhooks/twilio/{number.id}/apply", {"next": "/health"})
    assert response.status_code == 303 and response.headers["Location"] == "/health"
    [update] = fake_twilio.requests_matching(method="POST", host=MESSAGING_HOST)
    assert update.path == f"/v1/Services/{fake_twilio.service_sid}"
    assert update.form["InboundRequestUrl"] == f"http://localhost/hooks/twilio/{number.webhook_key}/inbound"
    page = check(signed_in, credential_id, "webhooks")
    assert "Twilio sends this Messaging Service's inbound messages and delivery status here." in page
    assert "Apply to Twilio" not in page


def test_apply_goes_back_only_to_a_page_of_this_site(signed_in, number):
    response = signed_in.post(f"/webhooks/twilio/{number.id}/apply", {"next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_last_signed_events_are_shown_with_their_age(app, signed_in, credential_id, number, fake_twilio):
    apply_ours(fake_twilio, number)
    with app.app_context(), database.connection_context():
        InboundMessage.create(credential=credential_id, sandbox=number.sandbox_id, message_sid="SM" + "1" * 32,
                              from_number="+12025550150", to_number="+14155550101",
                              received_at=utcnow() - datetime.timedelta(hours=3))
        InboundMessage.create(credential=credential_id, sandbox=number.sandbox_id, message_sid="SM" + "2" * 32,
                              from_number="+12025550150", to_number="+14155550101", signed=False)  # log-only
    page = check(signed_in, credential_id, "webhooks")
    assert "Last signed inbound message: 3 hours ago" in page
    assert "Expected: Twilio sends this service's inbound messages here." in page
    assert "No signed status callback has arrived yet." in page
    assert "Expected: Twilio sends this service's delivery status here." in page


# -- delivery failures --------------------------------------------------------------------------


def test_failures_of_the_last_day_grouped_by_code_with_meanings_and_timelines(app, signed_in, credential_id,
                                                                               number):
    recent, old = utcnow() - datetime.timedelta(hours=2), utcnow() - datetime.timedelta(hours=30)
    rows = [("a", "undelivered", "30034", recent), ("b", "undelivered", "30034", recent),
            ("b", "failed", "30034", recent), ("c", "failed", "30032", recent),
            ("d", "undelivered", "30003", old), ("e", "delivered", None, recent)]
    with app.app_context(), database.connection_context():
        for letter, status, code, at in rows:
            StatusEvent.create(credential=credential_id, sandbox=number.sandbox_id, message_sid="SM" + letter * 32,
                               status=status, error_code=code, received_at=at)
    page = check(signed_in, credential_id, "failures")
    assert "3 messages failed in the last 24 hours." in page
    assert "The US sender number is not registered for A2P 10DLC." in page
    assert "The toll-free sender is not verified yet." in page
    assert "30003" not in page  # older than a day
    assert "2 messages" in page and "1 message" in page
    assert f'href="/events/messages/SM{"a" * 32}"' in page
    assert f'href="/events/messages/SM{"c" * 32}"' in page
    assert "https://www.twilio.com/docs/api/errors/30034" in page


@pytest.mark.parametrize("code", ["30003", "30005", "30006", "30007", "30008", "30032", "30034"])
def test_each_common_delivery_error_has_its_meaning(app, signed_in, credential_id, number, code):
    with app.app_context(), database.connection_context():
        StatusEvent.create(credential=credential_id, sandbox=number.sandbox_id, message_sid="SM" + "f" * 32,
                           status="undelivered", error_code=code)
    assert "See Twilio's page on this code." not in check(signed_in, credential_id, "failures")


# -- US sending readiness -----------------------------------------------------------------------


@pytest.mark.parametrize("status, label, advice", [
    ("VERIFIED", "A2P 10DLC campaign verified", "Nothing to do."),
    ("IN_PROGRESS", "A2P 10DLC campaign in review", "Wait for the review"),
    ("FAILED", "A2P 10DLC campaign failed", "correct the campaign and submit it again"),
    (None, "No A2P 10DLC campaign", "Register a brand and a campaign"),
])
def test_a_10dlc_numbers_readiness_is_its_services_campaign(signed_in, credential_id, fake_twilio, status, label,
                                                             advice):
    if status:
        fake_twilio.add_campaign(fake_twilio.account_sid, fake_twilio.service_sid, status)
    fake_twilio.clear_requests()
    page = check(signed_in, credential_id, "readiness")
    assert label in page and advice in page
    assert "+1 415-555-0101" in page and "US local number (10DLC)" in page
    assert ("this is a warning, not a blocker" in page) == (status != "VERIFIED")
    assert "https://console.twilio.com/" in page
    [campaigns] = fake_twilio.requests_matching(host=MESSAGING_HOST,
                                                path=f"/v1/Services/{fake_twilio.service_sid}/Compliance/Usa2p")
    assert campaigns.method == "GET"


@pytest.mark.parametrize("status, label", [
    ("PENDING_REVIEW", "Toll-free verification submitted"),
    ("IN_REVIEW", "Toll-free verification in review"),
    ("TWILIO_APPROVED", "Toll-free verification approved"),
    ("TWILIO_REJECTED", "Toll-free verification rejected"),
    (None, "Toll-free number not verified"),
])
def test_a_toll_free_numbers_readiness_is_its_verification(signed_in, credential_id, fake_twilio, status, label):
    number = toll_free(fake_twilio, status, "The opt-in flow was not shown." if status == "TWILIO_REJECTED" else None)
    fake_twilio.clear_requests()
    page = check(signed_in, credential_id, "readiness")
    assert "+1 833-555-0177" in page and label in page
    reason = 'Twilio\'s reason: <q lang="en">The opt-in flow was not shown.</q>'
    assert (reason in page) == (status == "TWILIO_REJECTED")
    [lookup] = fake_twilio.requests_matching(host=MESSAGING_HOST, path="/v1/Tollfree/Verifications")
    assert lookup.method == "GET" and lookup.query_string.startswith(f"TollfreePhoneNumberSid={number.sid}")


def test_short_codes_and_numbers_outside_the_us_are_not_checked(signed_in, credential_id, fake_twilio):
    fake_twilio.add_number(fake_twilio.account_sid, "+886912345678", fake_twilio.service_sid)
    page = check(signed_in, credential_id, "readiness")
    assert "Number outside the US" in page
    assert "no registration is checked for this number" in page


def test_readiness_shows_twilio_unreachable(signed_in, credential_id, fake_twilio):
    with twilio_down(fake_twilio):
        page = check(signed_in, credential_id, "readiness")
    assert "Twilio could not be reached: connection refused" in page


def test_readiness_shows_twilios_error_code(signed_in, credential_id, fake_twilio):
    del fake_twilio.accounts[fake_twilio.account_sid].services[fake_twilio.service_sid]
    assert "Twilio error 20404" in check(signed_in, credential_id, "readiness")


def test_the_credential_page_loads_its_readiness(signed_in, credential_id):
    page = text(signed_in.get(f"/credentials/{credential_id}"))
    assert f'hx-get="/health/{credential_id}/readiness" hx-trigger="load"' in page
    assert f'<a href="/health/{credential_id}/readiness">' in page  # without JavaScript: a page of its own
    assert "No A2P 10DLC campaign" in text(signed_in.get(f"/health/{credential_id}/readiness"))


# -- custom providers ---------------------------------------------------------------------------


def custom_credential(app, **fields) -> int:
    with app.app_context(), database.connection_context():
        credential = ApiCredential.create(name="RCS provider", name_key="rcs provider", vendor="custom",
                                          provider_name="Acme RCS", provider_url="https://rcs.example/send",
                                          auth_type=fields.pop("auth_type", "bearer"), **fields)
        sandbox = CredentialNumber.select().first().sandbox
        CredentialNumber.create(credential=credential, sandbox=sandbox, phone_number="+14155550101")
        return credential.id


def test_a_custom_credentials_last_test_request_and_token_expiry(app, signed_in, credential_id):
    custom = custom_credential(app, auth_type="oauth2", verification_state="verified",
                               verified_at=utcnow() - datetime.timedelta(minutes=5),
                               oauth_expires_at=utcnow() + datetime.timedelta(minutes=30))
    page = text(signed_in.get("/health"))
    assert f'hx-get="/health/{custom}/test_request"' in page and f'hx-get="/health/{custom}/oauth"' in page
    assert f'hx-get="/health/{custom}/account"' not in page
    assert "The last test request to Acme RCS was answered 2xx." in check(signed_in, custom, "test_request")
    assert "Last success: 5 minutes ago" in check(signed_in, custom, "test_request")
    oauth = check(signed_in, custom, "oauth")
    assert "A cached access token is valid." in oauth and "Expires in 30 minutes" in oauth


def test_a_failed_test_request_and_an_expired_token(app, signed_in, credential_id):
    custom = custom_credential(app, auth_type="oauth2", verification_state="failed",
                               verification_error="The provider answered 401 Unauthorized.",
                               oauth_expires_at=utcnow() - datetime.timedelta(hours=2))
    page = check(signed_in, custom, "test_request")
    assert "Failed" in page and "The provider answered 401 Unauthorized." in page
    assert "The cached access token has expired" in check(signed_in, custom, "oauth")


def test_no_oauth_check_without_oauth(app, signed_in, credential_id):
    custom = custom_credential(app)
    assert "No test request has been sent yet" in check(signed_in, custom, "test_request")
    assert signed_in.get(f"/health/{custom}/oauth").status_code == 404


# -- the command --------------------------------------------------------------------------------


def test_the_command_prints_every_check_and_exits_0_when_none_failed(app, credential_id, number, fake_twilio):
    apply_ours(fake_twilio, number)
    result = app.test_cli_runner().invoke(args=["health"])
    assert result.exit_code == 0, result.output
    assert "Sandbox prod: 1 API credentials" in result.output
    assert re.search(r"OK +Main Twilio · Auth Token and account: The Auth Token works", result.output)
    assert re.search(r"WARNING +Main Twilio · US sending readiness", result.output)
    assert result.output.strip().endswith("All checks passed.")


def test_the_command_exits_1_on_drift(app, credential_id, fake_twilio):
    result = app.test_cli_runner().invoke(args=["health", "--sandbox", "prod"])
    assert result.exit_code == 1
    assert re.search(r"FAIL +Main Twilio · Webhooks at Twilio", result.output)
    assert result.output.strip().endswith("1 checks failed.")


def test_the_command_exits_1_when_twilio_is_down(app, credential_id, number, fake_twilio):
    apply_ours(fake_twilio, number)
    with twilio_down(fake_twilio):
        result = app.test_cli_runner().invoke(args=["health"])
    assert result.exit_code == 1
    assert "Twilio could not be reached" in result.output


def test_the_command_refuses_an_unknown_sandbox(app, credential_id):
    result = app.test_cli_runner().invoke(args=["health", "--sandbox", "nope"])
    assert result.exit_code == 2 and "No sandbox is named nope." in result.output


# -- the guided numbers step, and practice --------------------------------------------------------


def test_the_numbers_step_shows_each_numbers_readiness_as_a_warning(signed_in, fake_twilio):
    fake_twilio.add_campaign(fake_twilio.account_sid, fake_twilio.service_sid, "IN_PROGRESS")
    first = walk_to(signed_in, fake_twilio, upto="numbers")
    page = unescape(text(signed_in.get(step_url(first, "numbers"))))
    assert "Can it send to US phones?" in page
    assert "A2P 10DLC campaign in review" in page and "+1 415-555-0102" in page
    response = signed_in.post(step_url(first, "numbers"), {"use_1": "y", "number_1": fake_twilio.service_numbers[0]})
    assert response.status_code == 303  # a warning, not a blocker


def test_the_numbers_step_shows_a_rejected_toll_free_number(signed_in, fake_twilio):
    toll_free(fake_twilio, "TWILIO_REJECTED", "The opt-in flow was not shown.")
    first = walk_to(signed_in, fake_twilio, upto="numbers")
    page = unescape(text(signed_in.get(step_url(first, "numbers"))))
    assert "Toll-free verification rejected" in page
    assert 'Twilio\'s reason: <q lang="en">The opt-in flow was not shown.</q>' in page


def practice_credential(app, fake_twilio, signed_in, service) -> int:
    sandbox_id = practice_sandbox(app)
    assert signed_in.post("/sandboxes/current", {"sandbox": sandbox_id, "next": "/health"}).status_code == 303
    return make_credential(app, fake_twilio, name="Demo Twilio", numbers={"practice": service.numbers[0]},
                           account_sid=DEMO_ACCOUNT.sid, auth_token=DEMO_ACCOUNT.auth_token,
                           messaging_service_sid=service.sid)


def test_practice_shows_a_pending_campaign_and_a_rejected_toll_free_number(app, signed_in, fake_twilio):
    credential = practice_credential(app, fake_twilio, signed_in, DEMO_SERVICES[1])
    fake_twilio.clear_requests()
    page = check(signed_in, credential, "readiness")
    assert "A2P 10DLC campaign in review" in page
    assert "Toll-free verification rejected" in page and DEMO_TOLL_FREE_REJECTION in page
    assert not fake_twilio.requests  # the simulator in the app answered, not the network


def test_practice_shows_a_verified_campaign_and_every_check(app, signed_in, fake_twilio):
    credential = practice_credential(app, fake_twilio, signed_in, DEMO_SERVICES[0])
    page = unescape(text(signed_in.get("/health?now=1")))
    assert "Health of sandbox practice" in page
    assert "A2P 10DLC campaign verified" in page
    assert "The Auth Token works and the account Demo Retail (practice) is active (Full)." in page
    assert "https://old-platform.example/twilio/inbound" in page  # drift: the seed's previous platform
    assert f"/webhooks/twilio/{credential}/apply?next=/health" in page
