"""Practice with many processes on one database: two gunicorn instances of the app share the
simulated Twilio, and a message moves on when the instance that sent it is killed."""
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest

from tests.support.app import ENCRYPTION_KEY, create_admin
from tests.support.cluster import Instance, signed_in_over_http, start_side_by_side
from tests.support.factories import make_credential
from tests.support.html import text
from tests.support.practice import practice_sandbox
from wizard.core.db import database
from wizard.core.models import CredentialNumber, PracticeStatusChange, StatusEvent
from wizard.providers.twilio.practice_store import DatabaseStore
from wizard.providers.twilio.simulator import DEMO_ACCOUNT, DEMO_SERVICES, PREVIOUS_WEBHOOKS, practice_seed

PUBLIC_BASE_URL = "http://setup.example"  # one address for both instances, as behind a proxy


@pytest.fixture
def instances(app, migrated_url, tmp_path):
    """Two instances of the app, each with its own instance folder, on the test's database."""
    settings = {"DATABASE_URL": migrated_url, "SECRET_KEY": "one-secret-for-both", "ENCRYPTION_KEYS": ENCRYPTION_KEY,
                "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_BASE_URL": ""}
    started = [Instance(f"instance {n}", tmp_path / f"instance-{n}", settings) for n in (1, 2)]
    try:
        start_side_by_side(started)
        yield started
    finally:
        for instance in started:
            instance.stop()


@pytest.fixture
def practice_number(app, fake_twilio):
    """The demo account's credential in two practice sandboxes (a reset of one keeps it); its numbers' ids."""
    create_admin(app)
    sandboxes = [practice_sandbox(app, name) for name in ("practice", "practice 2")]
    credential = make_credential(app, fake_twilio, name="Demo Twilio",
                                 numbers={"practice": DEMO_SERVICES[0].numbers[0],
                                          "practice 2": DEMO_SERVICES[0].numbers[1]},
                                 account_sid=DEMO_ACCOUNT.sid, auth_token=DEMO_ACCOUNT.auth_token,
                                 messaging_service_sid=DEMO_SERVICES[0].sid)
    with app.app_context(), database.connection_context():
        numbers = [CredentialNumber.get(CredentialNumber.credential == credential, CredentialNumber.sandbox == s).id
                   for s in sandboxes]
    return credential, sandboxes, numbers


def in_sandbox(browser, sandbox_id):
    browser.get("/sandboxes")
    assert browser.post("/sandboxes/current", {"sandbox": sandbox_id, "next": "/sandboxes"}).status_code == 303
    return browser


def test_applied_webhooks_and_a_reset_are_seen_by_every_instance(instances, practice_number):
    credential, (practice, practice_2), (number, number_2) = practice_number
    first, second = (in_sandbox(signed_in_over_http(i.url), practice) for i in instances)
    assert PREVIOUS_WEBHOOKS[0] in text(second.get(f"/webhooks/twilio/{number}/apply"))

    first.get(f"/webhooks/twilio/{number}/apply")
    assert first.post(f"/webhooks/twilio/{number}/apply").status_code == 303
    assert "Twilio already uses these URLs." in text(second.get(f"/webhooks/twilio/{number}/apply"))

    second.get(f"/practice/{practice}/reset")
    assert second.post(f"/practice/{practice}/reset").status_code == 303
    page = text(in_sandbox(first, practice_2).get(f"/webhooks/twilio/{number_2}/apply"))
    assert PREVIOUS_WEBHOOKS[0] in page and PREVIOUS_WEBHOOKS[1] in page  # the simulator is back to its seed


def test_a_message_is_delivered_when_the_instance_that_sent_it_is_killed(app, instances, practice_number):
    credential, (practice, _practice_2), _numbers = practice_number
    first, second = (in_sandbox(signed_in_over_http(i.url), practice) for i in instances)
    first.get(f"/credentials/{credential}/verify")
    response = first.post(f"/credentials/{credential}/verify", {"number": "+12025550123", "message": "Hi"})
    assert response.status_code == 303, text(response)
    instances[0].kill()
    status_page = response.headers["Location"]
    sid = status_page.rsplit("/", 1)[1]
    with app.app_context(), database.connection_context():
        due = {c.status: c.due_at for c in PracticeStatusChange.select().where(PracticeStatusChange.message_sid == sid)}

    def stored():
        with app.app_context(), database.connection_context():
            return list(StatusEvent.select().where(StatusEvent.message_sid == sid).order_by(StatusEvent.id))

    deadline = time.monotonic() + 20
    while len(events := stored()) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [e.status for e in events] == ["queued", "sent", "delivered"]  # the callbacks, each stored
    assert all(e.signed and e.sandbox_id == practice for e in events)
    assert "delivered to the phone" in text(second.get(status_page))
    # A figure for people (README), never asserted: how long after its due time each status was stored.
    late = {e.status: e.received_at.replace(tzinfo=UTC).timestamp() - due[e.status] for e in events if e.status in due}
    print("\nstored after its due time, sender killed: "
          + ", ".join(f"{status} {late[status] * 1000:.0f} ms" for status in ("queued", "sent", "delivered")))


def test_each_due_status_change_is_claimed_once_and_taken_again_when_its_lease_runs_out(app):
    store = DatabaseStore(practice_seed)
    with app.app_context(), store.world() as world:
        assert store.schedule([(f"SM{n}", "queued", 100.0 + n) for n in range(60)] + [("SM0", "sent", 500.0)],
                              world.generation)

    claimed = []  # four processes' clocks claiming at once
    with ThreadPoolExecutor(4) as pool:
        for changes in pool.map(lambda _: store.claim_due(200.0, lease=10), range(4)):
            claimed.extend(changes)
    assert sorted(c.message_sid for c in claimed) == sorted(f"SM{n}" for n in range(60))  # each once
    assert store.claim_due(205.0, lease=10) == [] and store.next_due(205.0) == 500.0

    for change in claimed[1:]:
        store.done(change)
    dead, = store.claim_due(211.0, lease=10)  # its claimer died mid-delivery: taken again after the lease
    assert (dead.message_sid, dead.status) == (claimed[0].message_sid, "queued") and dead.claim != claimed[0].claim
    store.done(claimed[0])  # the first claimer, late: the new claim stands
    assert store.pending() == 2
    store.done(dead)
    assert store.pending() == 1
