"""The consent register: per sandbox, filters, each number's history in place, the polling
refresh, and the CSV export (quoting and the formula guard)."""
import csv
import datetime
import io

import pytest

from tests.support.factories import make_credential
from tests.support.html import text
from tests.support.keywords import inbound
from wizard.core.db import database
from wizard.core.models import Consent, ConsentEvent, Sandbox


@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio, numbers={"prod": "+15005550006", "dev": "+15005550007"})


@pytest.fixture
def three_numbers(app, credential):
    """+14155550101 opted out, +14155550102 opted in again, +886912345678 opted out in Chinese."""
    inbound(app, credential, "STOP", "SM101", sender="+14155550101")
    inbound(app, credential, "STOP", "SM102", sender="+14155550102")
    inbound(app, credential, "START", "SM103", sender="+14155550102")
    inbound(app, credential, "cancel", "SM104", sender="+886912345678")
    return credential


def consent_id(app, number):
    with app.app_context(), database.connection_context():
        return Consent.get(Consent.phone_number == number).id


def rows(html):
    return [line.split('"')[1] for line in html.split("<tr id=") if line.startswith('"consent-')
            and not line.split('"')[1].endswith("-history")]


def test_an_empty_register_says_so(signed_in):
    page = text(signed_in.get("/consent"))
    assert "<h1>Consent register</h1>" in page
    assert "No number has opted in or out in sandbox prod yet." in page


def test_the_register_lists_numbers_with_state_and_since(signed_in, app, three_numbers):
    page = text(signed_in.get("/consent"))
    assert "3 numbers" in page
    assert len(rows(page)) == 3
    for number, state in [("+14155550101", "Opted out"), ("+14155550102", "Opted in"), ("+886912345678", "Opted out")]:
        row = page.split(f'<tr id="consent-{consent_id(app, number)}">')[1].split("</tr>")[0]
        assert number in row and state in row
    # Newest change first.
    assert rows(page)[0] == f"consent-{consent_id(app, '+886912345678')}"


def test_pending_double_opt_in_is_shown(signed_in, app, credential):
    from tests.support.keywords import save_rules

    save_rules(app, credential, [("opt_in", ["JOIN"], "Reply YES"), ("double_opt_in", ["YES"], "Done")])
    inbound(app, credential, "JOIN", "SM110", sender="+14155550109")
    assert "Pending double opt-in" in text(signed_in.get("/consent"))


def test_filter_by_state_and_by_number(signed_in, app, three_numbers):
    opted_out = text(signed_in.get("/consent?state=opted_out"))
    assert "2 numbers" in opted_out and "+14155550102" not in opted_out
    assert '<option value="opted_out" selected>' in opted_out
    by_number = text(signed_in.get("/consent?number=886 912"))
    assert "1 number" in by_number and "+886912345678" in by_number and "+14155550101" not in by_number
    assert 'value="886 912"' in by_number
    both = text(signed_in.get("/consent?state=opted_in&number=0101"))
    assert "No number matches these filters." in both
    assert "2 numbers" in text(signed_in.get("/consent?state=nonsense&number=+1415"))


def test_filters_with_htmx_answer_only_the_register(signed_in, three_numbers):
    response = signed_in.htmx_get("/consent?state=opted_in")
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert '<section id="consent-register"' in body and "1 number" in body
    # The refresh keeps the filters; the export link follows them.
    assert 'hx-get="/consent?state=opted_in&amp;seen=' in body
    assert 'href="/consent.csv?state=opted_in"' in body


def test_the_register_polls_and_gets_204_while_nothing_changed(signed_in, app, three_numbers):
    page = text(signed_in.get("/consent"))
    assert 'hx-trigger="every 3s"' in page
    poll = page.split('<section id="consent-register"')[1].split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert signed_in.htmx_get(poll).status_code == 204
    inbound(app, three_numbers, "STOP", "SM120", sender="+14155550199")
    fresh = signed_in.htmx_get(poll)
    assert fresh.status_code == 200 and "+14155550199" in text(fresh) and "4 numbers" in text(fresh)
    # Without htmx the same address is always the whole page.
    assert "<html" in text(signed_in.get(poll))


def test_a_numbers_history_expands_in_place_and_is_a_page_without_javascript(signed_in, app, three_numbers):
    number_id = consent_id(app, "+14155550102")
    fragment = text(signed_in.htmx_get(f"/consent/{number_id}"))
    assert "<html" not in fragment and f'<tr id="consent-{number_id}-history">' in fragment
    assert fragment.index("START (SM103)") < fragment.index("STOP (SM102)")  # newest first
    assert "Opted in" in fragment and "Opted out" in fragment
    assert f'<input type="hidden" name="open" value="{number_id}">' in fragment
    page = text(signed_in.get(f"/consent/{number_id}"))
    assert "<h1>Consent of +14155550102</h1>" in page and "Opted in since" in page and "STOP (SM102)" in page


def test_open_histories_stay_open_when_the_register_refreshes(signed_in, app, three_numbers):
    number_id = consent_id(app, "+14155550101")
    body = text(signed_in.htmx_get(f"/consent?open={number_id}&open=999999"))
    assert f'<tr id="consent-{number_id}-history">' in body and "STOP (SM101)" in body
    closed = consent_id(app, "+14155550102")
    assert f'<tr id="consent-{closed}-history" hidden></tr>' in body


def test_history_of_another_sandbox_or_unknown_is_not_shown(signed_in, app, credential):
    inbound(app, credential, "STOP", "SM130", sender="+14155550130", sandbox="dev")
    dev_id = consent_id(app, "+14155550130")
    assert "+14155550130" not in text(signed_in.get("/consent"))
    response = signed_in.get(f"/consent/{dev_id}")
    assert response.status_code == 303
    assert "Number +14155550130 is in the register of sandbox dev." in text(signed_in.get("/consent"))
    assert signed_in.get("/consent/999999").status_code == 404


def read_csv(response):
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def test_csv_export(signed_in, app, three_numbers):
    response = signed_in.get("/consent.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    assert response.headers["Content-Disposition"] == f"attachment; filename=consent-prod-{today}.csv"
    table = read_csv(response)
    assert table[0] == ["phone_number", "state", "since", "history"]
    by_number = {row[0]: row for row in table[1:]}
    assert set(by_number) == {"'+14155550101", "'+14155550102", "'+886912345678"}  # no cell starts with +
    row = by_number["'+14155550102"]
    assert row[1] == "opted_in"
    assert datetime.datetime.strptime(row[2], "%Y-%m-%dT%H:%M:%SZ")
    first, second = row[3].split("; ")
    assert first.endswith(" opted_out STOP (SM102)") and second.endswith(" opted_in START (SM103)")
    # Filters apply to the export too.
    assert [r[0] for r in read_csv(signed_in.get("/consent.csv?state=opted_in"))[1:]] == ["'+14155550102"]


def test_csv_quotes_and_guards_against_formulas(signed_in, in_app):
    with in_app():
        sandbox = Sandbox.get(Sandbox.name == "prod")
        for number, source in [("=1+2", "=HYPERLINK(\"http://x\")"), ("@SUM(A1)", 'say "hi", then; go'),
                               ("-5", "退訂 (SM1)"), ("+15550001", "\tTAB")]:
            consent = Consent.create(sandbox=sandbox, phone_number=number, state="opted_out")
            ConsentEvent.create(consent=consent, state="opted_out", source=source,
                                at=datetime.datetime(2024, 5, 1, 8, 0, 0))
    raw = signed_in.get("/consent.csv").get_data().decode("utf-8")
    assert raw.startswith("\ufeffphone_number,state,since,history\r\n")
    table = read_csv(signed_in.get("/consent.csv"))
    for row in table[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t")), row
    numbers = {row[0]: row[3] for row in table[1:]}
    assert numbers["'=1+2"] == '2024-05-01T08:00:00Z opted_out =HYPERLINK("http://x")'
    assert numbers["'@SUM(A1)"] == '2024-05-01T08:00:00Z opted_out say "hi", then; go'
    assert numbers["'-5"] == "2024-05-01T08:00:00Z opted_out 退訂 (SM1)"
    assert '"2024-05-01T08:00:00Z opted_out say ""hi"", then; go"' in raw  # RFC 4180 quoting


def test_csv_filename_carries_the_sandbox_name(signed_in, in_app):
    with in_app():
        sandbox = Sandbox.create(name="台灣 prod", name_key="台灣 prod")
    signed_in.post("/sandboxes/current", {"sandbox": sandbox.id, "next": "/consent"})
    disposition = signed_in.get("/consent.csv").headers["Content-Disposition"]
    assert "filename*=UTF-8''consent-%E5%8F%B0%E7%81%A3%20prod-" in disposition


def test_numbers_and_sources_are_shown_escaped(signed_in, in_app):
    with in_app():
        consent = Consent.create(sandbox=Sandbox.get(Sandbox.name == "prod"), phone_number="<b>1</b>",
                                 state="opted_out")
        ConsentEvent.create(consent=consent, state="opted_out", source="<script>x()</script>")
    page = text(signed_in.get("/consent"))
    assert "<b>1</b>" not in page and "&lt;b&gt;1&lt;/b&gt;" in page
    history = text(signed_in.htmx_get(f"/consent/{consent.id}"))
    assert "<script>x()</script>" not in history and "&lt;script&gt;x()&lt;/script&gt;" in history


def test_the_register_and_export_need_sign_in(client, admin):
    for path in ("/consent", "/consent.csv", "/consent/1"):
        response = client.get(path)
        assert response.status_code == 303 and "/login" in response.headers["Location"]
