"""Keywords and the consent register in Chromium, with JavaScript on (htmx) and off: edit the
Opt-Out rule in place, then watch a Chinese opt-out arrive in the open consent register and
open the number's history."""
from playwright.sync_api import expect

from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in_as_new_admin
from tests.support.factories import make_credential
from tests.support.keywords import inbound

SENDER = "+886912345678"


def test_edit_a_rule_in_place_then_see_the_consent_register_update(any_page, app, fake_twilio):
    page = any_page
    credential = make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)
    page.goto("/keywords")
    expect(page.get_by_role("heading", name="Main Twilio in sandbox prod")).to_be_visible()

    # Edit the Opt-Out rule: in its row with htmx, on the rule's own page without JavaScript.
    mark_page(page)
    page.locator("#rule-default-opt_out").get_by_role("button", name="Edit").click()
    if page.javascript:
        form = page.locator("#rule-default-opt_out form")
        expect(form).to_be_visible()
    else:
        expect(page.get_by_role("heading", name="Edit the rule STOP, QUIT")).to_be_visible()
        form = page.locator("main form")
    htmx_settled(page)
    form.get_by_label("Keywords").fill("  ")
    form.get_by_role("button", name="Save rule").click()
    error = page.locator("[id$='-keywords-error']")
    expect(error).to_have_text("Enter at least one keyword.")
    assert_not_reloaded(page)
    htmx_settled(page)

    form = page.locator("#keyword-rules form").first if page.javascript else page.locator("main form")
    form.get_by_label("Keywords").fill("STOP, 退訂, 取消訂閱")
    form.get_by_label("Reply").fill("您已取消訂閱。回覆 START 可重新訂閱。")
    form.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Opt-Out rule saved: STOP, 退訂, 取消訂閱.")).to_be_visible()
    opt_out = page.locator("table[aria-labelledby='category-opt_out']")
    expect(opt_out).to_contain_text("退訂")
    expect(opt_out).to_contain_text("您已取消訂閱。回覆 START 可重新訂閱。")
    assert_not_reloaded(page)
    htmx_settled(page)

    # The consent register, open while the opt-out arrives.
    page.get_by_role("link", name="Consent register", exact=True).click()
    expect(page.get_by_role("heading", name="Consent register")).to_be_visible()
    expect(page.get_by_text("No number has opted in or out in sandbox prod yet.")).to_be_visible()
    mark_page(page)
    reply, _message = inbound(app, credential, "退訂！", "SM900", sender=SENDER)
    assert reply == "您已取消訂閱。回覆 START 可重新訂閱。"
    if not page.javascript:
        page.reload()
    row = page.locator("#consent-register tbody tr", has_text=SENDER)
    expect(row).to_contain_text("Opted out")
    assert_not_reloaded(page)
    htmx_settled(page)

    # The number's history: in place with htmx, its own page without JavaScript.
    row.get_by_role("button", name=f"History of {SENDER}").click()
    history = page.get_by_role("list", name=f"History of {SENDER}")
    expect(history).to_contain_text("退訂 (SM900)")
    assert_not_reloaded(page)
    if page.javascript:
        # It stays open, and current, when the register refreshes for a new message.
        htmx_settled(page)
        inbound(app, credential, "START", "SM901", sender=SENDER)
        expect(row).to_contain_text("Opted in")
        expect(history).to_contain_text("START (SM901)")
        expect(history).to_contain_text("退訂 (SM900)")
        assert_not_reloaded(page)
        htmx_settled(page)
        page.get_by_role("button", name="Hide history").click()
        expect(history).to_have_count(0)
    else:
        expect(page.get_by_role("heading", name=f"Consent of {SENDER}")).to_be_visible()


def test_filters_and_export_link(any_page, app, fake_twilio, live_server):
    page = any_page
    credential = make_credential(app, fake_twilio)
    inbound(app, credential, "STOP", "SM910", sender="+14155550101")
    inbound(app, credential, "START", "SM911", sender="+14155550102")
    sign_in_as_new_admin(page, app)
    page.goto("/consent")
    rows = page.locator("#consent-register tbody tr:not([id$='-history'])")
    expect(rows).to_have_count(2)
    mark_page(page)
    page.get_by_label("State").select_option("opted_out")
    if not page.javascript:
        page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+14155550101")
    expect(page).to_have_url(f"{live_server.url}/consent?state=opted_out&number=")
    assert_not_reloaded(page)
    htmx_settled(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("consent-prod-")
    content = open(download.value.path(), encoding="utf-8-sig").read()
    assert "'+14155550101,opted_out" in content and "+14155550102" not in content
