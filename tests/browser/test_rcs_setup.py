"""In Chromium, with JavaScript on and off (issue 12 items 7-9): the RCS setup with no Twilio
credential leads to the SMS/MMS setup and comes back; New channel configuration with channel RCS
offers a custom RCS credential and saves on the first submit; the RCS setup ends on its summary."""
from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in
from tests.support.custom_provider import make_custom
from tests.support.factories import make_credential
from tests.support.guided import RCS_CONSOLE_LABELS

RCS_NUMBER = "+14155550109"


def start_rcs(page):
    page.goto("/setup")
    page.locator("article", has_text="Set up RCS with Twilio").get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Register for RCS at Twilio")).to_be_visible()


def test_rcs_without_a_twilio_credential_goes_through_the_sms_setup_and_back(any_page, app, fake_twilio):
    page = any_page
    create_admin(app)
    sign_in(page)
    start_rcs(page)
    expect(page.locator("#step-needs")).to_contain_text(
        "this step needs a Twilio API credential with a number in this sandbox, and there is none yet.")
    page.get_by_role("button", name="Start “Set up Twilio SMS/MMS”").click()

    expect(page.get_by_role("heading", name="Vendor and name")).to_be_visible()
    expect(page.locator("#returns-to")).to_have_text(
        "When this setup is finished, you go back to “Set up RCS with Twilio”.")
    page.locator("#name").fill("Twilio prod")
    page.get_by_role("button", name="Next").click()
    page.locator("#account_sid").fill(fake_twilio.account_sid)
    page.locator("#auth_token").fill(fake_twilio.auth_token)
    page.get_by_role("button", name="Next").click()
    page.locator(f"button[value='{fake_twilio.service_sid}']").click()
    page.locator("#number_1").fill(fake_twilio.service_numbers[0])
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    page.get_by_role("button", name="Submit").click()

    # Back in the RCS run, at its first step, with the new credential chosen.
    expect(page.get_by_role("heading", name="Register for RCS at Twilio")).to_be_visible()
    expect(page.locator(".flow-name")).to_have_text("Set up RCS with Twilio")
    expect(page.get_by_text("“Set up Twilio SMS/MMS” is finished. You are back in “Set up RCS with Twilio”, "
                            "where you left it.")).to_be_visible()
    expect(page.locator("#step-needs")).to_have_count(0)
    expect(page.locator("#twilio_credential option:checked")).to_have_text("Twilio prod")
    for label in RCS_CONSOLE_LABELS:
        page.get_by_label(label).check()
    htmx_settled(page)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Create the SMS webhook")).to_be_visible()


def test_an_rcs_channel_configuration_offers_the_custom_credential(any_page, live_server, app, fake_twilio,
                                                                   provider_endpoint):
    page = any_page
    create_admin(app)
    make_credential(app, fake_twilio, name="Twilio prod")
    make_custom(app, provider_endpoint, name="Twilio RCS", numbers={"prod": RCS_NUMBER})
    sign_in(page)
    page.goto("/channels/new")
    page.get_by_label("Name").fill("Spring_RCS")
    page.get_by_label("SMS type").select_option(label="Marketing")
    credential, sender = page.get_by_label("API credential"), page.get_by_label("Sender number")
    expect(credential.locator("option")).to_have_text(["Choose an API credential", "Twilio prod"])

    mark_page(page)
    page.get_by_label("Channel").select_option(label="RCS")
    if not page.javascript:
        page.get_by_role("button", name="Update choices").click()
    expect(credential.locator("option")).to_have_text(["Choose an API credential", "Twilio RCS"])
    expect(credential.locator("option:checked")).to_have_text("Twilio RCS")
    expect(sender.locator("option")).to_have_text(["+1 415-555-0109 · United States"])
    expect(page.locator(".field-error")).to_have_count(0)
    expect(page.get_by_label("Name")).to_have_value("Spring_RCS")
    assert_not_reloaded(page)
    if page.javascript:  # the credential's own check reads the channel too
        htmx_settled(page)
        credential.select_option(label="Twilio RCS")
        htmx_settled(page)
        expect(page.locator(".field-error")).to_have_count(0)
        expect(sender.locator("option")).to_have_text(["+1 415-555-0109 · United States"])

    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("Channel configuration Spring_RCS saved as a draft.")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/channels")
    row = page.locator("tr", has_text="Spring_RCS")
    expect(row).to_contain_text("RCS")
    expect(row).to_contain_text("+1 415-555-0109")


def test_the_rcs_setup_ends_on_its_summary(any_page, app, fake_twilio):
    page = any_page
    create_admin(app)
    make_credential(app, fake_twilio, name="Twilio prod")
    sign_in(page)
    start_rcs(page)
    page.locator("#twilio_credential").select_option(label="Twilio prod")
    for label in RCS_CONSOLE_LABELS:
        page.get_by_label(label).check()
    htmx_settled(page)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Create the SMS webhook")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Use the Twilio RCS preset").click()
    expect(page.locator("#auth_type")).to_have_value("basic")
    expect(page.locator("#payload_template-help")).to_have_text(
        "Must contain {{toNumber}} and {{message}}; other {{placeholders}} are allowed. "
        "{{fromNumber}} is not needed: MessagingServiceSid carries it.")
    htmx_settled(page)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Create the RCS channel configuration")).to_be_visible()
    page.locator("#name").fill("RCS_Summary")
    page.locator("#sms_type").select_option("transactional")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("heading", name="RCS is set up")).to_be_visible()
    created = page.locator("#rcs-created")
    expect(created).to_contain_text("Twilio prod RCS (Custom: Twilio)")
    expect(created).to_contain_text("RCS_Summary · RCS · +1 415-555-0101 · United States")
    expect(created).to_contain_text("Draft")
    expect(page.locator("#rcs-done-inbound-url")).to_have_value(page.locator("#rcs-done-inbound-url").input_value())
    assert "/hooks/twilio/" in page.locator("#rcs-done-inbound-url").input_value()
    expect(page.locator("#rcs-next")).to_contain_text("Send a test request to Twilio from the API credential's page")
    expect(page.locator("#rcs-next")).to_contain_text("Choose channel configuration RCS_Summary in a journey")
    created.get_by_role("link", name="RCS_Summary").click()
    expect(page.get_by_role("heading", name="Channel configuration RCS_Summary")).to_be_visible()
    page.go_back()
    page.locator("#rcs-next").get_by_role("link", name="Send a test request").click()
    expect(page.locator("main")).to_contain_text("Twilio prod RCS")
