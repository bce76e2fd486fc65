"""Two tabs edit the same keyword rule in place: the second save does not overwrite the first;
it says so, shows what is saved now and keeps what was typed, and saving again overwrites."""
from playwright.sync_api import expect

from tests.support.browser import htmx_settled, sign_in_as_new_admin
from tests.support.factories import make_credential


def open_help_rule(page):
    page.goto("/keywords")
    page.locator("table[aria-labelledby='category-help']").get_by_role("button", name="Edit").click()
    form = page.locator("#keyword-rules form").first
    expect(form.get_by_label("Reply")).to_be_visible()
    htmx_settled(page)
    return form


def test_the_second_of_two_inline_edits_is_told_and_keeps_its_input(page, app, fake_twilio):
    make_credential(app, fake_twilio)
    sign_in_as_new_admin(page, app)
    page.goto("/keywords")  # the first save stores the defaults, so both tabs edit a saved rule
    page.get_by_label("Default reply").fill("Thanks!")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Keyword settings saved.")).to_be_visible()

    other = page.context.new_page()
    other.javascript = True
    mine, theirs = open_help_rule(page), open_help_rule(other)

    theirs.get_by_label("Reply").fill("Call 02-1234-5678.")
    theirs.get_by_role("button", name="Save rule").click()
    expect(other.get_by_text("Help rule saved: HELP, INFO.")).to_be_visible()

    mine.get_by_label("Reply").fill("Write to help@example.com.")
    mine.get_by_role("button", name="Save rule").click()
    conflict = page.locator("#conflict")
    expect(conflict).to_contain_text("Someone else saved this after you opened it.")
    expect(conflict).to_contain_text("Reply: Call 02-1234-5678.")
    form = page.locator("#keyword-rules form").first
    expect(form.get_by_label("Reply")).to_have_value("Write to help@example.com.")
    htmx_settled(page)

    form.get_by_role("button", name="Save rule").click()  # knowingly, over theirs
    expect(page.get_by_text("Help rule saved: HELP, INFO.")).to_be_visible()
    expect(page.locator("table[aria-labelledby='category-help']")).to_contain_text("Write to help@example.com.")
