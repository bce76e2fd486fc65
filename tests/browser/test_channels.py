"""In Chromium, with JavaScript on (htmx) and off: create a channel configuration through bad
input and submit it until it is Active; duplicate it; delete it after confirming."""
from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in
from tests.support.factories import make_channel_configuration, make_credential


def test_create_and_submit_a_configuration_until_it_is_active(any_page, live_server, app, fake_twilio):
    page = any_page
    create_admin(app)
    make_credential(app, fake_twilio, name="Main Twilio", numbers={"prod": "+14155550101"})
    make_credential(app, fake_twilio, name="Backup Twilio", numbers={"prod": "+14155550103"},
                    messaging_service_sid=fake_twilio.second_service_sid)
    sign_in(page)
    page.get_by_role("link", name="Channel configurations").click()
    expect(page.get_by_text("Sandbox prod has no channel configurations yet.")).to_be_visible()
    page.get_by_role("button", name="New channel configuration").click()
    expect(page.get_by_role("heading", name="New channel configuration")).to_be_visible()
    expect(page.get_by_label("Execution field")).to_have_value("mobilePhone.number")

    # A name that starts with a digit: with htmx the error shows as soon as the field is left.
    mark_page(page)
    page.get_by_label("Name").fill("9lives")
    if page.javascript:
        page.get_by_label("Name").press("Tab")
    else:
        page.get_by_role("button", name="Save as draft").click()
    expect(page.locator("#name-error")).to_have_text("A name starts with a letter, A to Z.")
    assert_not_reloaded(page)
    htmx_settled(page)
    page.get_by_label("Name").fill("Spring_sale")
    if page.javascript:
        page.get_by_label("Name").press("Tab")
        expect(page.locator("#name-error")).to_have_count(0)
        htmx_settled(page)
    page.get_by_label("Description").fill("Spring promotions")
    page.get_by_label("SMS type").select_option(label="Marketing")

    # The sender number is the chosen credential's number in this sandbox.
    sender = page.get_by_label("Sender number")
    expect(sender.locator("option")).to_have_text(["Choose an API credential first"])
    mark_page(page)
    page.get_by_label("API credential").focus()
    page.get_by_label("API credential").select_option(label="Backup Twilio")
    if page.javascript:  # it follows in place
        expect(sender.locator("option")).to_have_text(["+1 415-555-0103 · United States"])
        expect(page.get_by_label("API credential")).to_be_focused()
        assert_not_reloaded(page)
        htmx_settled(page)
        page.get_by_label("API credential").select_option(label="Main Twilio")
        expect(sender.locator("option")).to_have_text(["+1 415-555-0101 · United States"])
        htmx_settled(page)
    # Without JavaScript the server pairs them on submit: the sender number follows the credential.
    page.get_by_label("Subdomain for short URLs").fill("go.example.com")

    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Channel configuration Spring_sale is active")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/channels")
    row = page.locator("tr", has_text="Spring_sale")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("+1 415-555-0101" if page.javascript else "+1 415-555-0103")
    expect(row).to_contain_text("Marketing")


def test_duplicate_then_delete_after_confirming(any_page, live_server, app, fake_twilio):
    page = any_page
    create_admin(app)
    credential = make_credential(app, fake_twilio)
    make_channel_configuration(app, credential, name="Spring_sale", status="active")
    sign_in(page)
    page.goto("/channels")

    page.locator("tr", has_text="Spring_sale").get_by_role("button", name="Duplicate").click()
    expect(page.get_by_text("Channel configuration Spring_sale copied as Spring_sale-copy, a draft.")).to_be_visible()
    expect(page.get_by_role("heading", name="Channel configuration Spring_sale-copy")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Spring_sale-copy")
    expect(page.locator("#channel-status")).to_contain_text("Draft")
    page.get_by_role("link", name="Channel configurations").first.click()
    rows = page.locator("#channel-configurations tbody tr")
    expect(rows).to_have_count(2)

    copy = page.locator("tr", has_text="Spring_sale-copy")
    if page.javascript:
        mark_page(page)
        page.once("dialog", lambda dialog: dialog.dismiss())
        copy.get_by_role("button", name="Delete").click()
        expect(rows).to_have_count(2)  # dismissed: nothing happens
        page.once("dialog", lambda dialog: dialog.accept())
        copy.get_by_role("button", name="Delete").click()
    else:
        copy.get_by_role("button", name="Delete").click()
        expect(page.get_by_role("heading", name="Delete channel configuration Spring_sale-copy?")).to_be_visible()
        page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Channel configuration Spring_sale-copy deleted.")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Spring_sale")
    assert_not_reloaded(page)
