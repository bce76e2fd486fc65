"""Two instances of the app (gunicorn, the production command) on one database, behind nginx's
round robin with no sticky sessions (tests/support/cluster.py): signed status callbacks spread
over both and stored once, the Events page of one instance shows live what the other received,
sign-in and the guided SMS flow work when each request lands on the other instance, and killing
one instance with kill -9 during a burst of callbacks loses none that was acknowledged.

One cluster serves the whole module (starting it costs a second or two); the kill comes last."""
import itertools
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from app import create_app
from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, ENCRYPTION_KEY, BrowserLikeClient, create_admin
from tests.support.browser import assert_not_reloaded, close_checked, mark_page, new_page, sign_in
from tests.support.cluster import Cluster, HttpTestClient, signed_in_over_http
from tests.support.database import open_test_database
from tests.support.factories import make_credential
from tests.support.fake_twilio import FakeTwilio, new_sid
from tests.support.guided import step_url, walk_to
from tests.support.html import text
from tests.support.practice import demo_sms_flow, practice_sandbox
from wizard.core.db import database
from wizard.core.models import CredentialNumber

LIVE_TIMEOUT = 8_000  # the Events page polls every 2 seconds: a few polls


@pytest.fixture(scope="module")
def twilio():
    """A fake Twilio for the module: real sandboxes' credentials reach it through TWILIO_BASE_URL."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="module")
def cluster(databases, tmp_path_factory, twilio):
    """Two instances on this module's database (a copy of the session's migrated template), behind
    nginx, with an admin and a verified Twilio credential whose number reports to them."""
    folder = tmp_path_factory.mktemp("cluster")
    url = databases.create(folder, migrated=True)
    # This process's app writes the rows the instances read; the same key encrypts the Auth Token.
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "unused", "ENCRYPTION_KEYS": ENCRYPTION_KEY,
                      "TWILIO_BASE_URL": twilio.base_url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})
    create_admin(app)
    credential = make_credential(app, twilio, numbers={"prod": twilio.second_service_numbers[0]})
    with app.app_context(), database.connection_context():
        key = CredentialNumber.get(CredentialNumber.credential == credential).webhook_key
    try:
        with Cluster(folder, url, {"ENCRYPTION_KEYS": ENCRYPTION_KEY, "TWILIO_BASE_URL": twilio.base_url}) as running:
            running.app = app
            running.database_url = url
            running.status_path = f"/hooks/twilio/{key}/status"
            yield running
    finally:
        database.obj.close_all()  # before the drop: PostgreSQL won't drop a database in use
        databases.drop(url)


def post_callback(cluster, twilio, sid, status="delivered", to=None, session=requests):
    """A status callback signed as Twilio signs it: over the public URL (nginx's), with the Auth Token.
    Sent to nginx, or straight to one instance (`to`)."""
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": twilio.account_sid,
              "From": twilio.second_service_numbers[0], "To": "+886912345678", "ApiVersion": "2010-04-01"}
    signature = RequestValidator(twilio.auth_token).compute_signature(cluster.url + cluster.status_path, params)
    return session.post((to or cluster).url + cluster.status_path, data=params,
                        headers={"X-Twilio-Signature": signature}, timeout=10)


def stored_callbacks(cluster) -> Counter:
    """How many times each MessageSid's status callback is stored, read straight from the database."""
    db = open_test_database(cluster.database_url)
    try:
        with db.connection_context():
            return Counter(sid for (sid,) in db.execute_sql("SELECT message_sid FROM status_event"))
    finally:
        db.close_all()


def served_by(served) -> list[str]:
    """The instance that answered each request (the last one nginx tried)."""
    return [request.instances[-1] for request in served]


def assert_alternated(cluster, served):
    instances = served_by(served)
    assert set(instances) == {instance.address for instance in cluster.instances}
    assert all(one != next_one for one, next_one in itertools.pairwise(instances)), instances


def test_signed_callbacks_through_nginx_are_spread_over_both_instances_and_stored_once(cluster, twilio):
    position = cluster.log_position()
    sids = [new_sid("SM") for _ in range(40)]
    with ThreadPoolExecutor(4) as pool, requests.Session() as session:
        answers = list(pool.map(lambda sid: post_callback(cluster, twilio, sid, session=session), sids))
    assert [answer.status_code for answer in answers] == [204] * len(sids)
    served = Counter(served_by(cluster.served_since(position, at_least=len(sids))))
    assert set(served) == {instance.address for instance in cluster.instances}, served
    assert all(count >= 10 for count in served.values()), served  # round robin: about half each
    stored = stored_callbacks(cluster)
    assert [stored[sid] for sid in sids] == [1] * len(sids)


def test_the_events_page_of_one_instance_shows_live_what_the_other_received(cluster, twilio, chromium):
    first, second = cluster.instances
    context, page = new_page(chromium, first, javascript=True)  # every request of this page goes to the first
    page.javascript = True
    try:
        sign_in(page)
        page.get_by_role("link", name="Events").click()
        expect(page.get_by_role("heading", name="Events")).to_be_visible()
        mark_page(page)
        sid = new_sid("SM")
        assert post_callback(cluster, twilio, sid, status="undelivered", to=second).status_code == 204
        row = page.locator("#event-rows tr.event", has_text=sid)
        expect(row).to_contain_text("undelivered", timeout=LIVE_TIMEOUT)
        expect(row).to_have_count(1)
        assert_not_reloaded(page)
    finally:
        close_checked(context)


def test_sign_in_and_its_attempt_count_hold_across_instances(cluster):
    client = BrowserLikeClient(HttpTestClient(cluster.url))
    position = cluster.log_position()
    client.get("/login")
    response = client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 303, text(response)  # the CSRF token and cookie of the other instance
    page = text(client.get(response.headers["Location"], follow_redirects=True))
    assert ADMIN_EMAIL in page  # the session, started by one instance, known to both
    assert_alternated(cluster, cluster.served_since(position, at_least=4))

    # Each client address gets 5 password checks, whichever instance counts them.
    stranger = BrowserLikeClient(HttpTestClient(cluster.url))
    try:
        for _ in range(5):
            response = stranger.post("/login", {"email": ADMIN_EMAIL, "password": "not the password"})
            assert response.status_code == 401, text(response)
        for _ in range(2):  # on both instances
            response = stranger.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            assert response.status_code == 429
            assert "Too many failed sign-ins from your address" in text(response)
    finally:
        # Every client of this module comes from 127.0.0.1: give it its checks back.
        db = open_test_database(cluster.database_url)
        with db.connection_context():
            db.execute_sql("DELETE FROM sign_in_attempts")
        db.close_all()


def test_the_guided_sms_flow_works_when_each_request_lands_on_the_other_instance(cluster, twilio):
    client = signed_in_over_http(cluster.url)
    position = cluster.log_position()
    first = walk_to(client, twilio, upto="review")  # every step's draft, saved by one instance, read by the other
    review = text(client.get(step_url(first, "review")))
    assert "Twilio prod" in review and twilio.account_name in review
    response = client.post(step_url(first, "review"))
    assert response.status_code == 303, text(response)
    done = text(client.get(response.headers["Location"]))
    assert "API credential Twilio prod created" in done
    credential_id = int(response.headers["Location"].rsplit("/", 1)[1])

    client.get(f"/credentials/{credential_id}/verify")
    response = client.post(f"/credentials/{credential_id}/verify", {"number": "+886912345678", "message": "Hi"})
    assert response.status_code == 303, text(response)
    for _ in cluster.instances:  # the test message's status, as each instance reads it from Twilio
        page = text(client.get(response.headers["Location"]))
        assert response.headers["Location"].rsplit("/", 1)[1] in page and "Twilio error" not in page
    assert_alternated(cluster, cluster.served_since(position, at_least=15))


def test_a_practice_setup_through_nginx_ends_with_a_delivered_test_message(cluster):
    sandbox_id = practice_sandbox(cluster.app, name="practice")
    # An admin of its own: the sandbox switch is kept on the admin's account too.
    create_admin(cluster.app, email="trainer@example.com")
    client = signed_in_over_http(cluster.url, email="trainer@example.com")
    client.get("/sandboxes")
    assert client.post("/sandboxes/current", {"sandbox": sandbox_id, "next": "/sandboxes"}).status_code == 303
    credential_id = demo_sms_flow(client, sandbox_id)
    client.get(f"/credentials/{credential_id}/verify")
    response = client.post(f"/credentials/{credential_id}/verify", {"number": "+12025550123", "message": "Hi"})
    assert response.status_code == 303, text(response)
    deadline = time.monotonic() + 15  # the simulator delivers within about three seconds
    while True:
        page = text(client.get(response.headers["Location"]))  # each time on the other instance
        assert "Twilio error" not in page, page[page.index("Twilio error"):][:200]
        if "delivered" in page or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "delivered" in page


def test_kill_9_of_one_instance_during_a_burst_loses_no_acknowledged_callback(cluster, twilio):
    """300 signed callbacks over about 2 seconds from 4 threads through nginx; halfway through, the
    second instance is killed. Every callback answered 2xx must be stored, once. (Last in the
    module: nginx then sends everything to the first instance.)"""
    total, threads, per_second = 300, 4, 150
    sids = [new_sid("SM") for _ in range(total)]
    answers: dict[str, int] = {}  # MessageSid -> HTTP status, or 0 for no answer at all
    halfway = threading.Event()
    start = time.monotonic()

    def send(thread: int):
        with requests.Session() as session:
            for index in range(thread, total, threads):
                time.sleep(max(0.0, start + index / per_second - time.monotonic()))  # paced: the burst lasts ~2 s
                try:
                    answers[sids[index]] = post_callback(cluster, twilio, sids[index], session=session).status_code
                except requests.RequestException:
                    answers[sids[index]] = 0
                if len(answers) >= total // 2:
                    halfway.set()

    senders = [threading.Thread(target=send, args=(thread,)) for thread in range(threads)]
    for sender in senders:
        sender.start()
    assert halfway.wait(30), "the burst did not get halfway"
    cluster.instances[1].kill()
    for sender in senders:
        sender.join(60)
    assert len(answers) == total

    acknowledged = [sid for sid, status in answers.items() if 200 <= status < 300]
    refused = Counter(status for status in answers.values() if not 200 <= status < 300)
    stored = stored_callbacks(cluster)
    print(f"\n{len(acknowledged)} of {total} callbacks acknowledged; refused: {dict(refused) or 'none'}; "
          f"stored: {sum(stored[sid] > 0 for sid in sids)}")
    assert [stored[sid] for sid in acknowledged] == [1] * len(acknowledged)
    assert all(stored[sid] <= 1 for sid in sids)  # one not acknowledged may be stored; never twice
