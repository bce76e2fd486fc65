"""In Chromium, with JavaScript on (htmx) and off: the way back after sign-in stays in the app,
a cookie kept from before signing out signs nobody in, and the account page changes the
password and signs out everywhere."""
from playwright.sync_api import expect

from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin
from tests.support.browser import new_page, sign_in

NEW_PASSWORD = "a brand new passphrase"


def test_a_next_that_a_browser_would_read_as_another_site_lands_in_the_app(any_page, app, live_server):
    page = any_page
    create_admin(app)
    page.goto("/login?next=/%09/evil.example")
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account-menu summary")).to_have_text(ADMIN_EMAIL)
    expect(page).to_have_url(f"{live_server.url}/setup")  # home: the first section


def test_a_cookie_put_back_after_signing_out_asks_to_sign_in(any_page, app, live_server):
    page = any_page
    create_admin(app)
    sign_in(page)
    saved = page.context.cookies()
    assert [cookie["name"] for cookie in saved] == ["session"]
    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.context.clear_cookies()
    page.context.add_cookies(saved)
    page.goto("/sandboxes")
    expect(page).to_have_url(f"{live_server.url}/login?next=/sandboxes")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_change_the_password_then_sign_out_everywhere(any_page, chromium, app, live_server):
    page = any_page
    create_admin(app)
    other_context, other = new_page(chromium, live_server, javascript=page.javascript)
    other.javascript = page.javascript
    sign_in(other)
    sign_in(page)

    page.locator(".account-menu summary").click()
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text("You are signed in on 2 browsers.")).to_be_visible()
    page.get_by_label("Current password").fill(ADMIN_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD + "!")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#confirm_password-error")).to_have_text("The two new passwords are not the same.")
    page.get_by_label("Current password").fill(ADMIN_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed. Your other sessions are signed out.")).to_be_visible()
    expect(page.get_by_text("You are signed in on 1 browser.")).to_be_visible()

    other.goto("/sandboxes")
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(other, password=NEW_PASSWORD)

    if page.javascript:  # htmx asks first
        page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("You are signed out everywhere.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    other.goto("/sandboxes")
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    other_context.close()
