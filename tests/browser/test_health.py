"""In Chromium: the health page fills its checks in place (JavaScript on) or arrives with every
result (off), drift leads to Apply to Twilio and back; the guided numbers step shows US readiness."""
from playwright.sync_api import expect

from tests.support.browser import htmx_settled, sign_in_as_new_admin
from tests.support.factories import make_credential
from wizard.core.models import CredentialNumber


def test_the_health_page_fills_in_each_check_and_applies_our_webhooks(any_page, app, fake_twilio, in_app):
    page = any_page
    sign_in_as_new_admin(page, app)
    credential_id = make_credential(app, fake_twilio)
    fake_twilio.add_campaign(fake_twilio.account_sid, fake_twilio.service_sid, "IN_PROGRESS")
    with in_app():
        number = CredentialNumber.get(CredentialNumber.credential == credential_id)
        # A key without a hyphen: its URLs offer the browser no place to break a line.
        number.webhook_key = "XWyLJkYJC0rRUJbLhX2Qs0a9"
        number.save()
    service = fake_twilio.accounts[fake_twilio.account_sid].services[fake_twilio.service_sid]
    service.inbound_request_url = "https://old-platform.example/twilio/XWyLJkYJC0rRUJbLhX2Qs0a9b1c2/inbound"
    service.status_callback = "https://old-platform.example/twilio/XWyLJkYJC0rRUJbLhX2Qs0a9b1c2/status"
    page.get_by_role("link", name="Health").click()
    expect(page.get_by_role("heading", name="Health of sandbox prod")).to_be_visible()
    checks = page.locator(f"#check-{credential_id}-account, #check-{credential_id}-webhooks, "
                          f"#check-{credential_id}-readiness, #check-{credential_id}-failures")
    expect(page.locator(f"#check-{credential_id}-account")).to_contain_text("The Auth Token works")
    expect(page.locator(f"#check-{credential_id}-service")).to_contain_text("Acme order notifications exists")
    expect(page.locator(f"#check-{credential_id}-failures")).to_contain_text("No message failed")
    expect(page.locator(f"#check-{credential_id}-readiness")).to_contain_text("A2P 10DLC campaign in review")
    webhooks = page.locator(f"#check-{credential_id}-webhooks")
    expect(webhooks).to_contain_text("no longer point at this app")
    expect(checks).to_have_count(4)
    expect(page.locator(".health-pending")).to_have_count(0)
    htmx_settled(page)
    # The URLs wrap inside their card: nothing sticks out of it.
    assert webhooks.evaluate("card => card.querySelector('table').scrollWidth <= card.clientWidth")
    # JavaScript: the frame stayed and htmx filled it; without: the frame sent the browser to ?now=1.
    assert page.url.endswith("/health?now=1") != page.javascript

    if page.javascript:
        page.once("dialog", lambda dialog: dialog.accept())  # the Apply form's own confirmation
    webhooks.get_by_role("button", name="Apply to Twilio").click()
    expect(page.get_by_role("heading", name="Apply to Twilio: Main Twilio")).to_be_visible()
    page.get_by_role("button", name="Write ours to Twilio").click()
    expect(page.get_by_role("heading", name="Health of sandbox prod")).to_be_visible()
    expect(page.locator(f"#check-{credential_id}-webhooks")).to_contain_text(
        "Twilio sends this Messaging Service's inbound messages and delivery status here.")
    assert service.inbound_request_url.endswith(f"/hooks/twilio/{number.webhook_key}/inbound")


def test_readiness_in_the_guided_numbers_step(any_page, app, fake_twilio):
    page = any_page
    sign_in_as_new_admin(page, app)
    tf = fake_twilio.add_number(fake_twilio.account_sid, "+18335550177", fake_twilio.service_sid)
    fake_twilio.add_tollfree_verification(fake_twilio.account_sid, tf.sid, "TWILIO_REJECTED",
                                          "The opt-in flow was not shown.")
    fake_twilio.add_campaign(fake_twilio.account_sid, fake_twilio.service_sid, "VERIFIED")
    page.goto("/setup")
    page.locator("form[action='/setup/sms'] button").first.click()
    page.get_by_label("Name", exact=True).fill("Twilio prod")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Account SID").fill(fake_twilio.account_sid)
    page.get_by_label("Auth Token").fill(fake_twilio.auth_token)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Messaging Service SID").fill(fake_twilio.service_sid)
    page.get_by_role("button", name="Next").click()
    readiness = page.locator(".readiness")
    expect(readiness).to_contain_text("Can it send to US phones?")
    expect(readiness.locator("tr", has_text="+1 415-555-0101")).to_contain_text("A2P 10DLC campaign verified")
    expect(readiness.locator("tr", has_text="+1 833-555-0177")).to_contain_text("Toll-free verification rejected")
    expect(readiness).to_contain_text("Twilio's reason: The opt-in flow was not shown.")  # in Twilio's words
