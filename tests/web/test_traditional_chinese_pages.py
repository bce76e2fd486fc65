"""Every page and fragment, rendered in Traditional Chinese after a whole setup, shows no English
word and no half-width punctuation between Chinese characters. What may stay in Latin letters
(brand and protocol names, Twilio's keywords and console labels) is listed, with the reason,
in translations/glossary.md; SIDs, numbers, URLs, placeholders and code are read as such."""
import re

from tests.support.crawl import crawl
from tests.support.glossary import read_latin_words
from tests.support.guided import step_url, walk_to
from tests.support.page_text import shown_text
from tests.support.practice import demo_sms_flow, practice_sandbox
from wizard.core.db import database
from wizard.core.models import CredentialNumber
from wizard.providers import transport
from wizard.providers.twilio.simulator import PRACTICE_PHONE

# What the test's own data is called: names an admin typed or Twilio's account carries.
TEST_DATA = ("Acme Retail (production)", "Acme order notifications", "Acme marketing", "Twilio prod", "Unfinished",
             "prod", "practice", "Demo Twilio", "Demo Retail (practice)",
             "Demo order notifications", "Demo marketing", "Express")
CODE = re.compile(
    r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # URLs, email addresses
    r"|%\(\w+\)[sd]|\{\{\s*\w+\s*\}\}"  # placeholders
    r"|(?<![\w/])/[\w./?=&-]+"  # paths
    r'|"[^"\s]*"'  # JSON keys and values quoted in a sentence
    r"|\b\w+(?:\.\w+)+\b|\b\w*[\d_]\w*\b|\b[a-z]+[A-Z]\w*\b"  # host and file names, SIDs, hex, identifiers
    r"|-----[A-Z ]+-----"
)
WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")
HAN = r"[\u4e00-\u9fff]"
HALF_WIDTH = re.compile(rf"{HAN} ?[,:;()]|[,:;()] ?{HAN}")


def english_left(run: str, allowed: list[str]) -> tuple[list[str], list[str]]:
    """The English words of a text run, and its half-width punctuation beside Chinese."""
    for phrase in sorted(allowed + list(TEST_DATA), key=len, reverse=True):
        run = re.sub(rf"(?<![A-Za-z]){re.escape(phrase)}(?![A-Za-z])", " ", run)
    run = CODE.sub(" ", run)
    return WORD.findall(run), HALF_WIDTH.findall(run)


def setup_everywhere(client, app, fake_twilio):
    """A finished guided setup, an unfinished one at its review, and a practice sandbox where a
    test message was delivered and a recipient texted STOP: every page of each."""
    client.post("/language", {"language": "zh_Hant", "next": "/"})
    first = walk_to(client, fake_twilio, upto="review")
    client.post(step_url(first, "review"))
    review = step_url(walk_to(client, fake_twilio, upto="review", name="Unfinished"), "review")
    pages = crawl(client) + crawl(client, start=review, limit=1)
    # An unfinished setup at its Messaging Service step, its express screen (fresh, then stopped at the number
    # with the stages done shown as done), and one finished there.
    service_step = step_url(walk_to(client, fake_twilio, upto="messaging_service", name="Express"),
                            "messaging_service")
    express = service_step.rsplit("/", 1)[0] + "/express"
    pages += crawl(client, start=service_step, limit=1) + crawl(client, start=express, limit=1)
    form = {"name": "Express", "service": fake_twilio.service_sid, "apply_webhooks": "y", "use_1": "y",
            "number_1": fake_twilio.second_service_numbers[0], "to": "+14155550123", "message": "Hi", "action": "go"}
    assert client.post(express, form).status_code == 422  # another service holds the number: what is done shows
    pages += crawl(client, start=express, limit=1)
    done = client.post(express, {**form, "number_1": fake_twilio.service_numbers[0]})
    assert done.status_code == 303, done.get_data(as_text=True)
    pages += crawl(client, start=done.headers["Location"], limit=1)
    practice = practice_sandbox(app)
    client.get("/sandboxes")
    client.post("/sandboxes/current", {"sandbox": practice, "next": "/practice"})
    credential_id = demo_sms_flow(client, practice)
    client.get(f"/credentials/{credential_id}/verify")
    client.post(f"/credentials/{credential_id}/verify", {"number": "+12025550123", "message": "Hi"})
    assert transport.simulator(app).wait_until_idle(15), "the simulator's callbacks did not finish"
    with app.app_context(), database.connection_context():
        number = CredentialNumber.get(CredentialNumber.credential == credential_id)
    client.get("/practice")
    client.post("/practice/inbound", {"number": number.id, "from_number": PRACTICE_PHONE, "body": "",
                                      "quick": "STOP", "next": "/consent"})
    return pages + crawl(client, start="/practice")


def test_pages_in_traditional_chinese_leave_no_english_word(signed_in, app, fake_twilio):
    pages = setup_everywhere(signed_in, app, fake_twilio)
    allowed = read_latin_words()
    visited = {page.path for page in pages}
    for expected in ("/credentials", "/channels", "/events", "/webhooks", "/keywords", "/consent", "/audit",
                     "/practice", "/sandboxes", "/setup", "/credentials/1"):
        assert expected in visited, expected
    assert any(path.endswith("/review") for path in visited)  # the unfinished setup's review
    found = {}
    for page in pages:
        if page.status != 200 or page.mimetype != "text/html":
            continue
        for run in shown_text(page.body):
            words, punctuation = english_left(run, allowed)
            for problem in words + [f"half-width {mark!r}" for mark in punctuation]:
                found.setdefault(problem, f"{page.path}: {run[:160]}")
    assert not found, f"{len(found)} English words or half-width marks on zh-TW pages:\n" + "\n".join(
        f"{problem}  ({where})" for problem, where in sorted(found.items()))


def test_an_english_status_on_the_events_filter_is_found(signed_in):
    """The check itself: the Events status filter must show the statuses in Chinese."""
    signed_in.post("/language", {"language": "zh_Hant", "next": "/"})
    body = signed_in.get("/events").get_data(as_text=True)
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]*)</option>', body.split('id="filter-status"')[1])
    statuses = dict(options)
    assert {"delivered", "undelivered", "failed", "queued"} <= set(statuses)
    allowed = read_latin_words()
    for value, label in statuses.items():
        assert english_left(label, allowed) == ([], []), f"{value}: {label}"
