"""In Chromium, with JavaScript on (htmx) and off: after a failed submit the keyboard focus is on
the first field in error, whose error and help are tied to it. (axe-core itself runs on every
page the browser tests visit with JavaScript: tests/support/browser.py, watch_with_axe.)"""
import pytest
from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import choose_language, htmx_settled, sign_in


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_focus_moves_to_the_first_error_after_a_failed_submit(any_page, app, language):
    page = any_page
    # The email field asks for the focus when the page opens (autofocus); after a failed submit,
    # the first field in error has it instead.
    page.goto("/first-run")
    choose_language(page, language)
    page.locator("#email").fill("trainer@example.com")
    page.locator("#password").fill("short")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.locator("#password")).to_be_focused()
    assert page.locator("#password").get_attribute("aria-describedby").split() == ["password-error", "password-help"]
    assert page.locator("#password").get_attribute("aria-invalid") == "true"

    # Both fields wrong: the first one gets the focus.
    page.locator("#email").fill("not an email")
    page.locator("#password").fill("short")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.locator("#email")).to_be_focused()


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_focus_moves_to_the_error_of_a_form_swapped_in_place(any_page, app, language):
    page = any_page
    create_admin(app)
    sign_in(page, language)
    page.goto("/sandboxes")
    htmx_settled(page)
    page.locator("#sandboxes-section form button[type=submit]").click()
    expect(page.locator("#name-error")).to_be_visible()
    expect(page.locator("#name")).to_be_focused()
    assert focused_id(page) == "name"
