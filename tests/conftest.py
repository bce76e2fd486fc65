"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when DATABASE_URL says
so; migrated once per session, copied per test: tests/support/database.py), the app, a test
client that speaks CSRF like a browser, a live server, and a signed-in admin."""
import contextlib
import os

import pytest

from app import create_app
from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, ENCRYPTION_KEY, BrowserLikeClient, create_admin
from tests.support.browser import LiveServer
from tests.support.database import database_server
from wizard.core import db as wizard_db
from wizard.core.db import database
from wizard.providers import transport

pytest_plugins = ["tests.support.fake_twilio", "tests.support.provider_endpoints"]


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """This session's test databases; the migrated template is made on first use."""
    server = database_server(os.environ.get("DATABASE_URL", ""), tmp_path_factory.mktemp("databases"))
    yield server
    server.close()


@pytest.fixture
def opened_pools(monkeypatch):
    """Every connection pool the test opens (the app's, a second app's, a test's own)."""
    opened = []
    open_database = wizard_db.open_database

    def open_and_remember(url):
        db = open_database(url)
        opened.append(db)
        return db

    monkeypatch.setattr(wizard_db, "open_database", open_and_remember)
    return opened


def _database(databases, opened_pools, tmp_path, migrated):
    url = databases.create(tmp_path, migrated=migrated)
    yield url
    for db in opened_pools:
        db.close_all()  # before the drop: PostgreSQL won't drop a database in use
    databases.drop(url)


@pytest.fixture
def database_url(databases, opened_pools, tmp_path):
    """An empty database of the test's own."""
    yield from _database(databases, opened_pools, tmp_path, migrated=False)


@pytest.fixture
def migrated_url(databases, opened_pools, tmp_path):
    """A database of the test's own, as the migrations leave it (a copy of the session's template)."""
    yield from _database(databases, opened_pools, tmp_path, migrated=True)


@pytest.fixture
def config(migrated_url, tmp_path, fake_twilio):
    return {
        "TESTING": True,
        "DATABASE_URL": migrated_url,
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "PUBLIC_BASE_URL": "",
        "TWILIO_BASE_URL": fake_twilio.base_url,  # the real twilio client, answered on 127.0.0.1
        "ALLOW_PRIVATE_PROVIDER_URLS": True,  # test providers listen on 127.0.0.1
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",  # scrypt costs 0.2 s a hash: too dear for every sign-in
    }


@pytest.fixture
def app(config, tmp_path):
    app = create_app(config)
    app.instance_path = str(tmp_path / "instance")
    yield app
    started = app.extensions.get(transport.EXTENSION)
    if started is not None:  # a test used practice: its clock stops before the test's database goes
        started.stop()


@pytest.fixture
def in_app(app):
    """`with in_app():` runs its block in the app's context with a database connection open.

    A block, not the whole test: a test client request inside an app context already pushed
    would share that context (and its `g`) instead of getting its own, as in production.
    """
    @contextlib.contextmanager
    def entered():
        with app.app_context(), database.connection_context():
            yield

    return entered


@pytest.fixture
def live_server(app):
    """The app served on 127.0.0.1 in a thread, for Chromium and for tests that call it over HTTP."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def client(app):
    return BrowserLikeClient(app.test_client())


@pytest.fixture
def admin(app):
    create_admin(app)
    return ADMIN_EMAIL


@pytest.fixture
def signed_in(client, admin):
    client.get("/login")
    response = client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)
    client.get(response.headers["Location"], follow_redirects=True)  # as a browser would: a fresh CSRF token
    return client
