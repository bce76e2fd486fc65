"""Custom provider credentials in Chromium, with JavaScript on (htmx) and off: create one with an
API key against a local HTTPS provider (auth type fields swapping, a header row, the preview),
send a test request the provider records, edit it keeping the secret, and see bad input and a
failing provider explained."""
import json

from playwright.sync_api import expect

from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in_as_new_admin
from tests.support.custom_provider import API_KEY, make_custom
from tests.support.queries import stored

REDACTED = "••••redacted"


def show_auth_fields(page, auth_type):
    page.get_by_label("Auth type").select_option(auth_type)
    if not page.javascript:  # the select can't ask the server by itself
        page.get_by_role("button", name="Show the fields of this auth type").click()
    htmx_settled(page)


def test_create_a_custom_credential_and_send_a_test_request(any_page, app, provider_endpoint):
    page = any_page
    sign_in_as_new_admin(page, app)
    page.goto("/credentials")
    page.get_by_role("button", name="Custom provider").click()
    expect(page.get_by_role("heading", name="New API credential with vendor Custom")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Local provider")
    page.get_by_label("Provider name").fill("Local")
    page.get_by_label("Provider URL").fill(provider_endpoint.url("/send"))

    # The auth type's fields swap in place.
    mark_page(page)
    show_auth_fields(page, "basic")
    expect(page.get_by_label("User name")).to_be_visible()
    expect(page.get_by_label("API key", exact=True)).to_have_count(0)
    show_auth_fields(page, "api_key")
    expect(page.get_by_label("API key", exact=True)).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Local provider")
    assert_not_reloaded(page)

    # A header row, added in place.
    page.get_by_role("button", name="Add a header").click()
    htmx_settled(page)
    page.locator("#headers-0-name").fill("X-Tenant")
    page.locator("#headers-0-value").fill("acme")
    page.get_by_label("Sender number for prod").fill("+14155550101")
    page.get_by_label("API key", exact=True).fill(API_KEY)
    assert_not_reloaded(page)

    # The preview follows the form (JavaScript) or comes with the Preview button.
    preview = page.locator("#request-preview")
    if page.javascript:
        page.get_by_label("Provider payload").focus()  # leaving the key's field is a change
    else:
        page.get_by_role("button", name="Preview the request").click()
    expect(preview).to_contain_text(f"X-API-Key: {REDACTED}")
    expect(preview).to_contain_text("X-Tenant: acme")
    expect(preview).to_contain_text('"from": "+14155550101"')
    assert API_KEY not in page.content()
    assert_not_reloaded(page)
    htmx_settled(page)
    if not page.javascript:  # the page came back, and a secret never does
        expect(page.get_by_text("Type it again: a secret is never sent back to your browser.")).to_be_visible()
        page.get_by_label("API key", exact=True).fill(API_KEY)

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("API credential Local provider created. Send a test request to verify it.")).to_be_visible()
    row = page.locator("tr", has_text="Local provider")
    expect(row).to_contain_text("Custom: Local")
    expect(row).to_contain_text("API key: set")
    expect(row).to_contain_text("Never verified")

    row.get_by_role("button", name="Send test request").click()
    expect(page.get_by_role("heading", name="Send test request")).to_be_visible()
    page.get_by_label("Number").fill("+14155550123")
    page.get_by_label("Message").fill("Hello from the browser")
    mark_page(page)
    page.get_by_role("button", name="Send test request").click()
    expect(page.locator("#test-outcome")).to_contain_text("API credential Local provider is verified.")
    result = page.locator("#test-result")
    expect(result).to_contain_text("200 OK")
    expect(result).to_contain_text(f"X-API-Key: {REDACTED}")
    expect(result).to_contain_text('{"id": "msg-1", "status": "accepted"}')
    assert_not_reloaded(page)
    [received] = provider_endpoint.requests_to("/send")
    assert received.header("X-API-Key") == API_KEY and received.header("X-Tenant") == "acme"
    assert json.loads(received.body) == {"from": "+14155550101", "to": "+14155550123",
                                         "text": "Hello from the browser"}
    assert API_KEY not in page.content()

    page.get_by_role("link", name="API credentials").first.click()
    expect(page.locator("tr", has_text="Local provider")).to_contain_text("Verified")


def test_edit_keeps_the_secret_and_a_failing_provider_is_explained(any_page, app, provider_endpoint):
    page = any_page
    credential = make_custom(app, provider_endpoint)
    sign_in_as_new_admin(page, app)
    page.goto("/credentials")
    page.locator("tr", has_text="Local provider").get_by_role("button", name="Edit").click()
    expect(page.get_by_role("heading", name="API credential Local provider")).to_be_visible()
    expect(page.locator("#field-api_key")).to_contain_text("A value is stored; leave blank to keep it.")
    expect(page.locator("#request-preview")).to_contain_text(f"X-API-Key: {REDACTED}")

    mark_page(page)
    page.get_by_role("button", name="Remove header row 1").click()
    expect(page.locator("#headers-0-name")).to_have_count(0)
    assert_not_reloaded(page)
    htmx_settled(page)
    page.get_by_label("Name", exact=True).fill("Local (edited)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("API credential Local (edited) saved.")).to_be_visible()
    saved = stored(app, credential)
    assert saved.secrets == {"api_key": API_KEY} and json.loads(saved.headers) == []

    provider_endpoint.answer("/send", status=500, body=b'{"error": "upstream down"}')
    page.locator("tr", has_text="Local (edited)").get_by_role("button", name="Send test request").click()
    page.get_by_label("Number").fill("+14155550123")
    page.get_by_label("Message").fill("Hi")
    mark_page(page)
    page.get_by_role("button", name="Send test request").click()
    expect(page.locator("#test-result")).to_contain_text("500 Internal Server Error")
    expect(page.locator("#test-result")).to_contain_text('{"error": "upstream down"}')
    expect(page.locator("#test-outcome")).to_contain_text("is not verified")
    expect(page.get_by_label("Number")).to_have_value("+14155550123")
    assert_not_reloaded(page)
    assert stored(app, credential).verification_state == "failed"


def test_bad_input_is_explained_beside_each_field_and_kept(any_page, app, provider_endpoint):
    page = any_page
    app.config["ALLOW_PRIVATE_PROVIDER_URLS"] = False
    sign_in_as_new_admin(page, app)
    page.goto("/credentials/custom/new")
    page.get_by_label("Name", exact=True).fill("Local provider")
    page.get_by_label("Provider name").fill("Local")
    mark_page(page)
    page.get_by_label("Provider URL").fill("http://provider.example/send")
    if page.javascript:  # leaving the field is enough: the server's message appears beside it
        page.get_by_label("Provider name").focus()
        expect(page.locator("#provider_url-error")).to_contain_text("Use an https:// URL")
        htmx_settled(page)
    page.get_by_label("Provider payload").fill('{\n  "to": "{{toNumber}}",\n  "text": "{{message}}"\n')
    page.get_by_label("API key", exact=True).fill(API_KEY)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#provider_url-error")).to_contain_text("Use an https:// URL")
    expect(page.locator("#field-payload_template")).to_contain_text("This is not valid JSON")
    expect(page.locator("#field-payload_template")).to_contain_text(
        "{{fromNumber}} is missing: put it where the provider expects that value.")
    expect(page.locator("#request-preview")).to_contain_text("The provider payload cannot be used")
    expect(page.get_by_label("Provider URL")).to_have_value("http://provider.example/send")
    expect(page.locator("#field-api_key")).to_contain_text("Type it again")
    assert_not_reloaded(page)
    assert stored(app, 1) is None
