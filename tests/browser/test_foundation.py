"""In Chromium, with JavaScript on (htmx) and off: first run -> sign out -> sign in ->
create a sandbox -> switch sandbox -> switch language -> audit log."""
from playwright.sync_api import expect

from tests.support.browser import assert_not_reloaded, htmx_settled, mark_page

PASSWORD = "a long enough password"


def test_the_foundation_walk(any_page, live_server):
    page = any_page
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/first-run")
    expect(page.get_by_role("heading", name="Create the first admin account")).to_be_visible()

    # A bad password first: the error stands next to the field and the email stays.
    page.get_by_label("Email").fill("trainer@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_have_text("Use at least 12 characters.")
    expect(page.get_by_label("Email")).to_have_value("trainer@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome! Your admin account is ready.")).to_be_visible()

    # Sign out, then back in.
    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.get_by_label("Email").fill("trainer@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Sandboxes")).to_be_visible()

    # Create a sandbox: an empty name is refused beside the field, then a good one.
    page.get_by_role("link", name="Sandboxes").click()
    expect(page.get_by_role("heading", name="Sandboxes", exact=True)).to_be_visible()
    mark_page(page)
    page.get_by_role("button", name="Create sandbox").click()
    expect(page.locator("#name-error")).to_have_text("Enter a name for the sandbox.")
    assert_not_reloaded(page)
    page.get_by_label("Name").fill("dev")
    page.get_by_role("button", name="Create sandbox").click()
    expect(page.get_by_text("Sandbox dev created.")).to_be_visible()
    expect(page.locator("table")).to_contain_text("dev")

    # Rename it: inline with htmx, on the sandbox's page without JavaScript.
    mark_page(page)
    page.locator("tr", has_text="dev").get_by_role("button", name="Rename").click()
    if page.javascript:  # the row turned into a form in place
        page.locator("tbody input[name=name]").fill("staging")
        page.get_by_role("button", name="Save").click()
    else:  # the sandbox's own page
        expect(page.get_by_role("heading", name="Sandbox dev")).to_be_visible()
        page.get_by_label("Name").fill("staging")
        page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Sandbox renamed to staging.")).to_be_visible()
    expect(page.locator("table")).to_contain_text("staging")
    assert_not_reloaded(page)
    htmx_settled(page)

    # Switch to it in the header; the choice survives a reload.
    page.get_by_label("Sandbox", exact=True).select_option(label="staging")
    if not page.javascript:
        page.get_by_role("button", name="Switch").click()
    expect(page.get_by_text("You are now working in sandbox staging.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Sandbox", exact=True)).to_have_value(
        page.locator("#sandbox-switcher option", has_text="staging").get_attribute("value"))

    # Switch the language; it is remembered across pages.
    page.get_by_label("Language").select_option("zh_Hant")
    if not page.javascript:
        page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name="沙箱", exact=True)).to_be_visible()
    page.get_by_role("link", name="稽核記錄").click()
    expect(page.get_by_role("heading", name="稽核記錄")).to_be_visible()

    # The audit log shows what happened, newest first, and filters by object.
    rows = page.locator("#audit-entries tbody tr")
    expect(rows.first).to_contain_text("已更新")
    expect(rows.first).to_contain_text("dev → staging")
    expect(page.locator("#audit-entries")).to_contain_text("trainer@example.com")
    page.get_by_label("物件").select_option("User")
    if not page.javascript:
        page.get_by_role("button", name="篩選").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("管理員")
    expect(page).to_have_url(f"{live_server.url}/audit?object_type=User")


def test_htmx_delete_asks_first_and_removes_the_row(page, live_server, app):
    from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin

    create_admin(app)
    page.goto("/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/sandboxes")
    page.get_by_label("Name").fill("temp")
    page.get_by_role("button", name="Create sandbox").click()
    expect(page.locator("table")).to_contain_text("temp")

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("tr", has_text="temp").get_by_role("button", name="Delete").click()
    expect(page.locator("table")).to_contain_text("temp")  # dismissed: nothing happens

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr", has_text="temp").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Sandbox temp deleted.")).to_be_visible()
    expect(page.locator("table")).not_to_contain_text("temp")
