"""Signing in: the failure limit holds under concurrency, an unknown email costs a password check
like a known one, what was typed is never logged, the way back after sign-in stays on this site,
and the hint about TRUSTED_PROXIES."""
import logging
import re
import threading
from urllib.parse import quote

import pytest
import requests
import werkzeug.security

from app import create_app
from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, BrowserLikeClient, create_admin
from tests.support.browser import LiveServer


@pytest.fixture
def password_hashes(monkeypatch):
    """The methods of every password hash werkzeug computes (a check computes one), in order."""
    computed, lock = [], threading.Lock()
    real = werkzeug.security._hash_internal

    def counted(method, salt, password):
        with lock:
            computed.append(method)
        return real(method, salt, password)

    monkeypatch.setattr(werkzeug.security, "_hash_internal", counted)
    return computed


def test_concurrent_wrong_passwords_get_no_more_password_checks_than_the_limit(config, password_hashes):
    # A check as dear as a real one (the tests' single round would leave no time to race in).
    app = create_app({**config, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:100000"})
    create_admin(app)
    password_hashes.clear()
    with LiveServer(app) as live_server:
        statuses = wrong_passwords_at_once(live_server, attempts=40)
    assert sorted(statuses) == [401] * 5 + [429] * 35
    assert password_hashes == ["pbkdf2:sha256:100000"] * app.config["LOGIN_MAX_FAILURES"]


def wrong_passwords_at_once(live_server, attempts):
    """The statuses of `attempts` wrong passwords for the admin, sent all at once."""
    browsers = []
    for _ in range(attempts):  # each with its own session and CSRF token, read before the rush
        browser = requests.Session()
        page = browser.get(f"{live_server.url}/login", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        browsers.append((browser, token))
    start, statuses = threading.Barrier(attempts), []

    def attempt(browser, token):
        start.wait(timeout=30)
        response = browser.post(f"{live_server.url}/login", timeout=60, allow_redirects=False,
                                data={"email": ADMIN_EMAIL, "password": "wrong password!", "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return statuses


def test_an_unknown_email_costs_a_password_check_with_the_configured_method(client, admin, password_hashes):
    client.get("/login")
    client.post("/login", {"email": "nobody@example.com", "password": "wrong password!"})  # first: makes the dummy
    password_hashes.clear()
    response = client.post("/login", {"email": "nobody@example.com", "password": "wrong password!"})
    assert response.status_code == 401
    assert password_hashes == ["pbkdf2:sha256:1"]
    password_hashes.clear()
    response = client.post("/login", {"email": ADMIN_EMAIL, "password": "wrong password!"})
    assert response.status_code == 401
    assert password_hashes == ["pbkdf2:sha256:1"]


def test_nothing_typed_into_the_email_field_is_logged(client, admin, caplog):
    # What a running app logs: INFO and up, of every logger (DEBUG has peewee's every query).
    caplog.set_level(logging.INFO)
    client.get("/login")
    typed = ["Hunter2-my-real-password", ADMIN_EMAIL, "someone.else@example.com"]
    for email in typed:
        assert client.post("/login", {"email": email, "password": "wrong password!"}).status_code == 401
    assert client.post("/login", {"email": "Last-Try-Secret", "password": "x"}).status_code == 401
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == ["failed sign-in from 127.0.0.1"] * 4
    logged = caplog.text + " ".join(repr(record.args) for record in caplog.records)
    for email in [*typed, "Last-Try-Secret"]:
        assert email.lower() not in logged.lower()


def post_login(client, next_value):
    client.get("/login")
    return client.post(f"/login?next={quote(next_value, safe='')}", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})


# Browsers drop tabs and newlines anywhere in a URL, strip leading and trailing spaces and
# control characters, and read a backslash as a slash: each of these would leave the site.
OFF_SITE = [
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example", " //evil.example",
    "\x00//evil.example", "//evil.example", "///evil.example", "/\\evil.example", "\\/evil.example",
    "\\\\evil.example", "https://evil.example/", "http:evil.example", "javascript:alert(1)",
    "evil.example", "", "/\x0b/evil.example", "/\x7f/evil.example",
]


@pytest.mark.parametrize("next_value", OFF_SITE)
def test_sign_in_never_returns_off_site(client, admin, next_value):
    response = post_login(client, next_value)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("next_value, location", [
    ("/sandboxes", "/sandboxes"),
    ("/events?type=inbound&page=2", "/events?type=inbound&page=2"),
    ("/%09/evil.example", "/%09/evil.example"),  # a path on this site, not a tab
    ("/sandboxes#top", "/sandboxes#top"),
    ("/沙箱 x", "/%E6%B2%99%E7%AE%B1%20x"),
    ("  /sandboxes\t", "/sandboxes"),
])
def test_sign_in_returns_to_a_path_on_this_site_as_the_browser_would_read_it(client, admin, next_value, location):
    response = post_login(client, next_value)
    assert response.status_code == 303
    assert response.headers["Location"] == location


@pytest.mark.parametrize("next_value", OFF_SITE)
def test_the_sandbox_and_language_switches_never_return_off_site(signed_in, next_value):
    signed_in.get("/sandboxes")
    response = signed_in.post("/sandboxes/current", {"sandbox": "1", "next": next_value})
    assert response.headers["Location"] == "/"
    response = signed_in.post("/language", {"language": "en", "next": next_value})
    assert response.headers["Location"] == "/"


def test_the_switches_return_to_the_page_they_were_on(signed_in):
    signed_in.get("/sandboxes")
    response = signed_in.post("/sandboxes/current", {"sandbox": "1", "next": "/events?type=inbound"})
    assert response.headers["Location"] == "/events?type=inbound"
    response = signed_in.post("/language", {"language": "en", "next": "/channels"}, htmx=True)
    assert response.headers["HX-Redirect"] == "/channels"


def test_a_sign_in_that_did_not_come_through_the_trusted_proxy_is_logged_with_a_hint(config, admin, caplog):
    app = create_app({**config, "TRUSTED_PROXIES": 1})
    client = BrowserLikeClient(app.test_client())
    client.get("/login")
    caplog.set_level(logging.WARNING)
    response = client.post("/login", {"email": ADMIN_EMAIL, "password": "wrong password!"},
                           headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.status_code == 401
    assert [record.getMessage() for record in caplog.records] == ["failed sign-in from 203.0.113.7"]
    caplog.clear()
    for _ in range(2):  # said once a process, not at every sign-in
        assert client.post("/login", {"email": ADMIN_EMAIL, "password": "wrong password!"}).status_code == 401
    assert [record.getMessage() for record in caplog.records] == [
        "TRUSTED_PROXIES=1, but a sign-in from 127.0.0.1 came without X-Forwarded-For: the sign-in limit "
        "keys on the forwarded address, so gunicorn must be reachable only through the proxy "
        "(bind it to 127.0.0.1 or a private socket).",
        "failed sign-in from 127.0.0.1",
        "failed sign-in from 127.0.0.1",
    ]
