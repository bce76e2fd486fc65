"""In Chromium, with JavaScript on (htmx: the preview and its errors in place) and off: export
prod, then import the file back after a webhook was deleted and a configuration changed: the
preview says what it will do, the secrets form refuses the import without the HMAC secret, and
with it the import succeeds."""
from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page, sign_in
from tests.support.transfer import HMAC_SECRET, make_prod, make_sandbox, without_sandbox_name
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


def download_export(page, tmp_path, sandbox: str):
    page.goto("/transfer")
    expect(page.get_by_role("heading", name=f"Export sandbox {sandbox}")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the export file").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    return saved


def test_export_prod_and_import_it_into_a_new_sandbox_here(any_page, live_server, app, fake_twilio,
                                                            provider_endpoint, tmp_path):
    """prod -> staging on one installation: the names stay, and staging's export is prod's file."""
    page = any_page
    create_admin(app)
    make_prod(app, fake_twilio, provider_endpoint)
    make_sandbox(app, "staging")
    sign_in(page)
    exported = download_export(page, tmp_path, "prod")
    htmx_settled(page)
    page.locator("#sandbox-switcher").select_option(label="staging")
    if not page.javascript:
        page.locator("#sandbox-switcher-form button").click()
    expect(page.get_by_role("heading", name="Export sandbox staging")).to_be_visible()

    htmx_settled(page)
    page.get_by_label("Export file").set_input_files(exported)
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_text("Matched by name: 5 to create, 2 to update, 0 left alone.")).to_be_visible()
    expect(page.locator("tr", has_text="Marketing_SMS")).to_contain_text("To create")
    htmx_settled(page)
    page.get_by_label("HMAC secret for RCS inbound").fill(HMAC_SECRET)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported into sandbox staging: 5 created, 2 updated, 0 left alone.")).to_be_visible()

    again = download_export(page, tmp_path, "staging")
    assert without_sandbox_name(again.read_text()) == without_sandbox_name(exported.read_text())
