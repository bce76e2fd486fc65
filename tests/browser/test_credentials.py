"""API credentials in Chromium, with JavaScript on (htmx) and off: edit with an inline field
check, a conflicting save, delete (refused, then done), Verify SMS connection with its counter."""
from playwright.sync_api import expect

from tests.support.app import ADMIN_PASSWORD, BrowserLikeClient, create_admin
from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in_as_new_admin
from tests.support.factories import make_channel_configuration, make_credential


def test_edit_checks_a_field_as_you_leave_it_then_saves(any_page, app, fake_twilio):
    page = any_page
    make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)
    page.goto("/credentials")
    page.locator("tr", has_text="Main Twilio").get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", name="API credential Main Twilio")).to_be_visible()

    mark_page(page)
    page.get_by_label("Account SID").fill("AC123")
    if page.javascript:  # leaving the field is enough: the server's message appears beside it
        page.get_by_label("Name").focus()
    else:
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#account_sid-error")).to_contain_text("is 34 characters long")
    assert_not_reloaded(page)
    htmx_settled(page)

    page.get_by_label("Account SID").fill(fake_twilio.account_sid)
    if page.javascript:
        page.get_by_label("Name").focus()
        expect(page.locator("#account_sid-error")).to_have_count(0)
        htmx_settled(page)
    page.get_by_label("Name").fill("Main Twilio (edited)")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("API credential Main Twilio (edited) saved.")).to_be_visible()
    expect(page.locator("#credentials")).to_contain_text("Main Twilio (edited)")
    expect(page.locator("#credentials")).not_to_contain_text(fake_twilio.auth_token)


def test_a_conflicting_save_keeps_what_you_typed(any_page, app, fake_twilio, live_server):
    page = any_page
    credential = make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)
    page.goto(f"/credentials/{credential}")
    page.get_by_label("Name").fill("Mine")

    # Meanwhile a colleague saves the same credential.
    create_admin(app, "colleague@example.com")
    colleague = BrowserLikeClient(app.test_client())
    colleague.get("/login")
    colleague.post("/login", {"email": "colleague@example.com", "password": ADMIN_PASSWORD})
    colleague.get(f"/credentials/{credential}")
    assert colleague.post(f"/credentials/{credential}", {
        "name": "Theirs", "account_sid": fake_twilio.account_sid, "auth_token": "",
        "messaging_service_sid": fake_twilio.service_sid, "version": "1",
        "use_1": "y", "number_1": fake_twilio.service_numbers[0]}).status_code == 303

    mark_page(page)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#conflict")).to_contain_text("Someone else saved this credential after you opened it.")
    expect(page.locator("#conflict")).to_contain_text("Name: Theirs")
    expect(page.get_by_label("Name")).to_have_value("Mine")
    assert_not_reloaded(page)
    htmx_settled(page)
    page.get_by_role("button", name="Save", exact=True).click()  # now knowingly over theirs
    expect(page.get_by_text("API credential Mine saved.")).to_be_visible()


def test_delete_is_refused_while_used_then_done(any_page, app, fake_twilio):
    page = any_page
    used = make_credential(app, fake_twilio, "Used one")
    make_channel_configuration(app, used, name="Spring_sale")
    make_credential(app, fake_twilio, "Spare one", numbers={"prod": "+14155550102"})
    sign_in_as_new_admin(page, app)
    page.goto("/credentials")

    def delete(name):
        page.locator("tr", has_text=name).get_by_role("button", name="Delete").click()
        if not page.javascript:  # the confirmation page
            expect(page.get_by_role("heading", name=f"Delete API credential {name}?")).to_be_visible()

    if page.javascript:
        page.on("dialog", lambda dialog: dialog.accept())
    mark_page(page)
    delete("Used one")
    refusal = "API credential Used one is used by channel configuration Spring_sale and cannot be deleted."
    expect(page.get_by_text(refusal)).to_be_visible()
    if not page.javascript:
        page.get_by_role("button", name="Back to API credentials").click()
    expect(page.locator("#credentials")).to_contain_text("Used one")

    delete("Spare one")
    if not page.javascript:
        page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("API credential Spare one deleted.")).to_be_visible()
    expect(page.locator("#credentials")).not_to_contain_text("Spare one")
    expect(page.locator("#credentials")).to_contain_text("Used one")
    assert_not_reloaded(page)


def test_verify_sms_connection_counts_as_you_type_sends_and_refreshes(any_page, app, fake_twilio):
    page = any_page
    credential = make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)
    page.goto("/credentials")
    page.locator("tr", has_text="Main Twilio").get_by_role("button", name="Verify SMS connection").click()
    expect(page.get_by_role("heading", name="Verify SMS connection")).to_be_visible()
    counter = page.locator("#message-counter")
    expect(counter).to_contain_text("0 characters · 0 segments (GSM-7)")

    mark_page(page)
    page.get_by_label("Number").fill("+14155550123")
    message = page.get_by_label("Message")
    if page.javascript:  # the counter follows the typing
        message.press_sequentially("Hello €")
        expect(counter).to_contain_text("7 characters · 1 segment (GSM-7)")
        expect(counter).to_contain_text("These characters count twice: €")
        message.press_sequentially(" 👋")
        expect(counter).to_contain_text("9 characters · 1 segment (UCS-2)")
    else:  # the Count button asks the server, and sends nothing
        message.fill("Hello € 👋")
        page.get_by_role("button", name="Count characters").click()
        expect(counter).to_contain_text("9 characters · 1 segment (UCS-2)")
        assert fake_twilio.messages == {}
    assert_not_reloaded(page)
    htmx_settled(page)

    page.get_by_role("button", name="Send test message").click()
    expect(page.locator("#message-status")).to_contain_text("accepted")
    sid = next(iter(fake_twilio.messages))
    expect(page.locator("#message-sid")).to_have_text(sid)
    assert fake_twilio.messages[sid].body == "Hello € 👋" and fake_twilio.messages[sid].to == "+14155550123"
    assert_not_reloaded(page)
    htmx_settled(page)

    fake_twilio.messages[sid].status = "delivered"
    if not page.javascript:  # with JavaScript the status asks again by itself
        page.get_by_role("link", name="Check again").click()
    expect(page.locator("#message-status")).to_contain_text("delivered to the phone")
    expect(page.locator("#message-sid")).to_have_text(sid)
    assert_not_reloaded(page)
    if not page.javascript:
        assert f"/credentials/{credential}/messages/{sid}" in page.url
