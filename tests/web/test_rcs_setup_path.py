"""Issue 12 items 7 and 9: starting the RCS setup with no Twilio credential leads to the SMS/MMS
setup, which comes back to the RCS run when it finishes; the RCS setup ends on a summary of what
it created, with links and what to do next."""
import html
import re

from tests.support.factories import make_credential
from tests.support.guided import RCS_CONSOLE, start_rcs, step_url, walk_to
from tests.support.html import text
from wizard.core.models import ApiCredential, ChannelConfiguration

NEEDED = ("RCS is sent through a Twilio account: this step needs a Twilio API credential with a number in this "
          "sandbox, and there is none yet. Set up Twilio SMS/MMS first; when it is finished, you come back here.")


def test_rcs_without_a_twilio_credential_leads_to_the_sms_setup_and_back(signed_in, fake_twilio, in_app):
    base = start_rcs(signed_in)
    token = base.rsplit("/", 1)[1]
    page = html.unescape(text(signed_in.get(f"{base}/register")))
    assert NEEDED in page
    assert re.search(rf'<form method="post" action="/setup/sms">.*?name="return_to" value="{token}".*?'
                     r'Start “Set up Twilio SMS/MMS”</button>', page, re.S)

    first = walk_to(signed_in, fake_twilio, upto="review", return_to=token)
    page = html.unescape(text(signed_in.get(step_url(first, "numbers"))))
    assert "When this setup is finished, you go back to “Set up RCS with Twilio”." in page
    response = signed_in.post(step_url(first, "review"))
    assert response.status_code == 303
    assert response.headers["Location"] == f"{base}/register"
    page = html.unescape(text(signed_in.get(response.headers["Location"])))
    assert "“Set up Twilio SMS/MMS” is finished. You are back in “Set up RCS with Twilio”, where you left it." in page
    assert NEEDED not in page
    with in_app():
        created = ApiCredential.get(ApiCredential.name == "Twilio prod")
    assert f'<option selected value="{created.id}">Twilio prod</option>' in page


def test_an_sms_setup_started_alone_ends_on_its_own_page(signed_in, fake_twilio):
    first = walk_to(signed_in, fake_twilio, upto="review", return_to="not-a-run")
    response = signed_in.post(step_url(first, "review"))
    assert response.headers["Location"].startswith("/setup/sms/done/")


def test_the_rcs_setup_ends_on_a_summary_of_what_it_created(signed_in, app, fake_twilio, in_app):
    twilio = make_credential(app, fake_twilio, name="Twilio prod")
    base = start_rcs(signed_in)
    signed_in.get(f"{base}/register")
    assert signed_in.post(f"{base}/register", {"twilio_credential": str(twilio), **RCS_CONSOLE}).status_code == 303
    assert signed_in.post(f"{base}/webhook", {}).status_code == 303
    url = f"https://api.twilio.com/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    response = signed_in.post(f"{base}/credential", {
        "name": "Twilio RCS", "provider_name": "Twilio", "provider_url": url, "auth_type": "basic",
        "basic_username": fake_twilio.account_sid, "basic_password": fake_twilio.auth_token,
        "payload_format": "form",
        "payload_template": f"To={{{{toNumber}}}}&MessagingServiceSid={fake_twilio.service_sid}&Body={{{{message}}}}"})
    assert response.status_code == 303, text(response)
    assert signed_in.post(f"{base}/channel", {"name": "RCS_Marketing", "sms_type": "marketing",
                                               "execution_field": "mobilePhone.number"}).status_code == 303
    response = signed_in.post(f"{base}/review")
    assert response.status_code == 303
    with in_app():
        configuration = ChannelConfiguration.get(ChannelConfiguration.name == "RCS_Marketing")
        custom = ApiCredential.get(ApiCredential.name == "Twilio RCS")
    assert response.headers["Location"] == f"/setup/rcs/done/{configuration.id}"
    page = html.unescape(text(signed_in.get(response.headers["Location"])))
    assert "<h1>RCS is set up</h1>" in page
    assert f'<a href="/credentials/{custom.id}">Twilio RCS</a> (Custom: Twilio)' in page
    assert f'<a href="/channels/{configuration.id}">RCS_Marketing</a> · RCS · +1 415-555-0101 · United States' in page
    assert "Draft" in page
    assert "/hooks/twilio/" in page  # the webhook URLs of the number RCS falls back to
    assert "RCS replies, opt-outs and delivery status reach this app through the webhooks of number " \
           "+1 415-555-0101 · United States (API credential Twilio prod), as for SMS." in page
    assert ("Send a test request to Twilio from the API credential's page, then submit the channel configuration "
            "again: it stays a draft until a test request succeeds.") in page
    assert f'href="/credentials/{custom.id}/test"' in page
    assert "Choose channel configuration RCS_Marketing in a journey that sends RCS." in page
    # An SMS configuration has no RCS summary.
    with in_app():
        sms = ChannelConfiguration.create(name="Sms_one", name_key="sms_one", channel="sms", sms_type="marketing",
                                          credential=twilio, sandbox=configuration.sandbox_id,
                                          sender_number="+14155550101", execution_field="mobilePhone.number")
    assert signed_in.get(f"/setup/rcs/done/{sms.id}").status_code == 404


def payload_help(page: str) -> str:
    return html.unescape(re.search(r'id="payload_template-help" class="help">([^<]*)<', page).group(1))


def test_the_payload_help_matches_the_twilio_rcs_preset(signed_in, app, fake_twilio):
    """Item 10: the preset has no {{fromNumber}} (MessagingServiceSid picks the sender): the help says so."""
    twilio = make_credential(app, fake_twilio, name="Twilio prod")
    base = start_rcs(signed_in)
    signed_in.get(f"{base}/register")
    signed_in.post(f"{base}/register", {"twilio_credential": str(twilio), **RCS_CONSOLE})
    signed_in.post(f"{base}/webhook", {})
    blank = text(signed_in.get(f"{base}/credential"))
    assert payload_help(blank) == ("Must contain {{fromNumber}}, {{toNumber}} and {{message}}; other "
                                   "{{placeholders}} are allowed.")
    page = text(signed_in.post(f"{base}/credential", {"action": "preset"}))
    assert payload_help(page) == ("Must contain {{toNumber}} and {{message}}; other {{placeholders}} are allowed. "
                                  "{{fromNumber}} is not needed: MessagingServiceSid carries it.")
    # The field's own check answers with the help for what is typed now.
    response = signed_in.post(f"{base}/credential?_field=payload_template", {
        "payload_format": "form", "payload_template": "To={{toNumber}}&Body={{message}}"}, htmx=True)
    assert payload_help(text(response)) == ("Must contain {{fromNumber}}, {{toNumber}} and {{message}}; other "
                                            "{{placeholders}} are allowed.")
