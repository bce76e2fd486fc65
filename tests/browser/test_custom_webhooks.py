"""In Chromium, with JavaScript on (htmx) and off: create an Inbound custom webhook through a
payload that isn't JSON, then see its URL with a copy button; delete one after confirming."""
import json
import re

from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in
from tests.support.custom_webhooks import FEEDBACK_SAMPLE, make_webhook
from tests.support.factories import make_credential

BAD_PAYLOAD = '{\n  "text": "{{InboundMessage}}",\n  "from": "{{ProfileNumber}}"\n  "id": "{{RequestID}}"\n}'
GOOD_PAYLOAD = json.dumps({"text": "{{InboundMessage}}", "from": "{{ProfileNumber}}", "id": "{{RequestID}}",
                           "at": "{{OriginTimestamp}}", "to": "{{InboundNumber}}"}, indent=2)


def test_create_an_inbound_webhook_through_bad_json_and_copy_its_url(any_page, live_server, app, fake_twilio):
    page = any_page
    create_admin(app)
    make_credential(app, fake_twilio, name="Main Twilio", numbers={"prod": "+14155550101"})
    sign_in(page)
    page.goto("/webhooks/custom")
    expect(page.get_by_text("Sandbox prod has no custom webhooks yet.")).to_be_visible()
    page.get_by_role("button", name="New custom webhook").click()
    expect(page.get_by_role("heading", name="New custom webhook")).to_be_visible()
    page.get_by_label("Name").fill("RCS inbound")
    if page.javascript:  # leaving the name checks it; one check at a time per form
        page.get_by_label("Name").press("Tab")
        htmx_settled(page)
    expect(page.get_by_label("Type")).to_have_value("inbound")
    expect(page.get_by_label("API credential")).to_have_value(page.locator("#credential option", has_text="Main Twilio")
                                                              .get_attribute("value"))
    expect(page.get_by_label("Sender number").locator("option")).to_have_text(["+1 415-555-0101 · United States"])

    if page.javascript:
        # Feedback needs no credential: its fields go, and the payload's help names Feedback's placeholders.
        mark_page(page)
        page.get_by_label("Type").select_option(label="Feedback")
        expect(page.get_by_label("API credential")).to_have_count(0)
        expect(page.locator("#payload-help")).to_contain_text("This type needs: {{clientReference}}, {{code}}")
        htmx_settled(page)
        page.get_by_label("Type").select_option(label="Inbound")
        expect(page.get_by_label("Sender number").locator("option")).to_have_text(["+1 415-555-0101 · United States"])
        expect(page.locator("#payload-help")).to_contain_text("This type needs: {{InboundMessage}}")
        assert_not_reloaded(page)
        htmx_settled(page)

    # JSON with a missing comma: the error says where, right under the field.
    mark_page(page)
    page.get_by_label("Payload").fill(BAD_PAYLOAD)
    if page.javascript:  # checked as soon as the field is left
        page.get_by_label("Payload").press("Tab")
    else:
        page.get_by_role("button", name="Create webhook").click()
    expect(page.locator("#payload-error")).to_have_text(
        "This is not valid JSON: Expecting ',' delimiter at line 4, column 3.")
    expect(page.get_by_label("Payload")).to_have_value(BAD_PAYLOAD)
    expect(page.get_by_label("Name")).to_have_value("RCS inbound")
    assert_not_reloaded(page)
    htmx_settled(page)

    page.get_by_label("Payload").fill(GOOD_PAYLOAD)
    page.get_by_label("HMAC secret").fill("a-shared-secret")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_text("Webhook RCS inbound created. Give the provider its URL.")).to_be_visible()
    expect(page.get_by_role("heading", name="Webhook RCS inbound")).to_be_visible()

    url_field = page.get_by_label("URL for the provider")
    expect(url_field).to_have_value(re.compile(rf"^{re.escape(live_server.url)}/hooks/custom/[A-Za-z0-9_-]{{24}}$"))
    url = url_field.input_value()
    copy = page.locator('button[data-copy="#custom-webhook-url"]')
    if page.javascript:
        expect(copy).to_have_text("Copy")
        copy.click()
        expect(copy).to_have_text("Copied")
    else:
        expect(copy).to_be_hidden()  # it needs JavaScript; the field stays selectable
    expect(page.locator("#sample-command")).to_contain_text("openssl dgst -sha256 -hmac \"$HMAC_SECRET\"")
    expect(page.locator("body")).not_to_contain_text("a-shared-secret")
    expect(page.get_by_label("HMAC secret", exact=True)).to_have_value("")

    # The list has it too, with its URL.
    page.goto("/webhooks/custom")
    row = page.locator("#custom-webhooks tbody tr", has_text="RCS inbound")
    expect(row).to_contain_text("Main Twilio")
    expect(row.locator("input")).to_have_value(url)


def test_delete_after_confirming(any_page, live_server, app):
    page = any_page
    create_admin(app)
    make_webhook(app, None, name="Keep me", type="feedback", payload=FEEDBACK_SAMPLE)
    make_webhook(app, None, name="RCS status", type="feedback", payload=FEEDBACK_SAMPLE)
    sign_in(page)
    page.goto("/webhooks/custom")
    rows = page.locator("#custom-webhooks tbody tr")
    expect(rows).to_have_count(2)
    gone = page.locator("tr", has_text="RCS status")
    if page.javascript:
        mark_page(page)
        page.once("dialog", lambda dialog: dialog.dismiss())
        gone.get_by_role("button", name="Delete").click()
        expect(rows).to_have_count(2)  # dismissed: nothing happens
        page.once("dialog", lambda dialog: dialog.accept())
        gone.get_by_role("button", name="Delete").click()
    else:
        gone.get_by_role("button", name="Delete").click()
        expect(page.get_by_role("heading", name="Delete webhook RCS status?")).to_be_visible()
        page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Webhook RCS status deleted.")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Keep me")
    assert_not_reloaded(page)
    if page.javascript:
        htmx_settled(page)
        # The swapped-in list's copy buttons work too.
        expect(rows.first.get_by_role("button", name="Copy")).to_be_visible()
