"""In Chromium, with JavaScript on (htmx: the preview and its errors in place) and off: export
prod, then import the file back after a webhook was deleted and a configuration changed: the
preview says what it will do, the secrets form refuses the import without the HMAC secret, and
with it the import succeeds."""
from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in
from tests.support.transfer import HMAC_SECRET, make_prod
from wizard.core.db import database
from wizard.core.models import ChannelConfiguration, CustomWebhook


def test_export_then_import_through_preview_and_secrets(any_page, live_server, app, fake_twilio, provider_endpoint,
                                                         tmp_path):
    page = any_page
    create_admin(app)
    make_prod(app, fake_twilio, provider_endpoint)
    sign_in(page)
    page.get_by_role("link", name="Export and import").click()
    expect(page.get_by_role("heading", name="Export sandbox prod")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the export file").click()
    assert download.value.suggested_filename == "sandbox-prod.json"
    exported = tmp_path / "sandbox-prod.json"
    download.value.save_as(exported)

    with app.app_context(), database.connection_context():
        CustomWebhook.delete().where(CustomWebhook.name == "RCS inbound").execute()
        ChannelConfiguration.update(description="Changed meanwhile").where(
            ChannelConfiguration.name == "Marketing_SMS").execute()

    page.goto("/transfer")
    htmx_settled(page)
    mark_page(page)
    page.get_by_label("Export file").set_input_files(exported)
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_text("Matched by name: 1 to create, 1 to update, 5 left alone.")).to_be_visible()
    row = page.locator("tr", has_text="Marketing_SMS")
    expect(row).to_contain_text("To update")
    expect(row).to_contain_text("Changed meanwhile → Weekly offers")
    expect(page.locator("tr", has_text="RCS inbound")).to_contain_text("To create")
    assert_not_reloaded(page)

    htmx_settled(page)
    page.get_by_role("button", name="Import", exact=True).click()
    secret = page.get_by_label("HMAC secret for RCS inbound")
    expect(page.locator(f"#{secret.get_attribute('id')}-error")).to_contain_text(
        "The exported webhook checked signatures with one")
    expect(page.get_by_text("Nothing was imported: the objects marked below are refused.")).to_be_visible()
    assert_not_reloaded(page)

    htmx_settled(page)
    secret.fill(HMAC_SECRET)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported into sandbox prod: 1 created, 1 updated, 5 left alone.")).to_be_visible()
    expect(page.get_by_role("heading", name="Export and import")).to_be_visible()
    with app.app_context(), database.connection_context():
        assert CustomWebhook.get(CustomWebhook.name == "RCS inbound").hmac_secret == HMAC_SECRET
        assert ChannelConfiguration.get(ChannelConfiguration.name == "Marketing_SMS").description == "Weekly offers"
