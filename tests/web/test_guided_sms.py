"""The guided flow "Set up Twilio SMS/MMS": every step's URL, live checks against the fake
Twilio, Back keeping input, two runs apart, resume and discard, Finish re-validating."""
import re

import pytest

from tests.support.guided import start, step_url, walk_to
from tests.support.html import field_error, text
from wizard.core.db import database
from wizard.core.models import ApiCredential, AuditEntry, CredentialNumber, GuidedRun


def test_the_whole_flow_creates_a_verified_credential(signed_in, fake_twilio, in_app):
    first = walk_to(signed_in, fake_twilio, upto="review")
    review = text(signed_in.get(step_url(first, "review")))
    assert "Twilio prod" in review and fake_twilio.account_name in review
    assert fake_twilio.auth_token not in review and "••••" + fake_twilio.auth_token[-4:] in review
    response = signed_in.post(step_url(first, "review"))
    assert response.status_code == 303
    done = text(signed_in.get(response.headers["Location"]))
    assert "API credential Twilio prod created" in done
    with in_app():
        credential = ApiCredential.get()
        assert credential.auth_token == fake_twilio.auth_token
        assert credential.verification_state == "verified"
        assert credential.account_type == "Full"
        numbers = [(n.sandbox.name, n.phone_number) for n in credential.numbers]
        assert numbers == [("prod", fake_twilio.service_numbers[0])]
        assert GuidedRun.select().count() == 0
        entry = AuditEntry.get(AuditEntry.object_type == "ApiCredential")
        assert fake_twilio.auth_token not in entry.changes
    # The live checks went through the real twilio client to the fake.
    assert fake_twilio.requests_matching(method="GET", path=f"/2010-04-01/Accounts/{fake_twilio.account_sid}.json")


def test_the_account_step_shows_what_twilio_says(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    url = step_url(first, "account")
    response = signed_in.post(url, {"account_sid": fake_twilio.account_sid, "auth_token": fake_twilio.auth_token,
                                    "action": "check"}, htmx=True)
    assert response.status_code == 200
    assert fake_twilio.account_name in text(response) and "Full" in text(response)
    assert fake_twilio.auth_token not in text(response)


@pytest.mark.parametrize("sid, message", [
    ("XX" + "0" * 32, "An Account SID starts with AC."),
    ("AC" + "0" * 31, "An Account SID is 34 characters long: AC and 32 hex digits (this one has 33)."),
    ("AC" + "g" * 32, "An Account SID has only the hex digits 0-9 and a-f after AC."),
])
def test_bad_account_sids_are_explained_next_to_the_field(signed_in, fake_twilio, sid, message):
    first = walk_to(signed_in, fake_twilio, upto="account")
    response = signed_in.post(step_url(first, "account"), {"account_sid": sid, "auth_token": fake_twilio.auth_token})
    assert response.status_code == 422
    assert field_error(text(response), "account_sid") == message
    assert f'value="{sid}"' in text(response)


def test_inline_validation_returns_just_the_fields_error(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    url = step_url(first, "account") + "?_field=account_sid"  # the one field-check flag of every form
    response = signed_in.post(url, {"account_sid": "AC12"}, htmx=True)
    assert response.status_code == 422
    # The answer is that field again (the one template of every field check), with its error.
    fragment = text(response)
    assert fragment.lstrip().startswith('<div class="field" id="field-account_sid">') and "<html" not in fragment
    assert ('<small id="account_sid-error" class="field-error">An Account SID is 34 characters long: AC and 32 '
            'hex digits (this one has 4).</small>') in fragment
    assert 'id="field-auth_token"' not in fragment
    fine = signed_in.post(url, {"account_sid": fake_twilio.account_sid}, htmx=True)
    assert fine.status_code == 200 and text(fine).lstrip().startswith('<div class="field" id="field-account_sid">')
    assert 'class="field-error"' not in text(fine) and f'value="{fake_twilio.account_sid}"' in text(fine)
    assert signed_in.post(step_url(first, "account") + "?_field=nope", {}, htmx=True).status_code == 400


def test_a_bad_token_and_wrong_credentials(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    url = step_url(first, "account")
    response = signed_in.post(url, {"account_sid": fake_twilio.account_sid, "auth_token": "abc"})
    assert field_error(text(response), "auth_token") == (
        "An Auth Token is 32 hex digits (0-9, a-f); this one has 3 characters.")
    response = signed_in.post(url, {"account_sid": fake_twilio.account_sid, "auth_token": "f" * 32})
    assert response.status_code == 422
    assert field_error(text(response), "auth_token").startswith("Twilio error 20003: Authenticate")
    assert "f" * 32 not in text(response)


def test_an_unknown_account_sid_is_refused_by_twilio(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    response = signed_in.post(step_url(first, "account"), {"account_sid": "AC" + "1" * 32,
                                                           "auth_token": fake_twilio.auth_token})
    assert response.status_code == 422
    assert field_error(text(response), "auth_token").startswith("Twilio error 20003: Authenticate")


def test_a_messaging_service_of_another_account_is_20404(signed_in, fake_twilio):
    other = fake_twilio.add_account(friendly_name="Other company")
    foreign = fake_twilio.add_service(other.sid, "Their service")
    first = walk_to(signed_in, fake_twilio, upto="messaging_service")
    response = signed_in.post(step_url(first, "messaging_service"), {"messaging_service_sid": foreign.sid})
    assert response.status_code == 422
    assert field_error(text(response), "messaging_service_sid").startswith("Twilio error 20404")
    assert "It does not exist in this account." in field_error(text(response), "messaging_service_sid")


def test_suspended_accounts_are_refused_and_trial_accounts_warned(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    url = step_url(first, "account")
    fake_twilio.accounts[fake_twilio.account_sid].status = "suspended"
    response = signed_in.post(url, {"account_sid": fake_twilio.account_sid, "auth_token": fake_twilio.auth_token})
    assert "This Twilio account is suspended and cannot send messages." in field_error(text(response), "account_sid")
    fake_twilio.accounts[fake_twilio.account_sid].status = "active"
    fake_twilio.accounts[fake_twilio.account_sid].type = "Trial"
    response = signed_in.post(url, {"account_sid": fake_twilio.account_sid, "auth_token": fake_twilio.auth_token,
                                    "action": "check"})
    assert "This is a Trial account" in text(response)


def test_twilio_unreachable_keeps_the_draft_and_offers_a_retry(signed_in, app, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    url = step_url(first, "account")
    app.config["TWILIO_BASE_URL"] = "http://127.0.0.1:9"  # nothing listens there
    response = signed_in.post(url, {"account_sid": fake_twilio.account_sid, "auth_token": fake_twilio.auth_token})
    assert response.status_code == 422
    page = text(response)
    assert "Twilio could not be reached: connection refused. Your input is kept; try again." in page
    assert "Try again" in page and f'value="{fake_twilio.account_sid}"' in page
    kept = f'A token ending in <span translate="no">{fake_twilio.auth_token[-4:]}</span> is saved'
    assert kept in text(signed_in.get(url))
    app.config["TWILIO_BASE_URL"] = fake_twilio.base_url
    response = signed_in.post(url, {"account_sid": fake_twilio.account_sid, "auth_token": "", "action": "next"})
    assert response.status_code == 303  # the kept token was used


def test_the_messaging_service_step_lists_services_and_checks_the_sid(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="messaging_service")
    url = step_url(first, "messaging_service")
    page = text(signed_in.get(url))
    assert fake_twilio.service_name in page and fake_twilio.second_service_sid in page
    assert "“Message SID”" in page
    response = signed_in.post(url, {"messaging_service_sid": "MG" + "2" * 32})
    assert "Twilio error 20404" in field_error(text(response), "messaging_service_sid")
    response = signed_in.post(url, {"messaging_service_sid": "SM" + "2" * 32})
    assert field_error(text(response), "messaging_service_sid") == "A Messaging Service SID starts with MG."


def test_the_numbers_step(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="numbers")
    url = step_url(first, "numbers")
    page = text(signed_in.get(url))
    assert fake_twilio.service_numbers[0] in page
    assert re.search(r'<input[^>]*checked[^>]*id="use_1"', page)  # the header's sandbox is preselected
    response = signed_in.post(url, {})
    assert "Choose at least one sandbox that will use this credential." in text(response)
    response = signed_in.post(url, {"use_1": "y", "number_1": ""})
    assert field_error(text(response), "number_1") == "Enter the incoming number for sandbox prod."
    response = signed_in.post(url, {"use_1": "y", "number_1": "0415555"})
    assert field_error(text(response), "number_1").startswith("Start the number with + and its country code")
    response = signed_in.post(url, {"use_1": "y", "number_1": "+14155559999"})
    assert field_error(text(response), "number_1") == "+14155559999 is not a phone number of this Twilio account."
    response = signed_in.post(url, {"use_1": "y", "number_1": fake_twilio.unassigned_number})
    assert response.status_code == 303
    assert "belongs to the account but not to the Messaging Service" in text(signed_in.get(step_url(first, "review")))


def test_back_keeps_what_was_typed(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="messaging_service")
    url = step_url(first, "messaging_service")
    response = signed_in.post(url, {"messaging_service_sid": "MG-half-typed", "action": "back"})
    assert response.headers["Location"] == step_url(first, "account")
    assert 'value="MG-half-typed"' in text(signed_in.get(url))


def test_steps_cannot_be_skipped(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    response = signed_in.get(step_url(first, "numbers"))
    assert response.headers["Location"] == step_url(first, "account")


def test_two_runs_do_not_collide_and_are_listed_to_resume(signed_in, fake_twilio):
    one = walk_to(signed_in, fake_twilio, upto="account", name="First run")
    two = walk_to(signed_in, fake_twilio, upto="account", name="Second run")
    assert one != two
    assert 'value="First run"' in text(signed_in.get(step_url(one, "credential")))
    assert 'value="Second run"' in text(signed_in.get(step_url(two, "credential")))
    page = text(signed_in.get("/setup"))
    assert "First run" in page and "Second run" in page and page.count("Resume") == 2


def test_discard_a_run(signed_in, fake_twilio, in_app):
    first = walk_to(signed_in, fake_twilio, upto="account", name="Throwaway")
    discard = first.rsplit("/", 1)[0] + "/discard"
    assert "Discard this setup?" in text(signed_in.get(discard))
    assert signed_in.post(discard).headers["Location"] == "/setup"
    with in_app():
        assert GuidedRun.select().count() == 0


def test_the_draft_keeps_the_token_encrypted(signed_in, fake_twilio, in_app):
    walk_to(signed_in, fake_twilio, upto="messaging_service")
    with in_app():
        raw = database.execute_sql("SELECT draft FROM guided_run").fetchone()[0]
    assert fake_twilio.auth_token not in raw and fake_twilio.account_sid not in raw


def test_finish_returns_to_a_step_that_no_longer_validates(signed_in, app, fake_twilio, in_app):
    first = walk_to(signed_in, fake_twilio, upto="review", name="Taken later")
    from tests.support.factories import make_credential

    make_credential(app, fake_twilio, name="taken LATER", numbers={})
    response = signed_in.post(step_url(first, "review"))
    assert response.headers["Location"] == step_url(first, "credential")
    page = text(signed_in.get(response.headers["Location"]))
    assert "An API credential with this name already exists." in page
    assert "“Vendor and name” needs your attention before you can finish." in page
    with in_app():
        assert ApiCredential.select().count() == 1 and CredentialNumber.select().count() == 0


def test_someone_elses_run_is_404(signed_in, app, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="account")
    from tests.support.app import BrowserLikeClient, create_admin

    create_admin(app, "other@example.com")
    other = BrowserLikeClient(app.test_client())
    other.get("/login")
    other.post("/login", {"email": "other@example.com", "password": "correct horse battery"})
    assert other.get(first).status_code == 404


def test_sandbox_names_are_escaped_in_the_numbers_step(signed_in, app, fake_twilio):
    signed_in.get("/sandboxes")
    signed_in.post("/sandboxes", {"name": "<b>bold</b>"})
    first = walk_to(signed_in, fake_twilio, upto="numbers")
    response = signed_in.post(step_url(first, "numbers"), {"use_2": "y", "number_2": ""})
    page = text(response)
    assert "<b>bold</b>" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_vendor_custom_leads_to_the_custom_credential_page(signed_in, in_app):
    first = start(signed_in)
    signed_in.get(first)
    response = signed_in.post(first, {"vendor": "custom", "name": "Acme SMS"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/credentials/custom/new?name=Acme+SMS"
    assert 'value="Acme SMS"' in text(signed_in.get(response.headers["Location"]))
    with in_app():
        assert GuidedRun.select().count() == 0  # this run ended there
