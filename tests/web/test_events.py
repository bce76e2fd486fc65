"""The Events page: inbound messages and status callbacks of the current sandbox, filters,
pages, the poll for new events, each message's status timeline, and the Waiting for the
first event panel. Events are stored the way the receivers store them (wizard.messaging.store)."""
import datetime
import re

import pytest
from flask import render_template_string

from tests.support.app import BrowserLikeClient
from tests.support.factories import make_credential
from tests.support.fake_twilio import new_sid
from tests.support.html import text
from wizard.core.db import database
from wizard.core.models import CustomWebhook, InboundMessage, Sandbox, StatusEvent
from wizard.events.queries import PAGE_SIZE
from wizard.messaging import store as messages
from wizard.messaging.store import waiting_state

T0 = datetime.datetime(2025, 3, 1, 12, 0, 0)


# --- helpers ----------------------------------------------------------------------------

def sandbox_named(name):
    return Sandbox.get_or_none(Sandbox.name == name) or Sandbox.create(name=name, name_key=name)


def receive(app, credential_id, sandbox="prod", at=None, signed=True, keyword_category=None, reply=None,
            **params) -> int:
    """An inbound message as the Twilio receiver stores it; returns its id."""
    fields = {"MessageSid": new_sid("SM"), "From": "+886912345678", "To": "+14155550101", "Body": "Hello",
              "NumMedia": "0", **params}
    with app.app_context(), database.connection_context():
        message = messages.inbound_from_twilio(credential=credential_id, sandbox=sandbox_named(sandbox),
                                               params=fields, signed=signed)
        changes = {"keyword_category": keyword_category, "reply": reply}
        if at is not None:
            changes["received_at"] = at
        InboundMessage.update(changes).where(InboundMessage.id == message.id).execute()
        return message.id


def callback(app, credential_id, message_sid, status, sandbox="prod", at=None, signed=True, error_code=None,
             to="+886900000001") -> bool:
    """A status callback as the Twilio receiver stores it; True if it was new."""
    params = {"MessageSid": message_sid, "MessageStatus": status, "To": to, "From": "+14155550101"}
    if error_code:
        params["ErrorCode"] = error_code
    with app.app_context(), database.connection_context(), database.atomic():
        stored = messages.record_status(sandbox=sandbox_named(sandbox), message_sid=message_sid, status=status,
                                        error_code=error_code, params=params, signed=signed,
                                        credential=credential_id)
        if stored and at is not None:
            StatusEvent.update(received_at=at).where(StatusEvent.message_sid == message_sid,
                                                     StatusEvent.status == status).execute()
        return stored


def status_event_id(app, message_sid, status) -> int:
    with app.app_context(), database.connection_context():
        return StatusEvent.get(StatusEvent.message_sid == message_sid, StatusEvent.status == status).id


def event_rows(html) -> list[str]:
    """The ids of the event rows, top to bottom."""
    return re.findall(r'<tr id="(event-(?:inbound|status)-\d+)"', html)


def poller_url(html) -> str:
    match = re.search(r'<tr id="events-poller"[^>]*hx-get="([^"]+)"', html)
    assert match, "the first page carries a poller"
    return match.group(1).replace("&amp;", "&")


def switch_sandbox(client, app, name):
    with app.app_context(), database.connection_context():
        sandbox_id = sandbox_named(name).id
    client.get("/events")
    assert client.post("/sandboxes/current", {"sandbox": sandbox_id, "next": "/events"}).status_code == 303


@pytest.fixture
def credential(app, fake_twilio):
    return make_credential(app, fake_twilio, "Main Twilio", numbers={"prod": "+14155550101", "dev": "+14155550102"})


# --- the list ---------------------------------------------------------------------------

def test_signing_in_is_required(client, admin):
    response = client.get("/events")
    assert response.status_code == 303 and "/login" in response.headers["Location"]


def test_the_list_merges_inbound_messages_and_status_callbacks_newest_first(signed_in, app, credential):
    inbound_id = receive(app, credential, at=T0, Body="STOP", keyword_category="opt_out",
                         reply="You are unsubscribed.", NumMedia="2", MediaUrl0="https://example.com/a.jpg",
                         MediaContentType0="image/jpeg", MediaUrl1="https://example.com/b.png",
                         MediaContentType1="image/png")
    sid = new_sid("SM")
    callback(app, credential, sid, "undelivered", at=T0 + datetime.timedelta(seconds=5), error_code="30003")
    later_id = receive(app, credential, at=T0 + datetime.timedelta(seconds=9), Body="Thanks")

    page = text(signed_in.get("/events"))
    assert "<h1>Events</h1>" in page
    status_id = status_event_id(app, sid, "undelivered")
    assert event_rows(page) == [f"event-inbound-{later_id}", f"event-status-{status_id}",
                                f"event-inbound-{inbound_id}"]
    stop_row = re.search(rf'<tr id="event-inbound-{inbound_id}".*?</tr>', page, re.S).group(0)
    for expected in ("Inbound", "Main Twilio", "+886912345678 → +14155550101", "STOP", "Opt-Out",
                     "You are unsubscribed.", "<td>2</td>"):
        assert expected in stop_row
    assert "unsigned" not in stop_row
    status_row = re.search(rf'<tr id="event-status-{status_id}".*?</tr>', page, re.S).group(0)
    assert f'href="/events/messages/{sid}"' in status_row
    assert "<code>undelivered</code> error 30003" in status_row
    assert "Refresh" in page


def test_events_accepted_unsigned_are_flagged(signed_in, app, credential):
    unsigned_id = receive(app, credential, signed=False)
    signed_id = receive(app, credential)
    page = text(signed_in.get("/events"))
    unsigned_row = re.search(rf'<tr id="event-inbound-{unsigned_id}".*?</tr>', page, re.S).group(0)
    signed_row = re.search(rf'<tr id="event-inbound-{signed_id}".*?</tr>', page, re.S).group(0)
    assert '<mark class="unsigned"' in unsigned_row and ">unsigned</mark>" in unsigned_row
    assert "log-only mode" in unsigned_row
    assert "unsigned" not in signed_row


def test_a_custom_webhook_event_names_its_webhook(signed_in, credential, in_app):
    with in_app(), database.atomic():
        webhook = CustomWebhook.create(name="RCS feedback", name_key="rcs feedback", type="feedback",
                                       sandbox=sandbox_named("prod"), payload="{}")
        messages.record_status(sandbox=sandbox_named("prod"), message_sid="ref-42", status="delivered",
                               params={}, source="custom", custom_webhook=webhook)
    page = text(signed_in.get("/events"))
    assert "RCS feedback <small>(custom webhook)</small>" in page


def test_html_in_a_body_is_shown_as_text(signed_in, app, credential):
    receive(app, credential, Body='<script>alert("x")</script><b>bold</b>', reply="<i>hi</i>")
    page = text(signed_in.get("/events"))
    assert "<script>alert" not in page and "<b>bold</b>" not in page and "<i>hi</i>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;i&gt;hi&lt;/i&gt;" in page


def test_the_list_shows_the_current_sandbox_only(signed_in, app, credential):
    prod_id = receive(app, credential, sandbox="prod", Body="from prod")
    dev_id = receive(app, credential, sandbox="dev", Body="from dev")
    callback(app, credential, new_sid("SM"), "delivered", sandbox="dev")
    page = text(signed_in.get("/events"))
    assert event_rows(page) == [f"event-inbound-{prod_id}"]
    assert "sandbox prod" in page

    switch_sandbox(signed_in, app, "dev")
    page = text(signed_in.get("/events"))
    assert f"event-inbound-{dev_id}" in page and f"event-inbound-{prod_id}" not in page
    assert "from prod" not in page and len(event_rows(page)) == 2


def test_an_empty_sandbox_says_so(signed_in, app, credential):
    page = text(signed_in.get("/events"))
    assert 'id="no-events"' in page and "No events in sandbox prod yet." in page
    assert event_rows(page) == []


# --- filters ----------------------------------------------------------------------------

@pytest.fixture
def mixed(app, fake_twilio, credential):
    """Two credentials' events: inbound from two numbers, and callbacks of two messages."""
    other = make_credential(app, fake_twilio, "Backup", numbers={"prod": "+14155550103"}, account_sid="AC" + "1" * 32)
    ids = {
        "main_in": receive(app, credential, at=T0, From="+886912345678", Body="hi from Taipei"),
        "other_in": receive(app, other, at=T0 + datetime.timedelta(seconds=1), From="+14155550199",
                            To="+14155550103", Body="hi from SF"),
    }
    ids["main_sid"], ids["other_sid"] = new_sid("SM"), new_sid("SM")
    callback(app, credential, ids["main_sid"], "sent", at=T0 + datetime.timedelta(seconds=2), to="+886911111111")
    callback(app, credential, ids["main_sid"], "delivered", at=T0 + datetime.timedelta(seconds=3), to="+886911111111")
    callback(app, other, ids["other_sid"], "failed", at=T0 + datetime.timedelta(seconds=4), error_code="30007",
             to="+14155550177")
    ids["main_sent"] = status_event_id(app, ids["main_sid"], "sent")
    ids["main_delivered"] = status_event_id(app, ids["main_sid"], "delivered")
    ids["other_failed"] = status_event_id(app, ids["other_sid"], "failed")
    ids["other"] = other
    return ids


def test_filter_by_credential(signed_in, credential, mixed):
    page = text(signed_in.get(f"/events?credential={mixed['other']}"))
    assert event_rows(page) == [f"event-status-{mixed['other_failed']}", f"event-inbound-{mixed['other_in']}"]
    assert f'<option value="{mixed["other"]}" selected>Backup</option>' in page
    assert f'<option value="{credential}" >Main Twilio</option>' in page


def test_filter_by_type(signed_in, mixed):
    inbound = text(signed_in.get("/events?type=inbound"))
    assert event_rows(inbound) == [f"event-inbound-{mixed['other_in']}", f"event-inbound-{mixed['main_in']}"]
    status = text(signed_in.get("/events?type=status"))
    assert event_rows(status) == [f"event-status-{mixed['other_failed']}", f"event-status-{mixed['main_delivered']}",
                                  f"event-status-{mixed['main_sent']}"]
    assert len(event_rows(text(signed_in.get("/events?type=bogus")))) == 5  # an unknown type filters nothing


def test_filter_by_status(signed_in, mixed):
    page = text(signed_in.get("/events?status=delivered"))
    assert event_rows(page) == [f"event-status-{mixed['main_delivered']}"]
    assert '<option value="delivered" selected>Delivered</option>' in page
    assert event_rows(text(signed_in.get("/events?status=delivered&type=inbound"))) == []
    assert "No events match these filters." in text(signed_in.get("/events?status=canceled"))


def test_filter_by_number_ignores_punctuation_and_matches_either_end(signed_in, mixed):
    # Sender of an inbound message, typed the way people write numbers.
    assert event_rows(text(signed_in.get("/events?number=%2B886 912-345-678"))) == [
        f"event-inbound-{mixed['main_in']}"]
    # A recipient (our number) matches every inbound message sent to it.
    assert event_rows(text(signed_in.get("/events?number=(415) 555-0103"))) == [f"event-inbound-{mixed['other_in']}"]
    # Part of a number; status callbacks match by the number their message went to.
    assert event_rows(text(signed_in.get("/events?number=911111111"))) == [
        f"event-status-{mixed['main_delivered']}", f"event-status-{mixed['main_sent']}"]
    assert event_rows(text(signed_in.get("/events?number=0177&type=status"))) == [
        f"event-status-{mixed['other_failed']}"]
    page = text(signed_in.get("/events?number=999999"))
    assert event_rows(page) == [] and 'value="999999"' in page


def test_filters_combine(signed_in, mixed):
    page = text(signed_in.get(f"/events?credential={mixed['other']}&type=status&status=failed&number=555"))
    assert event_rows(page) == [f"event-status-{mixed['other_failed']}"]


def test_the_filter_form_swaps_the_table_for_htmx_and_pushes_a_clean_url(signed_in, mixed):
    response = signed_in.htmx_get("/events?credential=&type=inbound&status=&number=")
    page = text(response)
    assert response.status_code == 200
    assert "<html" not in page and page.lstrip().startswith('<section id="events">')
    assert response.headers["HX-Push-Url"] == "/events?type=inbound"
    assert event_rows(page) == [f"event-inbound-{mixed['other_in']}", f"event-inbound-{mixed['main_in']}"]
    # The poller in the swapped table keeps the filters.
    assert "type=inbound" in poller_url(page)


# --- pages ------------------------------------------------------------------------------

def test_pages_of_fifty_newest_first_without_gaps_or_repeats(signed_in, app, credential):
    total = 2 * PAGE_SIZE + 20
    for i in range(total):
        at = T0 + datetime.timedelta(seconds=i)
        if i % 3:
            receive(app, credential, at=at, Body=f"message {i}")
        else:
            callback(app, credential, new_sid("SM"), "delivered", at=at)
    seen = []
    for page_number in (1, 2, 3):
        page = text(signed_in.get(f"/events?page={page_number}" if page_number > 1 else "/events"))
        rows = event_rows(page)
        assert len(rows) == (PAGE_SIZE if page_number < 3 else 20)
        assert (f'href="/events?page={page_number + 1}"' in page) == (page_number < 3)
        assert ("events-poller" in page) == (page_number == 1)  # only the newest page is live
        seen += rows
    assert len(set(seen)) == total
    first = text(signed_in.get("/events"))
    assert f"message {total - 1}" in first and "message 1<" not in first
    last = text(signed_in.get("/events?page=3"))
    assert "message 1<" in last and 'href="/events?page=2">Newer' in last
    assert "No older events." in text(signed_in.get("/events?page=9"))
    assert signed_in.get("/events?page=1001").status_code == 404
    assert signed_in.get("/events?page=99999999999999999999").status_code == 404


def test_pages_keep_the_filters(signed_in, app, credential):
    for i in range(PAGE_SIZE + 1):
        receive(app, credential, at=T0 + datetime.timedelta(seconds=i))
    page = text(signed_in.get("/events?type=inbound"))
    assert 'href="/events?page=2&amp;type=inbound"' in page


# --- live: the poll for new events --------------------------------------------------------

def test_nothing_new_is_a_204(signed_in, app, credential):
    receive(app, credential)
    url = poller_url(text(signed_in.get("/events")))
    response = signed_in.htmx_get(url)
    assert response.status_code == 204 and response.get_data() == b""


def test_the_poll_returns_only_newer_rows_and_a_poller_moved_past_them(signed_in, app, credential):
    old_id = receive(app, credential, Body="old")
    old_sid = new_sid("SM")
    callback(app, credential, old_sid, "sent")
    url = poller_url(text(signed_in.get("/events")))

    new_id = receive(app, credential, Body="new one")
    new_message = new_sid("SM")
    callback(app, credential, new_message, "queued")
    response = signed_in.htmx_get(url)
    page = text(response)
    assert response.status_code == 200 and "<html" not in page
    status_id = status_event_id(app, new_message, "queued")
    assert sorted(event_rows(page)) == sorted([f"event-inbound-{new_id}", f"event-status-{status_id}"])
    assert f"event-inbound-{old_id}" not in page and "old" not in page
    assert page.lstrip().startswith('<tr id="events-poller"')  # the poller stays on top, then the rows
    assert 'hx-swap-oob="delete"' not in page  # the page had rows: there is no empty-state row to remove
    assert 'id="flashes"' not in page  # a poll never clears the page's messages
    moved = poller_url(page)
    assert moved != url
    # Asked again with the moved cursor: nothing new.
    assert signed_in.htmx_get(moved).status_code == 204
    # And the old cursor still answers with the same rows (a poll lost on the way is harmless).
    assert sorted(event_rows(text(signed_in.get(url, headers={"HX-Request": "true"})))) == sorted(
        event_rows(page))


def test_the_poll_applies_the_page_filters(signed_in, app, credential):
    url = poller_url(text(signed_in.get("/events?type=status")))
    receive(app, credential)
    assert signed_in.htmx_get(url).status_code == 204
    sid = new_sid("SM")
    callback(app, credential, sid, "delivered")
    assert event_rows(text(signed_in.htmx_get(url))) == [f"event-status-{status_event_id(app, sid, 'delivered')}"]


def test_the_first_event_on_an_empty_page_removes_the_empty_message(signed_in, app, credential):
    url = poller_url(text(signed_in.get("/events")))
    receive(app, credential)
    page = text(signed_in.htmx_get(url))
    assert '<tr id="no-events" hx-swap-oob="delete"></tr>' in page


def test_a_burst_larger_than_a_page_says_there_is_more(signed_in, app, credential):
    url = poller_url(text(signed_in.get("/events")))
    for i in range(PAGE_SIZE + 3):
        receive(app, credential, at=T0 + datetime.timedelta(seconds=i))
    page = text(signed_in.htmx_get(url))
    assert len(event_rows(page)) == PAGE_SIZE
    assert "More events arrived than are shown here" in page
    assert signed_in.htmx_get(poller_url(page)).status_code == 204


def test_the_poll_stays_in_the_sandbox_of_its_page(signed_in, app, credential):
    url = poller_url(text(signed_in.get("/events")))
    switch_sandbox(signed_in, app, "dev")
    receive(app, credential, sandbox="dev")
    response = signed_in.htmx_get(url)
    assert response.status_code == 204 and response.headers["HX-Refresh"] == "true"


def test_a_bad_cursor_is_a_400_and_without_htmx_the_poll_is_the_page(signed_in, credential, in_app):
    with in_app():
        prod = sandbox_named("prod").id
    assert signed_in.htmx_get(f"/events/new?after=abc&sandbox={prod}").status_code == 400
    assert signed_in.htmx_get(f"/events/new?sandbox={prod}").status_code == 400
    response = signed_in.get(f"/events/new?after=1.1&sandbox={prod}&type=status")
    assert response.status_code == 303 and response.headers["Location"] == "/events?type=status"


# --- a message's status timeline ------------------------------------------------------------

def test_the_timeline_lists_callbacks_as_stored_with_duplicates_once_and_late_ones_marked(signed_in, app, credential):
    sid = new_sid("SM")
    assert callback(app, credential, sid, "queued", at=T0, to="+886911111111")
    assert callback(app, credential, sid, "delivered", at=T0 + datetime.timedelta(seconds=3))
    assert not callback(app, credential, sid, "delivered")  # Twilio sent it twice: stored once
    assert callback(app, credential, sid, "sent", at=T0 + datetime.timedelta(seconds=5))  # late

    page = text(signed_in.get(f"/events/messages/{sid}"))
    assert "<h1>Status timeline</h1>" in page
    assert "+886911111111" in page and "Main Twilio" in page
    current = re.search(r'class="current-status">(.*?)</td>', page, re.S).group(1)
    assert "delivered to the phone" in current and "<code>delivered</code>" in current
    items = re.findall(r"<li>(.*?)</li>", re.search(r'<ol class="status-timeline">(.*?)</ol>', page, re.S).group(1),
                       re.S)
    assert [re.search(r"<code>(\w+)</code>", item).group(1) for item in items] == ["queued", "delivered", "sent"]
    assert "arrived after a later status" in items[2]
    assert "arrived after a later status" not in items[0] + items[1]
    # Delivered is final: nothing more to wait for.
    assert "hx-trigger" not in re.search(r'<section id="message-timeline".*?>', page, re.S).group(0)
    assert "Waiting for more status callbacks" not in page


def test_the_timeline_polls_until_the_message_is_final(signed_in, app, credential):
    sid = new_sid("SM")
    callback(app, credential, sid, "sent", error_code=None)
    response = signed_in.htmx_get(f"/events/messages/{sid}", headers={"HX-Target": "message-timeline"})
    page = text(response)
    assert page.lstrip().startswith('<section id="message-timeline"') and "<html" not in page
    assert 'hx-trigger="every 2s"' in page and "Waiting for more status callbacks" in page
    poll = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert poll == f"/events/messages/{sid}?seen=1"
    # Nothing new: the shown timeline stays (204), and so does the focus in it.
    assert signed_in.htmx_get(poll, headers={"HX-Target": "message-timeline"}).status_code == 204
    assert not callback(app, credential, sid, "sent")  # a duplicate changes nothing either
    assert signed_in.htmx_get(poll, headers={"HX-Target": "message-timeline"}).status_code == 204

    callback(app, credential, sid, "undelivered", error_code="30005")
    page = text(signed_in.htmx_get(poll, headers={"HX-Target": "message-timeline"}))
    assert "hx-trigger" not in page and "error 30005" in page


def test_the_timeline_expands_in_the_table_as_the_row_it_replaces(signed_in, app, credential):
    sid = new_sid("SM")
    callback(app, credential, sid, "sending")
    row_id = f"timeline-status-{status_event_id(app, sid, 'sending')}"
    page = text(signed_in.get("/events"))
    assert f'<tr id="{row_id}" class="timeline" hidden></tr>' in page
    assert f'hx-target="#{row_id}"' in page

    response = signed_in.htmx_get(f"/events/messages/{sid}", headers={"HX-Target": row_id})
    fragment = text(response)
    assert fragment.lstrip().startswith(f'<tr id="{row_id}" class="timeline"')
    assert 'hx-trigger="every 2s" data-poll-while-shown' in fragment  # app.js skips its polls while hidden
    assert "<code>sending</code>" in fragment and 'colspan="7"' in fragment
    # A target that isn't a timeline row gets the plain section.
    other = text(signed_in.htmx_get(f"/events/messages/{sid}", headers={"HX-Target": "x\" onmouseover=\"1"}))
    assert other.lstrip().startswith('<section id="message-timeline"') and "onmouseover" not in other


def test_a_message_sent_without_callbacks_yet(signed_in, credential, in_app):
    sid = new_sid("SM")
    with in_app():
        messages.record_sent(credential=credential, sandbox=sandbox_named("prod"), message_sid=sid,
                             to_number="+886922222222", status="accepted")
    page = text(signed_in.get(f"/events/messages/{sid}"))
    assert "No status callbacks for this message yet." in page and "+886922222222" in page
    assert 'hx-trigger="every 2s"' in page


def test_an_unknown_message_or_one_of_another_sandbox_is_a_404(signed_in, app, credential):
    assert signed_in.get(f"/events/messages/{new_sid('SM')}").status_code == 404
    dev_sid = new_sid("SM")
    callback(app, credential, dev_sid, "delivered", sandbox="dev")
    assert signed_in.get(f"/events/messages/{dev_sid}").status_code == 404
    switch_sandbox(signed_in, app, "dev")
    assert signed_in.get(f"/events/messages/{dev_sid}").status_code == 200


# --- Waiting for the first event ------------------------------------------------------------

def test_the_waiting_panel_polls_until_the_first_signed_event(signed_in, app, credential):
    response = signed_in.htmx_get(f"/events/waiting?credential={credential}")
    panel = text(response)
    assert response.status_code == 200 and "<html" not in panel
    assert "Waiting for the first event from Twilio…" in panel
    assert 'hx-trigger="every 2s"' in panel and 'hx-swap="outerHTML"' in panel
    assert f'hx-get="/events/waiting?credential={credential}"' in panel

    # The panel asking again while nothing came: 204, it stays as it is.
    poll = {"HX-Trigger": f"waiting-{credential}"}
    assert signed_in.htmx_get(f"/events/waiting?credential={credential}", headers=poll).status_code == 204

    # Accepted unsigned (log-only mode) doesn't count: Twilio's signature is what proves the setup.
    receive(app, credential, signed=False)
    callback(app, credential, new_sid("SM"), "delivered", signed=False)
    assert signed_in.htmx_get(f"/events/waiting?credential={credential}", headers=poll).status_code == 204
    assert "Waiting for the first event from Twilio…" in text(
        signed_in.htmx_get(f"/events/waiting?credential={credential}"))

    sid = new_sid("SM")
    callback(app, credential, sid, "sent", at=T0 + datetime.timedelta(seconds=30))
    receive(app, credential, at=T0 + datetime.timedelta(minutes=5))
    panel = text(signed_in.htmx_get(f"/events/waiting?credential={credential}", headers=poll))
    assert "First event received at Mar 1, 2025, 12:00:30" in panel and "status callback (Sent)" in panel
    assert "flash-success" in panel and "hx-trigger" not in panel and "Waiting for" not in panel


def test_the_waiting_panel_names_an_inbound_first_event(signed_in, app, credential, fake_twilio):
    other = make_credential(app, fake_twilio, "Other", numbers={"prod": "+14155550103"}, account_sid="AC" + "2" * 32)
    receive(app, other, at=T0)  # another credential's event doesn't count either
    receive(app, credential, at=T0 + datetime.timedelta(seconds=1), From="+886955555555")
    panel = text(signed_in.htmx_get(f"/events/waiting?credential={credential}"))
    assert "First event received at Mar 1, 2025, 12:00:01" in panel
    assert "PM: inbound message from +886955555555" in panel


def test_the_waiting_panel_is_a_page_without_javascript(signed_in, app, credential):
    page = text(signed_in.get(f"/events/waiting?credential={credential}"))
    assert "<h1>Waiting for the first event</h1>" in page and "<html" in page
    assert f'<a href="/events/waiting?credential={credential}">Check again</a>' in page
    assert signed_in.get("/events/waiting?credential=999").status_code == 404
    assert signed_in.get("/events/waiting").status_code == 404


def test_other_pages_include_the_waiting_panel_with_waiting_state(app, credential):
    from wizard.core.models import ApiCredential

    with app.test_request_context("/credentials"), database.connection_context():
        panel = render_template_string('{% include "events/_waiting.html" %}',
                                       credential=ApiCredential.get_by_id(credential), **waiting_state(credential))
    assert "Waiting for the first event from Twilio…" in panel and "Main Twilio" in panel
    assert '<a href="/credentials">Check again</a>' in panel


def test_csrf_stays_on_for_the_client(app, admin):
    # The page's forms are GET only; a POST to it is not a route.
    client = BrowserLikeClient(app.test_client())
    client.get("/login")
    client.post("/login", {"email": admin, "password": "correct horse battery"})
    assert client.post("/events", {}).status_code == 405
