"""In Chromium, with JavaScript on and off, in English and Traditional Chinese: the whole
guided flow "Set up Twilio SMS/MMS", through bad input, against the fake Twilio."""
import pytest
from playwright.sync_api import expect

from tests.support.app import create_admin
from tests.support.browser import htmx_settled, sign_in
from tests.support.factories import make_credential

TEXT = {
    "en": {"start": "Start", "next": "Next", "submit": "Submit",
           "duplicate": "An API credential with this name already exists.",
           "created": "API credential Twilio staging created", "e164": "Start the number with + and its country code",
           "sid": "An Account SID starts with AC.", "review": "Review and submit"},
    "zh_Hant": {"start": "開始", "next": "下一步", "submit": "提交", "duplicate": "已有相同名稱的 API 認證。",
                "created": "已建立 API 認證 Twilio staging", "e164": "請以 + 與國碼開頭輸入號碼",
                "sid": "帳戶 SID 以 AC 開頭。", "review": "檢閱並提交"},
}


def leave_field(page, selector, value):
    """Type into a field and leave it; with htmx its error appears in place without submitting."""
    page.locator(selector).fill(value)
    page.locator(selector).blur()


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_the_whole_sms_flow(any_page, app, fake_twilio, language):
    page, t = any_page, TEXT[language]
    create_admin(app)
    make_credential(app, fake_twilio, name="Twilio prod", numbers={})
    sign_in(page, language)
    page.goto("/setup")
    page.locator("article").first.get_by_role("button", name=t["start"]).click()

    # 1. A duplicate name, then a good one.
    if page.javascript:
        url = page.url
        leave_field(page, "#name", "twilio PROD")
        expect(page.locator("#name-error")).to_have_text(t["duplicate"])
        assert page.url == url
    else:
        page.locator("#name").fill("twilio PROD")
        page.get_by_role("button", name=t["next"]).click()
        expect(page.locator("#name-error")).to_have_text(t["duplicate"])
    page.locator("#name").fill("Twilio staging")
    page.get_by_role("button", name=t["next"]).click()

    # 2. A SID with the wrong prefix, a wrong token (Twilio 20003), then the right ones.
    if page.javascript:
        leave_field(page, "#account_sid", "SM" + "0" * 32)
        expect(page.locator("#account_sid-error")).to_have_text(t["sid"])
    page.locator("#account_sid").fill(fake_twilio.account_sid)
    page.locator("#auth_token").fill("0" * 32)
    page.get_by_role("button", name=t["next"]).click()
    expect(page.locator("#auth_token-error")).to_contain_text("20003")
    page.locator("#auth_token").fill(fake_twilio.auth_token)
    page.locator("button[value=check]").click()
    expect(page.locator("#account-check")).to_contain_text(fake_twilio.account_name)
    htmx_settled(page)
    page.get_by_role("button", name=t["next"]).click()

    # 3. Pick a Messaging Service from the account's list.
    expect(page.locator("table.choices")).to_contain_text(fake_twilio.service_name)
    page.locator(f"button[value='{fake_twilio.service_sid}']").click()

    # 4. A number without its country code, then one of the service's.
    page.locator("#number_1").fill("0912345678")
    page.get_by_role("button", name=t["next"]).click()
    expect(page.locator("#number_1-error")).to_contain_text(t["e164"])
    page.locator("#number_1").fill(fake_twilio.service_numbers[1])
    page.get_by_role("button", name=t["next"]).click()

    # 5. Review and submit.
    expect(page.get_by_role("heading", name=t["review"])).to_be_visible()
    expect(page.locator("dl.review")).to_contain_text(fake_twilio.service_numbers[1])
    expect(page.locator("dl.review")).not_to_contain_text(fake_twilio.auth_token)
    page.get_by_role("button", name=t["submit"]).click()
    expect(page.get_by_role("heading", name=t["created"])).to_be_visible()


def test_back_keeps_input_and_a_run_resumes_after_signing_out(page, app, fake_twilio):
    create_admin(app)
    sign_in(page, "en")
    page.goto("/setup")
    page.locator("article", has_text="Set up Twilio SMS/MMS").get_by_role("button", name="Start").click()
    page.locator("#name").fill("Resumed later")
    page.get_by_role("button", name="Next").click()
    page.locator("#account_sid").fill("AC-half")
    page.get_by_role("button", name="Back").click()
    expect(page.locator("#name")).to_have_value("Resumed later")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#account_sid")).to_have_value("AC-half")

    page.locator(".account-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "en")
    page.goto("/setup")
    row = page.locator("tr", has_text="Resumed later")
    row.get_by_role("button", name="Resume").click()
    expect(page.locator("#account_sid")).to_have_value("AC-half")
